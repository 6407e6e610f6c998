/**
 * How a failed AWS SDK call is quoted in this product's error messages. An AWS service
 * exception (the SDK sets `$fault` on every error a service answered) keeps its name and
 * message: AWS writes those, and they name principals, actions and resources, never a secret
 * value. Anything else is reduced to its name and code: the SDK's deserialization error is a
 * `SyntaxError` whose message may quote the start of the response body (a GetSecretValue
 * body holds the secret), and a `TypeError` or a network error may quote anything.
 */

/** The parts of an SDK error this module reads. */
interface SdkErrorShape {
  readonly name?: unknown;
  readonly message?: unknown;
  readonly code?: unknown;
  readonly $fault?: unknown;
}

/** A name or code worth keeping: an identifier, never free text. */
const TOKEN = /^[\w.:$-]{1,64}$/;

/** True for an error an AWS service answered (`$fault` is `client` or `server`). */
export function isAwsServiceError(error: unknown): error is Error {
  const fault = error instanceof Error ? (error as SdkErrorShape).$fault : undefined;
  return fault === 'client' || fault === 'server';
}

/** The error's name (or `Error`), safe to quote: an identifier only. */
export function awsErrorName(error: unknown): string {
  const name = error instanceof Error ? error.name : undefined;
  return typeof name === 'string' && TOKEN.test(name) ? name : 'Error';
}

/**
 * `Name: message` for an AWS service exception; `Name` or `Name (code)` for anything else,
 * e.g. `SyntaxError`, `Error (ECONNREFUSED)`.
 */
export function awsErrorText(error: unknown): string {
  const name = awsErrorName(error);
  if (isAwsServiceError(error)) return `${name}: ${error.message}`;
  const code = error instanceof Error ? (error as SdkErrorShape).code : undefined;
  return typeof code === 'string' && TOKEN.test(code) && code !== name ? `${name} (${code})` : name;
}
