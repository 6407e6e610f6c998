import { setTimeout as sleep } from 'node:timers/promises';
import { redactError, summarizeError } from '../logging/redact.js';
import type * as z from '../zod.js';
import {
  ProviderAuthError,
  type ProviderError,
  ProviderRateLimitError,
  ProviderResponseError,
  ProviderUnavailableError,
} from './errors.js';

/** One HTTP call to a provider. */
export interface ProviderRequest<T> {
  readonly provider: string;
  /** What the call does, for messages: `create an API key`. */
  readonly operation: string;
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  readonly url: string;
  readonly headers?: Record<string, string>;
  /** A JSON body, or a form (`URLSearchParams`). */
  readonly body?: unknown;
  /** Validates a 2xx body; absent when the body is ignored. */
  readonly schema?: z.ZodMiniType<T>;
  /** Statuses returned to the caller as `{ status }` instead of thrown (e.g. 404 on delete). */
  readonly accept?: readonly number[];
}

/** What came back. `body` is validated when the status is 2xx and a schema was given. */
export interface ProviderResponse<T> {
  readonly status: number;
  readonly body: T | undefined;
  /** The raw JSON of a non-2xx answer the caller accepted, for error codes. */
  readonly errorBody?: unknown;
}

/** Retry policy of {@link requestJson}. */
export interface RetryPolicy {
  /** Attempts in all, including the first. Default 4. */
  readonly attempts: number;
  /** First backoff; doubles each time, capped by `maxDelayMs`. Default 200 ms. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Per-attempt timeout. Default 10 s. */
  readonly timeoutMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 4,
  baseDelayMs: 200,
  maxDelayMs: 5000,
  timeoutMs: 10_000,
};

/**
 * Calls a provider's JSON API: retries 429 (honouring `Retry-After`) and 5xx and network
 * errors with bounded exponential backoff, validates the answer, and turns failures into
 * typed {@link ProviderError}s whose messages carry the status and the provider's error
 * code, never a request header or body (which hold keys).
 */
export async function requestJson<T>(
  request: ProviderRequest<T>,
  retry: RetryPolicy = DEFAULT_RETRY,
): Promise<ProviderResponse<T>> {
  const { provider, operation } = request;
  const isForm = request.body instanceof URLSearchParams;
  const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
  if (request.body !== undefined)
    headers['content-type'] = isForm ? 'application/x-www-form-urlencoded' : 'application/json';
  let lastError: ProviderError | undefined;
  for (let attempt = 1; attempt <= retry.attempts; attempt++) {
    let response: Response;
    try {
      response = await fetch(request.url, {
        method: request.method,
        headers,
        ...(request.body !== undefined
          ? { body: isForm ? String(request.body) : JSON.stringify(request.body) }
          : {}),
        signal: AbortSignal.timeout(retry.timeoutMs),
      });
    } catch (error) {
      // fetch's messages may quote a header (undici's invalid-header message quotes the key):
      // the cause keeps only names and codes (e.g. `TypeError (ECONNREFUSED)`).
      const cause = redactError(error);
      lastError = new ProviderUnavailableError(
        provider,
        `could not ${operation}: ${summarizeError(cause)} (${hostOf(request.url)})`,
        { cause },
      );
      await backoff(retry, attempt);
      continue;
    }
    const text = await response.text();
    const json = parseJson(text);
    const status = response.status;
    if (status >= 200 && status < 300) {
      if (!request.schema) return { status, body: undefined };
      const parsed = request.schema.safeParse(json);
      if (!parsed.success) {
        const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(body)').join(', ');
        throw new ProviderResponseError(
          provider,
          `could not ${operation}: unexpected response (fields: ${fields})`,
          {
            status,
          },
        );
      }
      return { status, body: parsed.data };
    }
    if (request.accept?.includes(status)) return { status, body: undefined, errorBody: json };
    const detail = `HTTP ${status}${errorCode(json) ? ` ${errorCode(json)}` : ''}`;
    if (status === 401 || status === 403) {
      throw new ProviderAuthError(provider, `could not ${operation}: ${detail}`, { status });
    }
    if (status === 429) {
      lastError = new ProviderRateLimitError(
        provider,
        `could not ${operation}: ${detail} after ${attempt} attempts`,
        {
          status,
        },
      );
      await backoff(retry, attempt, response.headers.get('retry-after'));
      continue;
    }
    if (status >= 500) {
      lastError = new ProviderUnavailableError(
        provider,
        `could not ${operation}: ${detail} after ${attempt} attempts`,
        {
          status,
        },
      );
      await backoff(retry, attempt);
      continue;
    }
    throw new ProviderResponseError(provider, `could not ${operation}: ${detail}`, { status });
  }
  throw lastError ?? new ProviderUnavailableError(provider, `could not ${operation}`);
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'invalid URL';
  }
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

/** A provider's error code or name from common error shapes; short, never a key. */
function errorCode(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const record = body as Record<string, unknown>;
  const nested = record.error as Record<string, unknown> | string | undefined;
  const candidates = [
    record.name,
    record.code,
    typeof nested === 'object' && nested !== null ? (nested.status ?? nested.code) : nested,
    Array.isArray(record.errors)
      ? (record.errors[0] as Record<string, unknown> | undefined)?.code
      : undefined,
    Array.isArray(record['error-codes']) ? record['error-codes'][0] : undefined,
  ];
  const found = candidates.find((value) => typeof value === 'string' || typeof value === 'number');
  return found === undefined
    ? undefined
    : String(found)
        .replace(/[^\w.:-]/g, '')
        .slice(0, 64);
}

async function backoff(retry: RetryPolicy, attempt: number, retryAfter?: string | null): Promise<void> {
  if (attempt >= retry.attempts) return;
  const seconds = retryAfter ? Number(retryAfter) : Number.NaN;
  const delay = Number.isFinite(seconds)
    ? Math.min(seconds * 1000, retry.maxDelayMs)
    : Math.min(retry.baseDelayMs * 2 ** (attempt - 1), retry.maxDelayMs);
  await sleep(delay);
}

/** The last four characters of a key, for reminders a person can match ("…abcd"). Never more. */
export function keyHint(key: string): string {
  return key.length > 12 ? `…${key.slice(-4)}` : '…';
}
