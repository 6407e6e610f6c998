/**
 * Errors of stuck-rotation repair and of running rotation steps. Messages name the secret,
 * the version and the step, never a secret value: a step's error is carried as its type and
 * message only (what a Lambda function error reports), never its stack or cause.
 */
import { RotationError } from '../rotation/errors.js';

/** Base class of every error of a repair or a step invocation. */
export class RepairError extends RotationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RepairError';
  }
}

/** Thrown when a rotation step could not be run at all (the function is missing, or the invoke was refused). */
export class StepInvocationError extends RepairError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StepInvocationError';
  }
}

/**
 * Thrown when a rotation step ran and failed. `errorType` and `errorMessage` are the step's own
 * (the rotation function's error name and message, which this product keeps value-free).
 */
export class StepFailedError extends RepairError {
  readonly step: string;
  readonly errorType: string;
  readonly errorMessage: string;
  constructor(step: string, errorType: string, errorMessage: string, options?: ErrorOptions) {
    super(`${step} failed: ${errorType}: ${errorMessage}`, options);
    this.name = 'StepFailedError';
    this.step = step;
    this.errorType = errorType;
    this.errorMessage = errorMessage;
  }
}
