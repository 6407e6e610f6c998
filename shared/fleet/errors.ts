/** Errors of the fleet reader. Messages name prefixes, secrets and AWS error codes, never a value. */

/** Base class of the fleet reader's errors. */
export class FleetError extends Error {
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
