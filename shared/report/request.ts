/** The inputs `complianceReport` accepts: an EventBridge scheduled event, or an empty manual invocation. */
import { RotationError } from '../rotation/errors.js';

/**
 * Thrown when the function is invoked with something else; nothing has been read or written.
 * One of this product's errors (its message names fields, never a value), so the handler
 * boundary keeps its message.
 */
export class InvalidReportRequestError extends RotationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidReportRequestError';
  }
}

/**
 * Accepts an EventBridge scheduled event (`source: aws.events`), `{}`, or nothing.
 * @throws {InvalidReportRequestError} for anything else, naming what it got.
 */
export function parseReportRequest(event: unknown): { readonly trigger: 'schedule' | 'manual' } {
  if (event === undefined || event === null || event === '') return { trigger: 'manual' };
  if (typeof event !== 'object' || Array.isArray(event))
    throw new InvalidReportRequestError(
      'invalid report request: expected {} or an EventBridge scheduled event',
    );
  const fields = Object.keys(event);
  if ((event as { source?: unknown }).source === 'aws.events') return { trigger: 'schedule' };
  if (fields.length === 0) return { trigger: 'manual' };
  throw new InvalidReportRequestError(
    `invalid report request: unexpected field${fields.length > 1 ? 's' : ''} ${fields.join(', ')}; the report takes no input (send {})`,
  );
}
