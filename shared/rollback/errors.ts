import { RotationError } from '../rotation/errors.js';

/** Base class of rollback errors. */
export class RollbackError extends RotationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RollbackError';
  }
}

/**
 * Thrown when a rollback is refused: AWSPREVIOUS's credential no longer works, holds no
 * valid value, is newer than AWSCURRENT, or a rotation is in progress. Nothing was changed.
 */
export class RollbackRefusedError extends RollbackError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RollbackRefusedError';
  }
}
