import type { Logger } from '@aws-lambda-powertools/logger';
import { isAuthenticationError } from './auth-errors.js';

/** What each run of the operation is told; pass it to the getters (`secrets.database(attempt)`). */
export interface FreshAttempt {
  /** False on the first run (cached values will do), true on the retry (read Secrets Manager anew). */
  readonly refresh: boolean;
  /** 1, then 2 on the retry. */
  readonly attempt: 1 | 2;
}

/** Options of {@link withFreshCredentials}. */
export interface FreshOptions {
  /** Which failures are worth a fresh read; {@link isAuthenticationError} by default. */
  readonly isAuthenticationError?: (error: unknown) => boolean;
}

/**
 * Runs `operation`; when it fails with an authentication error (a credential rotated since
 * it was cached), runs it once more with `refresh: true`, so that its getters read Secrets
 * Manager anew. Any other failure, and a second failure, reaches the caller unchanged.
 * A rotation in the middle of use then costs one retry, not an outage.
 */
export async function withFreshCredentials<T>(
  logger: Logger,
  operation: (attempt: FreshAttempt) => Promise<T>,
  options: FreshOptions = {},
): Promise<T> {
  const isAuthError = options.isAuthenticationError ?? isAuthenticationError;
  try {
    return await operation({ refresh: false, attempt: 1 });
  } catch (error) {
    if (!isAuthError(error)) throw error;
    logger.warn('credentials refused; reading the secrets again and retrying once', {
      errorName: error instanceof Error ? error.name : 'Error',
    });
    return operation({ refresh: true, attempt: 2 });
  }
}
