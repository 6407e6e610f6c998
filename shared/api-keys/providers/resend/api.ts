import * as z from '../../../zod.js';
import { ProviderAuthError, type ProviderError, ProviderResponseError } from '../../errors.js';
import { type ProviderResponse, type RetryPolicy, requestJson } from '../../http.js';

/** The provider's name, carried by every request and error of this folder. */
export const PROVIDER = 'resend';

/** Resend's API refuses requests without a User-Agent; this one names the product. */
const USER_AGENT = 'secrets-rotation-workers (resend provider)';

/** At most this many pages of `GET /api-keys` are read (Resend returns every key in one page unless asked for less). */
const MAX_LIST_PAGES = 50;

/** The answer to `POST /api-keys`: the new key's id and its token, shown this once. */
export const createdKeySchema = z.object({
  id: z.string().check(z.minLength(1)),
  token: z.string().check(z.startsWith('re_')),
});

const keyListSchema = z.object({
  data: z.array(
    z.object({
      id: z.string().check(z.minLength(1)),
      name: z.nullish(z.string()),
      created_at: z.nullish(z.string()),
    }),
  ),
  has_more: z.optional(z.boolean()),
});

type ListedKey = z.infer<typeof keyListSchema>['data'][number];

const errorBodySchema = z.object({ name: z.optional(z.string()), message: z.optional(z.string()) });

/** One call of {@link ResendApi.call}. */
export interface ResendCall<T> {
  readonly operation: string;
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly path: string;
  /** The key that authenticates the call. */
  readonly key: string;
  readonly body?: unknown;
  readonly schema?: z.ZodMiniType<T>;
  /** 404 is an answer, not an error (a delete of a key already deleted). */
  readonly notFoundOk?: boolean;
}

/** Resend's API-keys endpoints over {@link requestJson}, with Resend's refusals mapped to typed errors. */
export class ResendApi {
  readonly #baseUrl: string;
  /** The retry policy of every call. */
  readonly retry: RetryPolicy;

  constructor(baseUrl: string, retry: RetryPolicy) {
    this.#baseUrl = baseUrl;
    this.retry = retry;
  }

  /** The full URL of an API path. */
  url(path: string): string {
    return `${this.#baseUrl}${path}`;
  }

  /** The headers of a call authenticated with `key`. */
  headers(key: string): Record<string, string> {
    return { authorization: `Bearer ${key}`, 'user-agent': USER_AGENT };
  }

  /**
   * Calls the API and throws on a refusal. Resend answers an unknown or deleted key with
   * 403 `invalid_api_key` or (newer documentation) 400 `validation_error` "API key is
   * invalid": both are {@link ProviderAuthError}s, as is 401 `restricted_api_key`.
   */
  async call<T>(request: ResendCall<T>): Promise<ProviderResponse<T>> {
    const response = await requestJson(
      {
        provider: PROVIDER,
        operation: request.operation,
        method: request.method,
        url: this.url(request.path),
        headers: this.headers(request.key),
        ...(request.body !== undefined ? { body: request.body } : {}),
        ...(request.schema ? { schema: request.schema } : {}),
        accept: request.notFoundOk ? [400, 401, 403, 404] : [400, 401, 403],
      },
      this.retry,
    );
    if (response.status < 300 || (request.notFoundOk && response.status === 404)) return response;
    throw refusal(request.operation, response.status, response.errorBody);
  }

  /** Every key of the account (ids and names; Resend never lists tokens). */
  async listKeys(manager: string): Promise<ListedKey[]> {
    const keys: ListedKey[] = [];
    let query = '';
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const response = await this.call({
        operation: 'list API keys',
        method: 'GET',
        path: `/api-keys${query}`,
        key: manager,
        schema: keyListSchema,
      });
      const { data, has_more } = bodyOf(response, 'list API keys');
      keys.push(...data);
      const last = data.at(-1);
      if (!has_more || !last) return keys;
      query = `?limit=100&after=${encodeURIComponent(last.id)}`;
    }
    throw new ProviderResponseError(PROVIDER, `could not list API keys: more than ${MAX_LIST_PAGES} pages`);
  }

  /**
   * Whether Resend still accepts `key`: `GET /api-keys` with it (sends no email). A full-access
   * key is answered 200 and a sending-only one 401 `restricted_api_key` (`works`); an unknown or
   * deleted key 403 `invalid_api_key` or 400 "API key is invalid" (`refused`). Any other answer
   * is thrown: it proves nothing either way.
   */
  async probe(key: string): Promise<'works' | 'refused'> {
    const response = await requestJson(
      {
        provider: PROVIDER,
        operation: 'find out whether the old API key still works',
        method: 'GET',
        url: this.url('/api-keys'),
        headers: this.headers(key),
        accept: [400, 401, 403],
      },
      this.retry,
    );
    if (response.status < 300) return 'works';
    if (response.status === 401 && errorName(response.errorBody) === 'restricted_api_key') return 'works';
    const code = errorName(response.errorBody);
    if ((response.status === 403 && code === 'invalid_api_key') || invalidKeyAnswer(response.errorBody)) {
      return 'refused';
    }
    throw refusal('find out whether the old API key still works', response.status, response.errorBody);
  }

  /** Deletes the key `id`; a key already gone (404) counts as deleted. Returns whether this call deleted it. */
  async deleteKey(manager: string, id: string): Promise<boolean> {
    const response = await this.call({
      operation: `delete API key ${id}`,
      method: 'DELETE',
      path: `/api-keys/${encodeURIComponent(id)}`,
      key: manager,
      notFoundOk: true,
    });
    return response.status !== 404;
  }
}

/** The typed error for a 400, 401 or 403 answer; names Resend's error code, never its message. */
function refusal(operation: string, status: number, body: unknown): ProviderError {
  const code = errorName(body);
  const detail = `HTTP ${status}${code ? ` ${code}` : ''}`;
  if (status === 401 && code === 'restricted_api_key') {
    return new ProviderAuthError(
      PROVIDER,
      `could not ${operation}: ${detail}: the managing key is sending-only; ` +
        'set "permission": "sending_access" in the secret and add "admin_secret_id"',
      { status },
    );
  }
  if (status === 401 || status === 403 || invalidKeyAnswer(body)) {
    return new ProviderAuthError(PROVIDER, `could not ${operation}: ${detail}`, { status });
  }
  return new ProviderResponseError(PROVIDER, `could not ${operation}: ${detail}`, { status });
}

/** Resend's error name (`invalid_api_key`, …) when it looks like one; never free text. */
export function errorName(body: unknown): string | undefined {
  const parsed = errorBodySchema.safeParse(body);
  const name = parsed.success ? parsed.data.name : undefined;
  return name && /^[a-z0-9_]{1,64}$/i.test(name) ? name : undefined;
}

/** Resend's newer answer to an unknown or deleted key: 400 `validation_error` "API key is invalid". */
function invalidKeyAnswer(body: unknown): boolean {
  const parsed = errorBodySchema.safeParse(body);
  return (
    parsed.success &&
    parsed.data.name === 'validation_error' &&
    /\bapi key is invalid\b/i.test(parsed.data.message ?? '')
  );
}

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
