import type { MiddlewareObj } from '@middy/core';
import type { RotationLogger } from '../../shared/rotation/index.js';

/**
 * Logs a failed invocation once, at the outer boundary, then lets the error reach the
 * caller (Secrets Manager marks the step failed and retries). Errors raised by this
 * product carry no secret values.
 */
export function logErrors(logger: RotationLogger): MiddlewareObj {
  return {
    onError: async (request) => {
      logger.error('invocation failed', { error: request.error });
    },
  };
}
