import type { MiddlewareObj } from '@middy/core';
import { RedactedError, redactError } from '../../shared/logging/redact.js';
import type { RotationLogger } from '../../shared/rotation/index.js';

/**
 * Logs a failed invocation once, at the outer boundary, then lets the error reach the
 * caller (Secrets Manager marks the step failed and retries). Both the line logged and the
 * error thrown are redacted ({@link redactError}): this product's errors keep their
 * messages, any other error in the `cause` chain keeps only its name and code.
 */
export function logErrors(logger: RotationLogger): MiddlewareObj {
  return {
    onError: async (request) => {
      // This must not throw: middy would attach the unredacted error to the one thrown.
      let error: Error;
      try {
        error = redactError(request.error);
      } catch {
        error = new RedactedError('the error could not be redacted; it is withheld');
      }
      request.error = error;
      try {
        logger.error('invocation failed', { error });
      } catch {
        // Nothing more can be done without risking the error's text.
      }
    },
  };
}
