/**
 * Error redaction for the handler boundary: what is logged and what is thrown back to the
 * Lambda runtime. This product's own errors are written never to carry a value, so they keep
 * their messages. Any other error (an SDK's, pg's, fetch's, a bug's TypeError) may quote a
 * secret: undici's invalid-header message quotes the whole Authorization header. Such errors
 * are reduced to their name and code, wherever they sit in a `cause` chain.
 */
import { ConfigurationError } from '../config/env.js';
import { RotationError } from '../rotation/errors.js';
import { SecretsError } from '../secrets/errors.js';
import { jsonTypeOf } from '../zod.js';

/** How many causes deep a chain is followed; the rest is left out. */
const MAX_DEPTH = 8;
/** How many of an AggregateError's errors are kept. */
const MAX_ERRORS = 10;
/** A name or code worth keeping: an identifier, never free text. */
const TOKEN = /^[\w.:$-]{1,64}$/;

/**
 * Stands in for an error this product did not raise, or a thrown value that is not an
 * `Error`: its message and stack header are withheld, its name and code kept.
 */
export class RedactedError extends Error {
  /** The name of the error it stands for, e.g. `TypeError` (`Error` when it had no usable name). */
  readonly originalName: string;
  /** Its code, when it had a short one, e.g. `ECONNREFUSED` or pg's SQLSTATE. */
  readonly code: string | undefined;
  /** An AggregateError's errors, redacted. */
  readonly errors: readonly Error[] | undefined;
  constructor(
    message: string,
    options?: ErrorOptions & { originalName?: string; code?: string; errors?: readonly Error[] },
  ) {
    super(message, options);
    this.name = 'RedactedError';
    this.originalName = options?.originalName ?? 'Error';
    this.code = options?.code;
    this.errors = options?.errors;
  }
}

/** Errors whose messages this product writes, and which never carry a value. */
function isOwnError(value: unknown): value is Error {
  return (
    value instanceof RotationError ||
    value instanceof ConfigurationError ||
    value instanceof SecretsError ||
    value instanceof RedactedError
  );
}

/** Reads a property that may be a throwing getter. */
function read(value: object, key: string): unknown {
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

function token(value: unknown): string | undefined {
  return typeof value === 'string' && TOKEN.test(value) ? value : undefined;
}

/**
 * The error to log and to throw at the boundary, built from anything thrown. This product's
 * errors are returned as they are, their `cause` replaced by its redacted form; any other
 * error, anywhere in the chain, becomes a {@link RedactedError}. The result has no cycles (an
 * error met twice ends the chain there) and at most {@link MAX_DEPTH} causes.
 */
export function redactError(error: unknown): Error {
  return redact(error, new Set(), 0);
}

function redact(value: unknown, seen: Set<unknown>, depth: number): Error {
  seen.add(value);
  const next = (inner: unknown): Error | undefined =>
    inner === undefined || inner === null || seen.has(inner) || depth >= MAX_DEPTH
      ? undefined
      : redact(inner, seen, depth + 1);
  if (isOwnError(value)) {
    const cause = next(read(value, 'cause'));
    try {
      if (cause === undefined) delete (value as { cause?: unknown }).cause;
      else Object.defineProperty(value, 'cause', { value: cause, configurable: true, writable: true });
      return value;
    } catch {
      // A frozen error cannot take the redacted cause: keep its message, drop the chain.
      return new RedactedError(value.message, { originalName: token(value.name) ?? 'Error' });
    }
  }
  if (typeof value !== 'object' || value === null) {
    return new RedactedError(`a ${jsonTypeOf(value)} was thrown, not an Error; its value is withheld`, {
      originalName: 'NonError',
    });
  }
  const name = token(read(value, 'name')) ?? (value instanceof Error ? 'Error' : 'NonError');
  const code = token(read(value, 'code'));
  const list = read(value, 'errors');
  const errors = Array.isArray(list)
    ? list
        .slice(0, MAX_ERRORS)
        .map(next)
        .filter((e): e is Error => e !== undefined)
    : undefined;
  const cause = next(read(value, 'cause'));
  const redacted = new RedactedError(
    `${name}${code ? ` (${code})` : ''}: its message is withheld, as it may quote a secret`,
    {
      originalName: name,
      ...(code ? { code } : {}),
      ...(errors ? { errors } : {}),
      ...(cause ? { cause } : {}),
    },
  );
  redacted.stack = `${redacted.name}: ${redacted.message}${framesOf(value)}`;
  return redacted;
}

/**
 * The stack frames of a foreign error, without its header (which holds the message). Kept
 * only when the stack starts with exactly the header V8 writes, so that no part of a message
 * can pass for a frame; otherwise there are none.
 */
function framesOf(error: object): string {
  try {
    const stack = read(error, 'stack');
    if (typeof stack !== 'string' || !(error instanceof Error)) return '';
    const header = Error.prototype.toString.call(error);
    if (!stack.startsWith(header)) return '';
    const frames = stack.slice(header.length);
    return /^(\n {4}at [^\n\r\0]*)*$/.test(frames) ? frames : '';
  } catch {
    return '';
  }
}

/**
 * A one-line summary of any error for a message: its name and the codes along its cause
 * chain, e.g. `TypeError (ECONNREFUSED)`. Never a message.
 */
export function summarizeError(error: unknown): string {
  const redacted = redactError(error);
  const name = redacted instanceof RedactedError ? redacted.originalName : redacted.name;
  const codes: string[] = [];
  for (let e: unknown = redacted; e instanceof Error && codes.length < MAX_DEPTH; e = e.cause) {
    if (e instanceof RedactedError && e.code) codes.push(e.code);
  }
  return codes.length > 0 ? `${name} (${codes.join(', ')})` : name;
}
