import {
  ProviderAuthError,
  ProviderError,
  ProviderRateLimitError,
  ProviderUnavailableError,
} from '../../errors.js';
import { AWS_PROVIDER } from './schema.js';

/** Error codes with which STS refuses a key IAM has not propagated yet. */
export const PROPAGATION_CODES = new Set(['InvalidClientTokenId', 'SignatureDoesNotMatch', 'AccessDenied']);

/** Error codes of a refused credential or a denied call: {@link ProviderAuthError}s. */
export const AUTH_CODES = new Set([
  'AccessDenied',
  'UnauthorizedOperation',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'UnrecognizedClient',
  'InvalidAccessKeyId',
]);
const RATE_CODES = new Set(['Throttling', 'TooManyRequests', 'RequestLimitExceeded', 'SlowDown']);
const UNAVAILABLE_CODES = new Set([
  'ServiceFailure',
  'ServiceUnavailable',
  'InternalFailure',
  'RequestTimeout',
]);

interface SdkErrorShape {
  readonly name?: unknown;
  readonly Code?: unknown;
  readonly code?: unknown;
  readonly $fault?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: number; readonly requestId?: string };
}

/** The AWS error code of an SDK error (`NoSuchEntityException` → `NoSuchEntity`), sanitised. */
export function codeOf(error: unknown): string {
  if (typeof error !== 'object' || error === null) return 'Error';
  const shape = error as SdkErrorShape;
  const name = shape.name === 'Error' ? undefined : shape.name; // network errors: name Error, code ECONNREFUSED
  const raw = [shape.Code, name, shape.code, shape.name].find(
    (value) => typeof value === 'string' && value !== '',
  );
  return String(raw ?? 'Error')
    .replace(/Exception$/, '')
    .replace(/[^\w.-]/g, '')
    .slice(0, 64);
}

/**
 * Maps an IAM or STS failure to a typed provider error whose message holds the operation,
 * the error code, the HTTP status and the request id: never the SDK's own message (which
 * may name a key id) and never a credential.
 */
export function toProviderError(operation: string, error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  const shape = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorShape;
  const code = codeOf(error);
  const status = shape.$metadata?.httpStatusCode;
  if (status === undefined) {
    // The SDK gave up without an HTTP answer (connection refused, DNS, timeout).
    const Kind = shape.$metadata ? ProviderUnavailableError : ProviderError;
    return new Kind(
      AWS_PROVIDER,
      `could not ${operation}: ${code}${shape.$metadata ? ' (no answer from AWS)' : ''}`,
    );
  }
  const requestId = shape.$metadata?.requestId;
  const message = `could not ${operation}: ${code} (HTTP ${status}${requestId ? `, request ${requestId}` : ''})`;
  const options = { status };
  if (AUTH_CODES.has(code) || status === 401 || status === 403) {
    return new ProviderAuthError(AWS_PROVIDER, message, options);
  }
  if (RATE_CODES.has(code) || status === 429)
    return new ProviderRateLimitError(AWS_PROVIDER, message, options);
  if (UNAVAILABLE_CODES.has(code) || status >= 500 || shape.$fault === 'server') {
    return new ProviderUnavailableError(AWS_PROVIDER, message, options);
  }
  return new ProviderError(AWS_PROVIDER, message, options);
}

/** Sends an IAM or STS command, turning failures into typed provider errors (see {@link toProviderError}). */
export async function callIam<T>(operation: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw toProviderError(operation, error);
  }
}

/**
 * The secret cannot prove that an access key it names is its own: the key carries no rotation
 * tag of this secret (`rotation-key:<id>` on the IAM user), and the secret's pair does not sign
 * in as the user (wrong secret access key, an inactive key), or the tag names another secret.
 * A key id is not secret, so naming one proves nothing. Nothing was deleted or created.
 */
export class AccessKeyNotProvenError extends ProviderError {
  constructor(message: string, options?: ErrorOptions) {
    super(AWS_PROVIDER, message, options);
    this.name = 'AccessKeyNotProvenError';
  }
}

/**
 * The IAM user already has two access keys (IAM's limit) and none of them may be deleted to
 * make room: the message names each key (hint, status, whose) and what to do. Nothing was
 * deleted or created.
 */
export class AccessKeyLimitError extends ProviderError {
  constructor(message: string, options?: ErrorOptions) {
    super(AWS_PROVIDER, message, options);
    this.name = 'AccessKeyLimitError';
  }
}

/**
 * A key in the way is not this secret's (another application's, another secret's, or one
 * this rotation cannot prove it created): a person must decide whether it is still needed.
 */
export class ForeignAccessKeyError extends AccessKeyLimitError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ForeignAccessKeyError';
  }
}

/**
 * A key in the way was created after this rotation began and never used, but so recently
 * that another attempt of the step may still be storing it. Retrying is safe: from
 * `retryAfter` on, it counts as this rotation's orphan and is deleted.
 */
export class AccessKeyInFlightError extends AccessKeyLimitError {
  /** When the key stops being possibly another attempt's (its creation plus the step timeout). */
  readonly retryAfter: Date;
  constructor(message: string, retryAfter: Date, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AccessKeyInFlightError';
    this.retryAfter = retryAfter;
  }
}
