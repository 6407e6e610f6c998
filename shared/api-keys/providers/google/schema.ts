import { createHash } from 'node:crypto';
import * as z from '../../../zod.js';
import { GOOGLE_PROJECT } from './service-account.js';

/** An API key's resource name: `projects/<project>/locations/global/keys/<key id>`. */
export const KEY_NAME = /^projects\/[a-z0-9.:-]+\/locations\/global\/keys\/[a-z0-9-]{1,63}$/;

/**
 * Validates a Google secret (the seed's `production/api-keys/google` shape plus the fields
 * rotation needs). Unknown fields are carried over; messages name fields, never values.
 */
export const googleSecretSchema = z.looseObject({
  /** The Safe Browsing API key (`AIza…`). */
  safe_browsing_api_key: z.requiredString().check(z.minLength(1, { error: 'is required' })),
  /** The key's resource name; absent until the first rotation. */
  safe_browsing_api_key_id: z.optional(
    z.string().check(
      z.regex(KEY_NAME, {
        error: 'must be a key resource name projects/<project>/locations/global/keys/<id>',
      }),
    ),
  ),
  /** The reCAPTCHA secret key (`6L…`), rotated from a staged value. */
  recaptcha_secret_key: z.requiredString().check(z.minLength(1, { error: 'is required' })),
  /** Name or ARN of the secret holding the service-account JSON key that manages API keys. */
  service_account_secret_id: z.optional(
    z.string().check(z.trim(), z.minLength(1, { error: 'must not be empty' })),
  ),
  /** The project keys are created in; defaults to the service account's `project_id`. */
  google_project: z.optional(
    z.string().check(z.regex(GOOGLE_PROJECT, { error: 'must be a Google Cloud project id or number' })),
  ),
});

/** The typed view of a Google secret. */
export type GoogleSecret = z.infer<typeof googleSecretSchema>;

/**
 * The id of the Safe Browsing key a rotation creates, derived from its token: a retry of
 * the same rotation asks for the same id, gets 409 ALREADY_EXISTS and reuses the key.
 * `sb-` and 24 characters of the token (or of its SHA-256 when it has too few letters and
 * digits): lowercase letters, digits and hyphens, as the API requires, and not UUID-like.
 */
export function safeBrowsingKeyId(token: string): string {
  const compact = token.toLowerCase().replace(/[^a-z0-9]/g, '');
  const part =
    compact.length >= 24
      ? compact.slice(0, 24)
      : createHash('sha256').update(token).digest('hex').slice(0, 24);
  return `sb-${part}`;
}
