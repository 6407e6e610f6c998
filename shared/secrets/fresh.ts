import type { Logger } from '@aws-lambda-powertools/logger';
import { authenticationFailure, isSecretsFailure } from './auth-errors.js';

/** What each run of the operation is told; pass it to the getters (`secrets.database(attempt)`). */
export interface FreshAttempt {
  /** False on the first run (cached values will do), true on the retry (read Secrets Manager anew). */
  readonly refresh: boolean;
  /** 1, then 2 on the retry. */
  readonly attempt: 1 | 2;
}

/** Options of {@link withFreshCredentials}. */
export interface FreshOptions {
  /**
   * Which failures are worth a fresh read; PostgreSQL 28P01, HTTP 401 and AWS key refusals by
   * default. Never asked about a getter's own failure (a `SecretsError` in the chain).
   */
  readonly isAuthenticationError?: (error: unknown) => boolean;
}

/**
 * Runs `operation`; when it fails with an authentication error (a credential rotated since
 * it was cached), runs it once more with `refresh: true`, so that its getters read Secrets
 * Manager anew. Any other failure, and a second failure, reaches the caller unchanged; so does
 * a getter's own failure (a SecretsError, e.g. Secrets Manager refusing the caller's AWS
 * credentials), which a fresh read cannot mend.
 * A rotation in the middle of use then costs one retry, not an outage.
 */
export async function withFreshCredentials<T>(
  logger: Logger,
  operation: (attempt: FreshAttempt) => Promise<T>,
  options: FreshOptions = {},
): Promise<T> {
  try {
    return await operation({ refresh: false, attempt: 1 });
  } catch (error) {
    const failure = classify(error, options);
    if (!failure) throw error;
    logger.warn('credentials refused; reading the secrets again and retrying once', {
      errorName: error instanceof Error ? error.name : 'Error',
      ...failure,
    });
    return operation({ refresh: true, attempt: 2 });
  }
}

/** What the log line says of the failure: the default classification's kind and code, or nothing for a caller's own test. */
function classify(error: unknown, options: FreshOptions): object | undefined {
  if (isSecretsFailure(error)) return undefined;
  if (!options.isAuthenticationError) return authenticationFailure(error);
  return options.isAuthenticationError(error) ? {} : undefined;
}
