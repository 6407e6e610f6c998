import { readFileSync } from 'node:fs';
import {
  DEFAULT_EXCLUDED_CHARACTERS,
  effectivePasswordPolicy,
  InvalidPasswordPolicyError,
  type PasswordPolicy,
  POSTGRES_USER_LIMITS,
} from '../password/index.js';
import type { PostgresConnectorOptions } from '../postgres/connection.js';
import type { MasterPasswordWait } from '../postgres/rds-master.js';
import {
  ConfigurationError,
  getBooleanFromEnv,
  getHttpsUrlFromEnv,
  getIntegerFromEnv,
  getOptionalStringFromEnv,
  getStringFromEnv,
} from './env.js';

export {
  ConfigurationError,
  getBooleanFromEnv,
  getHttpsUrlFromEnv,
  getIntegerFromEnv,
  getOptionalStringFromEnv,
  getStringFromEnv,
} from './env.js';

type Env = Record<string, string | undefined>;

/** Configuration of the database rotation function, read once at cold start. */
export interface DatabaseRotationConfig {
  readonly password: PasswordPolicy;
  readonly database: PostgresConnectorOptions;
  /** How long testSecret waits for RDS to apply a new master password. */
  readonly masterPasswordWait: MasterPasswordWait;
}

/**
 * Reads the password policy: `PASSWORD_LENGTH`, `PASSWORD_EXCLUDE_CHARACTERS`,
 * `PASSWORD_EXCLUDE_UPPERCASE`, `PASSWORD_EXCLUDE_LOWERCASE`, `PASSWORD_EXCLUDE_NUMBERS`,
 * `PASSWORD_EXCLUDE_PUNCTUATION`, `PASSWORD_REQUIRE_EACH_INCLUDED_TYPE`; checked against a
 * PostgreSQL user's limits (a secret's `password_policy` is checked when it is used).
 */
export function loadPasswordPolicy(env: Env = process.env): PasswordPolicy {
  const policy: PasswordPolicy = {
    length: getIntegerFromEnv('PASSWORD_LENGTH', { defaultValue: 32, min: 16, max: 4096, env }),
    // Read untrimmed: a space is a character one may exclude; set to '' to exclude none.
    excludeCharacters: env.PASSWORD_EXCLUDE_CHARACTERS ?? DEFAULT_EXCLUDED_CHARACTERS,
    excludeUppercase: getBooleanFromEnv('PASSWORD_EXCLUDE_UPPERCASE', { defaultValue: false, env }),
    excludeLowercase: getBooleanFromEnv('PASSWORD_EXCLUDE_LOWERCASE', { defaultValue: false, env }),
    excludeNumbers: getBooleanFromEnv('PASSWORD_EXCLUDE_NUMBERS', { defaultValue: false, env }),
    excludePunctuation: getBooleanFromEnv('PASSWORD_EXCLUDE_PUNCTUATION', { defaultValue: false, env }),
    requireEachIncludedType: getBooleanFromEnv('PASSWORD_REQUIRE_EACH_INCLUDED_TYPE', {
      defaultValue: true,
      env,
    }),
  };
  try {
    return effectivePasswordPolicy(
      policy,
      undefined,
      POSTGRES_USER_LIMITS,
      'the function (PASSWORD_* settings)',
    );
  } catch (error) {
    if (!(error instanceof InvalidPasswordPolicyError)) throw error;
    throw new ConfigurationError(error.message, { cause: error });
  }
}

