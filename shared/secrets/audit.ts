import { type Logger, LogLevelThreshold } from '@aws-lambda-powertools/logger';
import { ConfigurationError } from '../config/env.js';
import {
  AccessDeniedError,
  InvalidSecretValueError,
  SecretNotFoundError,
  SecretsManagerUnavailableError,
} from './errors.js';

/** The `audit` field of every audit line, for log queries and metric filters. */
export const AUDIT_MARKER = 'secret-access';

/** Where a retrieval attempt looked. */
export const SecretSource = {
  CACHE: 'cache',
  SECRETS_MANAGER: 'secrets-manager',
  ENVIRONMENT: 'environment',
} as const;
export type SecretSource = (typeof SecretSource)[keyof typeof SecretSource];

/** How a retrieval attempt ended. */
export const AccessOutcome = {
  SUCCESS: 'success',
  NOT_FOUND: 'not-found',
  ACCESS_DENIED: 'access-denied',
  UNAVAILABLE: 'unavailable',
  INVALID: 'invalid',
  /** The attempt stopped before Secrets Manager: no name could be built (`ENVIRONMENT` unset, a bad name). */
  MISCONFIGURED: 'misconfigured',
  ERROR: 'error',
} as const;
export type AccessOutcome = (typeof AccessOutcome)[keyof typeof AccessOutcome];

/** One retrieval attempt, as the audit log records it: identifiers only, never a value. */
export interface AccessRecord {
  readonly secretName: string;
  readonly source: SecretSource;
  readonly outcome: AccessOutcome;
  /** The Secrets Manager version that answered. */
  readonly versionId?: string | undefined;
  /** The environment variables read (names only). */
  readonly variables?: readonly string[];
  /** Set when the environment stood in for an unavailable Secrets Manager. */
  readonly fallback?: boolean;
  /** The error's class and, for access denied, the IAM action and resource. */
  readonly errorName?: string;
  readonly action?: string;
  readonly resource?: string;
}

/** The audit outcome of a failed attempt. */
export function outcomeOf(error: unknown): AccessOutcome {
  if (error instanceof AccessDeniedError) return AccessOutcome.ACCESS_DENIED;
  if (error instanceof SecretNotFoundError) return AccessOutcome.NOT_FOUND;
  if (error instanceof SecretsManagerUnavailableError) return AccessOutcome.UNAVAILABLE;
  if (error instanceof InvalidSecretValueError) return AccessOutcome.INVALID;
  if (error instanceof ConfigurationError) return AccessOutcome.MISCONFIGURED;
  return AccessOutcome.ERROR;
}

/**
 * Writes one audit line per retrieval attempt, with `audit: "secret-access"`:
 * - access denied at ERROR (`outcome: "access-denied"`, with the action and resource), which
 *   the metric filter `{ $.audit = "secret-access" && $.outcome = "access-denied" }` counts;
 * - other failures, and values taken from the environment as a fallback, at WARN;
 * - every other success, cache hits included, at INFO.
 *
 * Audit lines are written whatever the application's log level: through the application's
 * logger when it prints the line's level, else through a child of it at INFO (made per line,
 * so that it carries the keys the application appended since, e.g. a worker's `secretId`).
 * A logger at SILENT stays silent. Lambda's advanced logging controls (`AWS_LAMBDA_LOG_LEVEL`) filter outside the process and
 * cannot be bypassed: keep that level at INFO or below.
 */
export class SecretsAudit {
  readonly #logger: Logger;
  /** Lambda filters by its own level; a child at INFO would only warn that its lines are dropped. */
  readonly #lambdaFilters = process.env.AWS_LAMBDA_LOG_LEVEL !== undefined;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /**
   * The application's logger when it prints lines of `level` (or is SILENT on purpose, or
   * Lambda filters), else a child of it at INFO.
   */
  #writer(level: 'INFO' | 'WARN' | 'ERROR'): Logger {
    const current = this.#logger.level;
    if (current <= LogLevelThreshold[level] || current === LogLevelThreshold.SILENT || this.#lambdaFilters)
      return this.#logger;
    return this.#logger.createChild({ logLevel: 'INFO' });
  }

  /** Records a successful attempt. */
  success(record: Omit<AccessRecord, 'outcome'>): void {
    const line = { audit: AUDIT_MARKER, ...record, outcome: AccessOutcome.SUCCESS };
    if (record.fallback)
      this.#writer('WARN').warn('secret read from environment variables: Secrets Manager unavailable', line);
    else this.#writer('INFO').info('secret read', line);
  }

  /** Records a failed attempt; the error's message is not logged (the caller decides where it goes). */
  failure(record: Omit<AccessRecord, 'outcome' | 'errorName' | 'action' | 'resource'>, error: unknown): void {
    const outcome = outcomeOf(error);
    const line = {
      audit: AUDIT_MARKER,
      ...record,
      outcome,
      errorName: error instanceof Error ? error.name : 'Error',
      ...(error instanceof AccessDeniedError ? { action: error.action, resource: error.resource } : {}),
    };
    if (outcome === AccessOutcome.ACCESS_DENIED) this.#writer('ERROR').error('secret access denied', line);
    else this.#writer('WARN').warn('secret read failed', line);
  }
}
