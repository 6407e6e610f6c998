import { ConfigurationError } from '../config/env.js';

/** The seed's naming convention for secrets. */
export const SECRET_NAME_FORMAT = '{environment}/{category}/{name}';

/** A secret named by its category and name; the environment comes from `ENVIRONMENT`. */
export interface SecretRef {
  /** e.g. `database`, `api-keys`. */
  readonly category: string;
  /** e.g. `primary`, `resend`. */
  readonly name: string;
}

/** One segment of a secret name: the characters Secrets Manager allows, without `/`. */
const SEGMENT = /^[\w+=.@-]+$/;

/** True when `id` is used as it is: an ARN, or a name with a `/` (`production/api-keys/resend`). */
export function isFullSecretId(id: string): boolean {
  return id.startsWith('arn:') || id.includes('/');
}

/**
 * The full name `{environment}/{category}/{name}`.
 * @throws {ConfigurationError} when `environment` is unset or a part is not one name segment.
 */
export function secretName(ref: SecretRef, environment: string | undefined): string {
  if (!environment) {
    throw new ConfigurationError(
      `environment variable ENVIRONMENT is required to build the secret name ${SECRET_NAME_FORMAT} for ${ref.category}/${ref.name} (or give the full name or ARN)`,
    );
  }
  for (const [part, value] of Object.entries({ category: ref.category, name: ref.name })) {
    if (!SEGMENT.test(value)) {
      throw new ConfigurationError(
        `secret ${part} ${JSON.stringify(value)} must be one name segment (letters, digits, _+=.@-)`,
      );
    }
  }
  return `${environment}/${ref.category}/${ref.name}`;
}

/**
 * The secret id to ask Secrets Manager for: a string is a full name or ARN, used as it is;
 * a {@link SecretRef} is completed with `environment`.
 */
export function resolveSecretId(id: string | SecretRef, environment: string | undefined): string {
  if (typeof id !== 'string') return secretName(id, environment);
  if (id.trim() === '') throw new ConfigurationError('a secret name or ARN is required');
  return id;
}

/** Where the secret's ARN comes from when AWS did not name it. */
export interface ArnParts {
  readonly partition: string;
  readonly region: string;
  /** The account id, or `*` when unknown. */
  readonly account: string;
}

/**
 * The resource ARN an IAM policy must match for `secretId`: the ARN itself, or for a name
 * the pattern `arn:<partition>:secretsmanager:<region>:<account>:secret:<name>-??????`
 * (Secrets Manager appends six random characters to every secret's ARN).
 */
export function secretResourceArn(secretId: string, parts: ArnParts): string {
  if (secretId.startsWith('arn:')) return secretId;
  return `arn:${parts.partition}:secretsmanager:${parts.region}:${parts.account}:secret:${secretId}-??????`;
}