/** Reads `RDS_PASSWORD_WAIT_SECONDS` (default 40) and `RDS_PASSWORD_WAIT_INTERVAL_MS` (default 2000). */
export function loadMasterPasswordWait(env: Env = process.env): MasterPasswordWait {
  return {
    timeoutMs:
      getIntegerFromEnv('RDS_PASSWORD_WAIT_SECONDS', { defaultValue: 40, min: 0, max: 840, env }) * 1000,
    intervalMs: getIntegerFromEnv('RDS_PASSWORD_WAIT_INTERVAL_MS', {
      defaultValue: 2000,
      min: 50,
      max: 60_000,
      env,
    }),
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

/** Where the provider APIs are; tests and local runs point them at local servers. */
export interface ProviderEndpoints {
  readonly resend: string;
  readonly googleApiKeys: string;
  readonly googleSafeBrowsing: string;
  readonly recaptchaVerify: string;
  readonly clerk: string;
}

/** Configuration of the API-key rotation function, read once at cold start. */
export interface ApiKeyRotationConfig {
  /** How long a superseded key stays valid after finishSecret. */
  readonly gracePeriodMs: number;
  /**
   * The longest one attempt of a step can run (the function's timeout): a key younger than
   * this that no version holds may still be on its way to Secrets Manager from another attempt.
   */
  readonly stepTimeoutMs: number;
  /**
   * The role and group of scheduled revocations, and the queue a schedule's failed invocation
   * goes to; undefined when not configured (local runs).
   */
  readonly revocation?: {
    readonly roleName: string;
    readonly groupName: string;
    readonly deadLetterQueueName?: string;
  };
  readonly endpoints: ProviderEndpoints;
  /** How long the aws provider waits for a new IAM key to work (IAM's propagation delay). */
  readonly iamPropagation: { readonly attempts: number; readonly delayMs: number };
}

/**
 * Reads `ROTATION_GRACE_PERIOD_SECONDS` (default 900: three times the applications' 300 s
 * secret cache), `ROTATION_STEP_TIMEOUT_SECONDS` (default 900, Lambda's longest timeout),
 * `REVOKE_SCHEDULER_ROLE_NAME`, `REVOKE_SCHEDULE_GROUP`, `REVOKE_DEAD_LETTER_QUEUE_NAME`,
 * the provider endpoints (`RESEND_API_URL`, `GOOGLE_API_KEYS_URL`, `GOOGLE_SAFE_BROWSING_URL`,
 * `RECAPTCHA_VERIFY_URL`, `CLERK_API_URL`: https, or http on a loopback host) and `IAM_PROPAGATION_ATTEMPTS`, `IAM_PROPAGATION_DELAY_MS`.
 */
export function loadApiKeyRotationConfig(env: Env = process.env): ApiKeyRotationConfig {
  const roleName = getOptionalStringFromEnv('REVOKE_SCHEDULER_ROLE_NAME', env);
  if (roleName !== undefined && !/^[\w+=,.@-]{1,64}$/.test(roleName)) {
    throw new ConfigurationError('environment variable REVOKE_SCHEDULER_ROLE_NAME must be an IAM role name');
  }
  const deadLetterQueueName = getOptionalStringFromEnv('REVOKE_DEAD_LETTER_QUEUE_NAME', env);
  if (deadLetterQueueName !== undefined && !/^[\w-]{1,80}$/.test(deadLetterQueueName)) {
    throw new ConfigurationError(
      'environment variable REVOKE_DEAD_LETTER_QUEUE_NAME must be an SQS queue name',
    );
  }
  return {
    gracePeriodMs: loadGracePeriodMs(env),
    stepTimeoutMs:
      getIntegerFromEnv('ROTATION_STEP_TIMEOUT_SECONDS', { defaultValue: 900, min: 0, max: 900, env }) * 1000,
    ...(roleName
      ? {
          revocation: {
            roleName,
            groupName: getStringFromEnv('REVOKE_SCHEDULE_GROUP', { defaultValue: 'default', env }),
            ...(deadLetterQueueName ? { deadLetterQueueName } : {}),
          },
        }
      : {}),
    endpoints: {
      resend: getHttpsUrlFromEnv('RESEND_API_URL', { defaultValue: 'https://api.resend.com', env }),
      googleApiKeys: getHttpsUrlFromEnv('GOOGLE_API_KEYS_URL', {
        defaultValue: 'https://apikeys.googleapis.com',
        env,
      }),
      googleSafeBrowsing: getHttpsUrlFromEnv('GOOGLE_SAFE_BROWSING_URL', {
        defaultValue: 'https://safebrowsing.googleapis.com',
        env,
      }),
      recaptchaVerify: getHttpsUrlFromEnv('RECAPTCHA_VERIFY_URL', {
        defaultValue: 'https://www.google.com/recaptcha/api/siteverify',
        env,
      }),
      clerk: getHttpsUrlFromEnv('CLERK_API_URL', { defaultValue: 'https://api.clerk.com', env }),
    },
    iamPropagation: {
      attempts: getIntegerFromEnv('IAM_PROPAGATION_ATTEMPTS', { defaultValue: 10, min: 1, max: 60, env }),
      delayMs: getIntegerFromEnv('IAM_PROPAGATION_DELAY_MS', {
        defaultValue: 2000,
        min: 0,
        max: 60_000,
        env,
      }),
    },
  };
}

/**
 * Reads `ROTATION_GRACE_PERIOD_SECONDS` (default 900: three times the applications' 300 s
 * secret cache, at most 30 days) in milliseconds: how long a superseded API key stays valid.
 * rotateApiKey and the policy enforcer read the same setting.
 */
export function loadGracePeriodMs(env: Env = process.env): number {
  return (
    getIntegerFromEnv('ROTATION_GRACE_PERIOD_SECONDS', { defaultValue: 900, min: 0, max: 30 * 86_400, env }) *
    1000
  );
}

/** Reads the whole configuration of the database rotation function. */
export function loadDatabaseRotationConfig(env: Env = process.env): DatabaseRotationConfig {
  return {
    password: loadPasswordPolicy(env),
    database: loadConnectorOptions(env),
    masterPasswordWait: loadMasterPasswordWait(env),
  };
}
