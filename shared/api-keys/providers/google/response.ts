import { ProviderResponseError } from '../../errors.js';
import type { ProviderResponse } from '../../http.js';

/** The provider's name, carried by every request and error of this folder. */
export const PROVIDER = 'google';

/**
 * The body of a 2xx answer validated by its schema.
 * @throws {ProviderResponseError} when the answer has no body.
 */
export function bodyOf<T>(response: ProviderResponse<T>, operation: string): T {
  if (response.body === undefined) {
    throw new ProviderResponseError(PROVIDER, `could not ${operation}: empty response`, {
      status: response.status,
    });
  }
  return response.body;
}

/** An error code reduced to a short token, safe for a message. */
export function shortCode(code: string): string {
  return code.replace(/[^\w.:-]/g, '').slice(0, 64);
}
