/**
 * "Authentication error", defined per kind of credential: the answers that mean "this
 * credential is not (or no longer) valid", after which a fresh read of the secret may help.
 * Refusals of a valid credential (HTTP 403, AccessDenied, SQLSTATE 42501) are not among them.
 * Each test walks the error's `cause` chain, so a wrapped error (e.g. the rotation's
 * DatabaseAuthenticationError around node-postgres's) is recognised. The walk stops at a
 * {@link SecretsError}: a getter that could not read a secret (Secrets Manager refusing the
 * caller's own AWS credentials, say) is never the operation's credential failing, and a
 * fresh read cannot help it.
 */
import { SecretsError } from './errors.js';

/** PostgreSQL's invalid_password: the server refused the password. */
export const POSTGRES_AUTH_SQLSTATES: ReadonlySet<string> = new Set(['28P01']);

/** HTTP's "the credentials are missing or not valid". */
export const HTTP_AUTH_STATUSES: ReadonlySet<number> = new Set([401]);

/**
 * AWS's codes for an access key it does not accept: unknown or deleted
 * (InvalidClientTokenId in STS/IAM and query APIs, UnrecognizedClientException in JSON APIs,
 * InvalidAccessKeyId in S3, AuthFailure in EC2), or a secret that does not match the key id
 * (SignatureDoesNotMatch, InvalidSignatureException).
 */
export const AWS_AUTH_ERROR_CODES: ReadonlySet<string> = new Set([
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'InvalidAccessKeyId',
  'AuthFailure',
  'SignatureDoesNotMatch',
  'InvalidSignatureException',
]);

const MAX_CAUSES = 8;

/** The error and its causes, outermost first. */
function* causes(error: unknown): Generator<object> {
  const seen = new Set<unknown>();
  let current = error;
  for (let depth = 0; depth < MAX_CAUSES && typeof current === 'object' && current !== null; depth++) {
    if (seen.has(current)) return;
    seen.add(current);
    yield current;
    current = (current as { cause?: unknown }).cause;
  }
}

/** The error and its causes, outermost first, up to the first {@link SecretsError}. */
function* chain(error: unknown): Generator<Record<string, unknown>> {
  for (const link of causes(error)) {
    if (link instanceof SecretsError) return;
    yield link as Record<string, unknown>;
  }
}

/** Which kind of credential was refused, and the code that says so (a SQLSTATE, an HTTP status, an AWS code). */
export interface AuthenticationFailure {
  readonly kind: 'postgres' | 'http' | 'aws';
  readonly code: string;
}

function postgresCode(link: Record<string, unknown>): string | undefined {
  return typeof link.code === 'string' && POSTGRES_AUTH_SQLSTATES.has(link.code) ? link.code : undefined;
}

function httpStatus(link: Record<string, unknown>): string | undefined {
  const response = (
    typeof link.response === 'object' && link.response !== null ? link.response : {}
  ) as Record<string, unknown>;
  const status = [link.status, link.statusCode, response.status, response.statusCode].find(
    (value) => typeof value === 'number' && HTTP_AUTH_STATUSES.has(value),
  );
  return status === undefined ? undefined : String(status);
}

function awsCode(link: Record<string, unknown>): string | undefined {
  return [link.name, link.Code].find(
    (value): value is string => typeof value === 'string' && AWS_AUTH_ERROR_CODES.has(value),
  );
}

const TESTS = [
  ['postgres', postgresCode],
  ['http', httpStatus],
  ['aws', awsCode],
] as const;

/**
 * The authentication failure `error` (or one of its causes) reports: PostgreSQL 28P01,
 * HTTP 401, or an AWS key refusal; undefined for any other error.
 */
export function authenticationFailure(error: unknown): AuthenticationFailure | undefined {
  for (const link of chain(error)) {
    for (const [kind, test] of TESTS) {
      const code = test(link);
      if (code !== undefined) return { kind, code };
    }
  }
  return undefined;
}

/** PostgreSQL refused the password: SQLSTATE 28P01 (node-postgres's `code`). */
export function isPostgresAuthError(error: unknown): boolean {
  return authenticationFailure(error)?.kind === 'postgres';
}

/**
 * An HTTP provider answered 401: the `status` of a ProviderAuthError (or any error with a
 * `status` or `statusCode`), or the `status`/`statusCode` of its `response` (fetch- or
 * axios-style application clients).
 */
export function isHttpAuthError(error: unknown): boolean {
  return authenticationFailure(error)?.kind === 'http';
}

/** AWS did not accept the access key: one of {@link AWS_AUTH_ERROR_CODES} as the SDK error's `name` or `Code`. */
export function isAwsAuthError(error: unknown): boolean {
  return authenticationFailure(error)?.kind === 'aws';
}

/** True when `error` or one of its causes is this library's: a secret could not be read. */
export function isSecretsFailure(error: unknown): boolean {
  for (const link of causes(error)) if (link instanceof SecretsError) return true;
  return false;
}

/** Any of the three: PostgreSQL 28P01, HTTP 401, or an AWS key refusal. */
export function isAuthenticationError(error: unknown): boolean {
  return authenticationFailure(error) !== undefined;
}
