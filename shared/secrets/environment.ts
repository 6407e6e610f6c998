import { getOptionalStringFromEnv } from '../config/env.js';
import type { SecretKind } from './kinds.js';
import { readPostgresUrl } from './postgres-url.js';

type Env = Record<string, string | undefined>;

/**
 * The environment variable of every field each seed secret can take from the environment
 * (`USE_SECRETS_MANAGER=False`, or an allowed fallback). `DATABASE_URL` also gives the
 * database's `host`, `port`, `database`, `username`, `password` and `sslmode`, as libpq reads
 * them (a `%`-encoded socket directory as host; `host=`, `port=`, `dbname=`, `user=`,
 * `password=` parameters over the URL's parts).
 */
export const ENVIRONMENT_VARIABLES = {
  database: { connection_string: 'DATABASE_URL' },
  clerk: { secret_key: 'CLERK_SECRET_KEY', publishable_key: 'CLERK_PUBLISHABLE_KEY' },
  aws: { access_key_id: 'AWS_ACCESS_KEY_ID', secret_access_key: 'AWS_SECRET_ACCESS_KEY' },
  resend: { api_key: 'RESEND_API_KEY' },
  google: {
    safe_browsing_api_key: 'GOOGLE_SAFE_BROWSING_API_KEY',
    recaptcha_secret_key: 'GOOGLE_RECAPTCHA_SECRET_KEY',
  },
} as const satisfies Record<SecretKind, Record<string, string>>;

/** What the environment holds for one secret. */
export type EnvironmentFields =
  | { readonly found: true; readonly fields: Record<string, unknown>; readonly variables: readonly string[] }
  | { readonly found: false; readonly missing: readonly string[]; readonly reason: string };

/**
 * Reads a seed secret's fields from environment variables (trimmed; blank counts as unset).
 * Nothing is validated here: the caller applies the kind's schema.
 */
export function environmentFields(kind: SecretKind, env: Env): EnvironmentFields {
  const mapping: Record<string, string> = ENVIRONMENT_VARIABLES[kind];
  const variables = Object.values(mapping);
  const missing = variables.filter((variable) => getOptionalStringFromEnv(variable, env) === undefined);
  if (missing.length > 0) {
    return { found: false, missing, reason: `environment variable ${missing.join(', ')} is not set` };
  }
  if (kind === 'aws' && getOptionalStringFromEnv('AWS_SESSION_TOKEN', env) !== undefined) {
    // The runtime's (or an assumed role's) temporary keys: without their token they are not an application key.
    return {
      found: false,
      missing: [],
      reason:
        'AWS_SESSION_TOKEN is set, so AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY hold temporary credentials, which the aws secret cannot hold',
    };
  }
  const fields: Record<string, unknown> = {};
  for (const [field, variable] of Object.entries(mapping))
    fields[field] = getOptionalStringFromEnv(variable, env);
  // A string that is not a URL gives no fields: the schema then names what is missing.
  if (kind === 'database') Object.assign(fields, readPostgresUrl(String(fields.connection_string)));
  return { found: true, fields, variables };
}

/**
 * The name of the variable behind a field of `kind`: the field's own variable, or for a
 * field read out of `DATABASE_URL`, `DATABASE_URL (host)`.
 */
export function variableOf(kind: SecretKind, field: string): string {
  const mapping: Record<string, string> = ENVIRONMENT_VARIABLES[kind];
  return mapping[field] ?? `${Object.values(mapping)[0]} (${field})`;
}
