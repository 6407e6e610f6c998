/** Thrown when a CSV report cannot be read back: a missing column, a malformed cell. */
export class ReportFormatError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ReportFormatError';
  }
}

/** Thrown when the report cannot be written to S3 or its alert cannot be published. */
export class ReportDeliveryError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ReportDeliveryError';
  }
}
