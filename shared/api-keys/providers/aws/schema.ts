import * as z from '../../../zod.js';
import { headerSafe } from '../fields.js';

/** The provider's registry name: secrets named `…/api-keys/aws` or tagged `rotation-provider = aws`. */
export const AWS_PROVIDER = 'aws';

/**
 * Validates an AWS API-key secret (a loose object: unknown fields such as `rotated_at` are
 * carried over). Issue messages name the rule, never the value.
 */
export const awsKeySecretSchema = z.looseObject({
  /** The IAM access key id (`AKIA…`): not secret, but only ever logged as a {@link keyHint}. */
  access_key_id: z
    .requiredString()
    .check(z.regex(/^[A-Z0-9]{16,128}$/, { error: 'must be 16 to 128 upper-case letters and digits' })),
  /** The secret access key paired with `access_key_id`. */
  secret_access_key: z.requiredString().check(z.minLength(1, { error: 'is required' }), headerSafe()),
  /** The IAM user owning the key; when absent it is looked up with GetAccessKeyLastUsed. */
  user_name: z.optional(
    z
      .string({ error: 'must be a string' })
      .check(
        z.regex(/^[\w+=,.@-]{1,64}$/, { error: 'must be an IAM user name (1 to 64 of A-Z a-z 0-9 _+=,.@-)' }),
      ),
  ),
});

/** A version of an AWS API-key secret: `{access_key_id, secret_access_key, user_name?, …}`. */
export type AwsKeySecret = z.infer<typeof awsKeySecretSchema>;
