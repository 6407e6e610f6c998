import { type AwsKeySecret, awsKeySecretSchema } from '../api-keys/providers/aws/schema.js';
import { type ClerkSecret, clerkSecretSchema } from '../api-keys/providers/clerk/index.js';
import { type GoogleSecret, googleSecretSchema } from '../api-keys/providers/google/schema.js';
import { type ResendSecret, resendSecretSchema } from '../api-keys/providers/resend/schema.js';
import { type PostgresSecret, postgresSecretSchema } from '../postgres/secret.js';
import type * as z from '../zod.js';

/** One of the seed's five secrets: where it lives and the shape its value must have. */
export interface SecretKindSpec<T> {
  /** `{environment}/<category>/<name>` */
  readonly category: string;
  /** The seed's name, used when the getter is given none. */
  readonly name: string;
  /** The shape the rotation strategies define for it: one schema per shape. */
  readonly schema: z.ZodMiniType<T>;
}

/** The validated value of each kind. */
export interface SecretValues {
  readonly database: PostgresSecret;
  readonly clerk: ClerkSecret;
  readonly aws: AwsKeySecret;
  readonly resend: ResendSecret;
  readonly google: GoogleSecret;
}

/** `database`, `clerk`, `aws`, `resend` or `google`. */
export type SecretKind = keyof SecretValues;

/**
 * The seed's five secrets. Each value is validated with the schema its rotation strategy
 * uses (`shared/postgres/secret.ts`, `shared/api-keys/providers/<name>/`).
 */
export const SecretKinds: { readonly [K in SecretKind]: SecretKindSpec<SecretValues[K]> } = {
  database: { category: 'database', name: 'primary', schema: postgresSecretSchema },
  clerk: { category: 'api-keys', name: 'clerk', schema: clerkSecretSchema },
  aws: { category: 'api-keys', name: 'aws', schema: awsKeySecretSchema },
  resend: { category: 'api-keys', name: 'resend', schema: resendSecretSchema },
  google: { category: 'api-keys', name: 'google', schema: googleSecretSchema },
};

/** The kinds, in the seed's order. */
export const SECRET_KINDS = Object.keys(SecretKinds) as readonly SecretKind[];
