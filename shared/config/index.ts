import { readFileSync } from 'node:fs';
import { DEFAULT_EXCLUDED_CHARACTERS, type PasswordPolicy } from '../password/index.js';
import type { PostgresConnectorOptions } from '../postgres/connection.js';
import { ConfigurationError, getIntegerFromEnv, getOptionalStringFromEnv } from './env.js';

export {
  ConfigurationError,
  getBooleanFromEnv,
  getIntegerFromEnv,
  getOptionalStringFromEnv,
  getStringFromEnv,
} from './env.js';

type Env = Record<string, string | undefined>;

/** Configuration of the database rotation function, read once at cold start. */
export interface DatabaseRotationConfig {
  readonly password: PasswordPolicy;
  readonly database: PostgresConnectorOptions;
}

/** Reads the password policy: `PASSWORD_LENGTH`, `PASSWORD_EXCLUDE_CHARACTERS`. */
export function loadPasswordPolicy(env: Env = process.env): PasswordPolicy {
  return {
    length: getIntegerFromEnv('PASSWORD_LENGTH', { defaultValue: 32, min: 16, max: 4096, env }),
    // Read untrimmed: a space is a character one may exclude; set to '' to exclude none.
    excludeCharacters: env.PASSWORD_EXCLUDE_CHARACTERS ?? DEFAULT_EXCLUDED_CHARACTERS,
  };
}

/**
 * Reads `DB_CONNECT_TIMEOUT_MS`, `DB_QUERY_TIMEOUT_MS` and `DB_TLS_CA_FILE` (PEM
 * certificates trusted for the database's TLS certificate; Node's roots when unset).
 */
export function loadConnectorOptions(env: Env = process.env): PostgresConnectorOptions {
  const caFile = getOptionalStringFromEnv('DB_TLS_CA_FILE', env);
  let ca: string | undefined;
  if (caFile) {
    try {
      ca = readFileSync(caFile, 'utf8');
    } catch (error) {
      throw new ConfigurationError(
        `environment variable DB_TLS_CA_FILE names a file that cannot be read: ${caFile}`,
        {
          cause: error,
        },
      );
    }
  }
  return {
    connectTimeoutMs: getIntegerFromEnv('DB_CONNECT_TIMEOUT_MS', {
      defaultValue: 5000,
      min: 100,
      max: 60000,
      env,
    }),
    queryTimeoutMs: getIntegerFromEnv('DB_QUERY_TIMEOUT_MS', {
      defaultValue: 10000,
      min: 100,
      max: 300000,
      env,
    }),
    ...(ca ? { ca } : {}),
  };
}

/** Reads the whole configuration of the database rotation function. */
export function loadDatabaseRotationConfig(env: Env = process.env): DatabaseRotationConfig {
  return { password: loadPasswordPolicy(env), database: loadConnectorOptions(env) };
}
