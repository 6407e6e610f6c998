import * as z from '../../../zod.js';
import { headerSafe } from '../fields.js';
import { rotationDigest } from '../marker.js';
import { GOOGLE_PROJECT } from './service-account.js';

/** An API key's resource name: `projects/<project>/locations/global/keys/<key id>`. */
export const KEY_NAME = /^projects\/[a-z0-9.:-]+\/locations\/global\/keys\/[a-z0-9-]{1,63}$/;

/**
 * Validates a Google secret (the seed's `production/api-keys/google` shape plus the fields
 * rotation needs). Unknown fields are carried over; messages name fields, never values.
 */
export const googleSecretSchema = z.looseObject({
  /** The Safe Browsing API key (`AIza…`), sent in the `X-Goog-Api-Key` header. */
  safe_browsing_api_key: z.requiredString().check(z.minLength(1, { error: 'is required' }), headerSafe()),
  /** The key's resource name; absent until the first rotation. */
  safe_browsing_api_key_id: z.optional(
    z.string().check(
      z.regex(KEY_NAME, {
        error: 'must be a key resource name projects/<project>/locations/global/keys/<id>',
      }),
    ),
  ),
  /** The reCAPTCHA secret key (`6L…`), rotated from a staged value and sent in a form. */
  recaptcha_secret_key: z.requiredString().check(z.minLength(1, { error: 'is required' }), headerSafe()),
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
 * The id of the Safe Browsing key a rotation creates: `sb-` and 24 hex digits of the SHA-256
 * of the secret's ARN and the rotation's token (lowercase letters, digits and hyphens, as the
 * API Keys API requires, and not UUID-like). Every attempt of one rotation of one secret asks
 * for the same id, so they share one key (the API answers 409 ALREADY_EXISTS to all but the
 * first); another secret rotated with the same token asks for another id.
 */
export function safeBrowsingKeyId(secretArn: string, token: string): string {
  return `sb-${rotationDigest(secretArn, token, 24)}`;
}
