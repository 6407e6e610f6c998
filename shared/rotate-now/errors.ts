/**
 * Errors of a manual rotation (rotateNow). Each says what is wrong and what to do; none
 * carries a secret value. Every one is raised before anything is changed, except
 * {@link RepairFailedError}, which reports a repair that stopped safely.
 */
import { RotationError } from '../rotation/errors.js';

/** Base class of rotateNow's own errors. */
export class RotateNowError extends RotationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RotateNowError';
  }
}

/** Thrown when the input is not a JSON object of the documented fields. */
export class InvalidRotateNowInputError extends RotateNowError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidRotateNowInputError';
  }
}

/** Thrown for a secret outside this deployment's managed prefixes. */
export class UnmanagedSecretError extends RotateNowError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UnmanagedSecretError';
  }
}

/** Thrown for a secret another AWS service manages (`OwningService`, e.g. RDS master secrets). */
export class ManagedByServiceError extends RotateNowError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ManagedByServiceError';
  }
}

/** Thrown when the secret has no rotation function, or its rotation is turned off. */
export class RotationNotConfiguredError extends RotateNowError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RotationNotConfiguredError';
  }
}

/** Thrown when a rotation is already in progress or stuck (AWSPENDING is staged) and was not repaired. */
export class RotationInProgressError extends RotateNowError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RotationInProgressError';
  }
}

/** Thrown when a requested repair stopped because a step refused; nothing was discarded. */
export class RepairFailedError extends RotateNowError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RepairFailedError';
  }
}

/** Thrown when RotateSecret failed and started no rotation. */
export class RotationStartError extends RotateNowError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RotationStartError';
  }
}
