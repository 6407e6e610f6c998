import * as z from '../../../zod.js';
import { headerSafe } from '../fields.js';
import { rotationDigest } from '../marker.js';

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
    .check(z.startsWith('re_', { error: 'must be a Resend API key (starting with re_)' }), headerSafe()),
  /** Resend's id of `api_key` (sent in URLs); absent until this product has issued the key. */
  api_key_id: z.optional(
    z
      .string({ error: 'must be a string' })
      .check(z.minLength(1, { error: 'must not be empty' }), headerSafe()),
  ),
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
 * The tag of one rotation of one secret, carried in the names of the keys it creates: 12 hex
 * digits of the SHA-256 of the secret's ARN and the rotation's token (Resend caps names at 50
 * characters). Another secret rotated with the same token gets another tag, so a name
 * carrying this tag proves the key is this secret's, made by this rotation.
 */
export function rotationTag(secretArn: string, token: string): string {
  return rotationDigest(secretArn, token, 12);
}

/** The marker that ends the name of a key created by this rotation of this secret: `(rotation <tag>)`. */
export function rotationMarker(secretArn: string, token: string): string {
  return `(rotation ${rotationTag(secretArn, token)})`;
}

/**
 * The name of the key a rotation creates: `<base> (rotation <tag>)`, where `base` loses an
 * earlier rotation's suffix and is shortened so that the name fits Resend's 50 characters.
 */
export function resendKeyName(baseName: string, secretArn: string, token: string): string {
  const suffix = ` ${rotationMarker(secretArn, token)}`;
  const base = baseName
    .replace(/\s*\(rotation [^()]*\)\s*$/, '')
    .trim()
    .slice(0, Math.max(0, RESEND_KEY_NAME_MAX - suffix.length))
    .trimEnd();
  return `${base}${suffix}`.trim();
}

/** True when the key named `name` carries the marker of this rotation of this secret. */
export function isMarkedBy(name: string | null | undefined, secretArn: string, token: string): boolean {
  return (name ?? '').endsWith(rotationMarker(secretArn, token));
}
