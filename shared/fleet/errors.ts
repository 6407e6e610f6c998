/**
 * Errors of the fleet reader. Messages name prefixes, secrets, AWS error codes and AWS
 * service errors' own messages, never a value: they are this product's own errors
 * ({@link RotationError}), so the handler boundary passes their messages on.
 */
import { RotationError } from '../rotation/errors.js';

/** Base class of the fleet reader's errors. */
export class FleetError extends RotationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FleetError';
  }
}

/** Thrown when the fleet cannot be listed: no report or enforcement may run on part of it. */
export class FleetReadError extends FleetError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FleetReadError';
  }
}

/** Thrown when a caller asks BatchGetSecretValue for more secrets than one call may carry. */
export class BatchTooLargeError extends FleetError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BatchTooLargeError';
  }
}
