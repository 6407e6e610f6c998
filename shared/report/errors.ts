import { RotationError } from '../rotation/errors.js';

/** Thrown when a CSV report cannot be read back: a missing column, a malformed cell. */
export class ReportFormatError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ReportFormatError';
  }
}

/**
 * Thrown when the report cannot be written to S3 or its alert cannot be published. Its
 * message quotes only an AWS service error (`awsErrorText`), so it is one of this product's
 * own errors and reaches the caller whole.
 */
export class ReportDeliveryError extends RotationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ReportDeliveryError';
  }
}
