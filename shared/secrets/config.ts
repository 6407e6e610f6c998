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
}

/** Default of `SECRETS_CACHE_TTL`, the seed's 5 minutes. */
export const DEFAULT_CACHE_TTL_SECONDS = 300;

const ENVIRONMENT_NAME = /^[\w+=.@-]+$/;

/**
 * Reads `USE_SECRETS_MANAGER` (default true: a deployment that forgets it still reads
 * Secrets Manager; development sets `False` as the seed shows), `ENVIRONMENT`,
 * `SECRETS_CACHE_TTL` (default 300), `SECRETS_ENV_FALLBACK` (`none` by default; `all`, or
 * a comma-separated list of `database`, `clerk`, `aws`, `resend`, `google`) and `DB_TLS_CA_FILE`.
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
