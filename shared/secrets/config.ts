import {
  ConfigurationError,
  getBooleanFromEnv,
  getIntegerFromEnv,
  getOptionalStringFromEnv,
} from '../config/env.js';
import { loadConnectorOptions } from '../config/index.js';
import { SECRET_KINDS, type SecretKind } from './kinds.js';

type Env = Record<string, string | undefined>;

/** How the secrets library finds secrets; read once, at start. */
export interface SecretsConfig {
  /** `USE_SECRETS_MANAGER`: false reads every seed secret from environment variables. */
  readonly useSecretsManager: boolean;
  /** `ENVIRONMENT`: the first part of `{environment}/{category}/{name}`. */
  readonly environment: string | undefined;
  /** `SECRETS_CACHE_TTL`: seconds a value read from Secrets Manager is reused (0: never). */
  readonly cacheTtlSeconds: number;
  /**
   * `SECRETS_ENV_FALLBACK`: the kinds that may be read from environment variables when
   * Secrets Manager is unavailable (never when it refuses access or has no such secret).
   */
  readonly envFallback: readonly SecretKind[];
  /** `DB_TLS_CA_FILE`: its path, for the database's ready connection string (`sslrootcert`). */
  readonly databaseCaFile: string | undefined;
  /** The PEM certificates of `DB_TLS_CA_FILE`, for the database's `pg` config. */
  readonly databaseCa: string | undefined;
  /** `SECRETS_CONNECT_TIMEOUT_MS`: the default client's TCP/TLS connection timeout. */
  readonly connectTimeoutMs: number;
  /** `SECRETS_REQUEST_TIMEOUT_MS`: the default client's limit on one request, connection included. */
  readonly requestTimeoutMs: number;
  /** `SECRETS_MAX_ATTEMPTS`: the default client's attempts per read (the first and its retries). */
  readonly maxAttempts: number;
}

/** Default of `SECRETS_CACHE_TTL`, the seed's 5 minutes. */
export const DEFAULT_CACHE_TTL_SECONDS = 300;

/**
 * Defaults of the default client's timeouts and attempts: a Secrets Manager that does not
 * answer fails a read (and lets an allowed fallback stand in) within about 2 × 3 s, where the
 * SDK's own defaults (no request timeout, three attempts) wait for minutes.
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 1_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 3_000;
export const DEFAULT_MAX_ATTEMPTS = 2;

const ENVIRONMENT_NAME = /^[\w+=.@-]+$/;

/**
 * Reads `USE_SECRETS_MANAGER` (default true: a deployment that forgets it still reads
 * Secrets Manager; development sets `False` as the seed shows), `ENVIRONMENT`,
 * `SECRETS_CACHE_TTL` (default 300), `SECRETS_ENV_FALLBACK` (`none` by default; `all`, or
 * a comma-separated list of `database`, `clerk`, `aws`, `resend`, `google`), `DB_TLS_CA_FILE`,
 * and the default client's `SECRETS_CONNECT_TIMEOUT_MS` (1000), `SECRETS_REQUEST_TIMEOUT_MS`
 * (3000) and `SECRETS_MAX_ATTEMPTS` (2).
 * @throws {ConfigurationError} naming the variable, never its value.
 */
export function loadSecretsConfig(env: Env = process.env): SecretsConfig {
  const environment = getOptionalStringFromEnv('ENVIRONMENT', env);
  if (environment !== undefined && !ENVIRONMENT_NAME.test(environment)) {
    throw new ConfigurationError(
      'environment variable ENVIRONMENT must be one name segment (letters, digits, _+=.@-), e.g. production',
    );
  }
  const databaseCaFile = getOptionalStringFromEnv('DB_TLS_CA_FILE', env);
  return {
    useSecretsManager: getBooleanFromEnv('USE_SECRETS_MANAGER', { defaultValue: true, env }),
    environment,
    cacheTtlSeconds: getIntegerFromEnv('SECRETS_CACHE_TTL', {
      defaultValue: DEFAULT_CACHE_TTL_SECONDS,
      min: 0,
      max: 86_400,
      env,
    }),
    envFallback: parseFallback(getOptionalStringFromEnv('SECRETS_ENV_FALLBACK', env)),
    databaseCaFile,
    databaseCa: databaseCaFile ? loadConnectorOptions({ DB_TLS_CA_FILE: databaseCaFile }).ca : undefined,
    connectTimeoutMs: getIntegerFromEnv('SECRETS_CONNECT_TIMEOUT_MS', {
      defaultValue: DEFAULT_CONNECT_TIMEOUT_MS,
      min: 1,
      max: 60_000,
      env,
    }),
    requestTimeoutMs: getIntegerFromEnv('SECRETS_REQUEST_TIMEOUT_MS', {
      defaultValue: DEFAULT_REQUEST_TIMEOUT_MS,
      min: 1,
      max: 300_000,
      env,
    }),
    maxAttempts: getIntegerFromEnv('SECRETS_MAX_ATTEMPTS', {
      defaultValue: DEFAULT_MAX_ATTEMPTS,
      min: 1,
      max: 10,
      env,
    }),
  };
}

function parseFallback(value: string | undefined): readonly SecretKind[] {
  if (value === undefined || value.toLowerCase() === 'none') return [];
  if (value.toLowerCase() === 'all') return SECRET_KINDS;
  const kinds = value.split(',').map((part) => part.trim().toLowerCase());
  const unknown = kinds.filter((kind) => !(SECRET_KINDS as readonly string[]).includes(kind));
  if (unknown.length > 0) {
    throw new ConfigurationError(
      `environment variable SECRETS_ENV_FALLBACK must be none, all, or a comma-separated list of ${SECRET_KINDS.join(', ')}`,
    );
  }
  return kinds as SecretKind[];
}
