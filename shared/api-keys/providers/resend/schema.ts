import { createHash } from 'node:crypto';
import * as z from '../../../zod.js';

/** Resend's API-key permissions: `sending_access` keys may only send email. */
export const RESEND_PERMISSIONS = ['full_access', 'sending_access'] as const;

/** One of {@link RESEND_PERMISSIONS}. */
export type ResendPermission = (typeof RESEND_PERMISSIONS)[number];

/** Resend refuses API-key names longer than this. */
export const RESEND_KEY_NAME_MAX = 50;

const optionalText = () =>
  z.optional(
    z.string({ error: 'must be a string' }).check(z.trim(), z.minLength(1, { error: 'must not be empty' })),
  );

/**
 * Validates a Resend secret. Unknown fields (`rotated_at`, …) are carried over. Every issue
 * message is about the field at the path, never its value.
 */
export const resendSecretSchema = z.looseObject({
  /** The Resend API key (`re_…`). */
  api_key: z
    .requiredString()
    .check(z.startsWith('re_', { error: 'must be a Resend API key (starting with re_)' })),
  /** Resend's id of `api_key`; absent until this product has issued the key. */
  api_key_id: optionalText(),
  /** The key's name at Resend. */
  api_key_name: optionalText(),
  /** What `api_key` may do; `full_access` when absent. */
  permission: z._default(
    z.enum(RESEND_PERMISSIONS, { error: `must be one of ${RESEND_PERMISSIONS.join(', ')}` }),
    'full_access',
  ),
  /** The domain a `sending_access` key is restricted to. */
  domain_id: optionalText(),
  /** Name or ARN of another secret whose `api_key` is a full-access key, to manage a `sending_access` key. */
  admin_secret_id: optionalText(),
});

/** The typed view of a Resend secret (see {@link resendSecretSchema}). */
export type ResendSecret = z.infer<typeof resendSecretSchema>;

/**
 * A short, deterministic tag of a rotation's token, carried in the names of the keys it
 * creates. Resend caps names at 50 characters, too short for a whole token: a UUID token
 * (what Secrets Manager generates) gives its first 12 hex digits, so a person can match the
 * key to the version id; any other token gives 12 hex digits of its SHA-256.
 */
export function rotationTag(token: string): string {
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-/i.test(token)) return token.replace(/-/g, '').slice(0, 12).toLowerCase();
  return createHash('sha256').update(token).digest('hex').slice(0, 12);
}

/** The marker that names a key as created by the rotation with this token: `(rotation <tag>)`. */
export function rotationMarker(token: string): string {
  return `(rotation ${rotationTag(token)})`;
}

/**
 * The name of the key a rotation creates: `<base> (rotation <tag>)`, where `base` loses an
 * earlier rotation's suffix and is shortened so that the name fits Resend's 50 characters.
 */
export function resendKeyName(baseName: string, token: string): string {
  const suffix = ` ${rotationMarker(token)}`;
  const base = baseName
    .replace(/\s*\(rotation [^()]*\)\s*$/, '')
    .trim()
    .slice(0, Math.max(0, RESEND_KEY_NAME_MAX - suffix.length))
    .trimEnd();
  return `${base}${suffix}`.trim();
}
