import { createHash } from 'node:crypto';
import type { SecretFields } from '../../../rotation/strategy.js';
import * as z from '../../../zod.js';
import { KeyTestFailedError, ProviderAuthError, ProviderError, ProviderResponseError } from '../../errors.js';
import { DEFAULT_RETRY, keyHint, type ProviderResponse, type RetryPolicy, requestJson } from '../../http.js';
import type { ApiKeyProvider, ProviderContext, RevokeOutcome } from '../../provider.js';

const PROVIDER = 'resend';

/** Resend's API, for production use of {@link createResendProvider}. */
export const RESEND_API_URL = 'https://api.resend.com';

/** Resend's API-key permissions: `sending_access` keys may only send email. */
export const RESEND_PERMISSIONS = ['full_access', 'sending_access'] as const;

/** One of {@link RESEND_PERMISSIONS}. */
export type ResendPermission = (typeof RESEND_PERMISSIONS)[number];

/** Resend refuses API-key names longer than this. */
export const RESEND_KEY_NAME_MAX = 50;

/** Resend's API refuses requests without a User-Agent; this one names the product. */
const USER_AGENT = 'secrets-rotation-workers (resend provider)';

/** At most this many pages of `GET /api-keys` are read (Resend returns every key in one page unless asked for less). */
const MAX_LIST_PAGES = 50;

const optionalText = () =>
  z.optional(
    z.string({ error: 'must be a string' }).check(z.trim(), z.minLength(1, { error: 'must not be empty' })),
  );

/**
 * Validates a Resend secret. Unknown fields (`rotated_at`, …) are carried over. Every issue
 * message is about the field at the issue's path, never its value.
 */
export const resendSecretSchema = z.looseObject({
  /** The Resend API key (`re_…`). */
  api_key: z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
    .check(z.startsWith('re_', { error: 'must be a Resend API key (starting with re_)' })),
  /** Resend's id of `api_key`; absent until this product has issued the key. */
  api_key_id: optionalText(),
  /** The key's name at Resend. */
  api_key_name: optionalText(),
  /** What `api_key` may do; `full_access` when absent. */
  permission: z._default(
    z.enum(RESEND_PERMISSIONS, { error: `must be one of ${RESEND_PERMISSIONS.join(', ')}` }),
    'full_access',
  ),
  /** The domain a `sending_access` key is restricted to. */
  domain_id: optionalText(),
  /** Name or ARN of another secret whose `api_key` is a full-access key, to manage a `sending_access` key. */
  admin_secret_id: optionalText(),
});

/** The typed view of a Resend secret (see {@link resendSecretSchema}). */
export type ResendSecret = z.infer<typeof resendSecretSchema>;

/** Options of {@link createResendProvider}. */
export interface ResendProviderOptions {
  /** The API's base URL: {@link RESEND_API_URL}, or a fake's in tests. */
  readonly baseUrl: string;
  /** Retries of 429, 5xx and network errors; {@link DEFAULT_RETRY} when absent. */
  readonly retry?: RetryPolicy;
}

const createdKeySchema = z.object({
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

/**
 * A short, deterministic tag of a rotation's token, carried in the names of the keys it
 * creates. Resend caps names at 50 characters, too short for a whole token: a UUID token
 * (what Secrets Manager generates) gives its first 12 hex digits, so a person can match the
 * key to the version id; any other token gives 12 hex digits of its SHA-256.
 */
export function rotationTag(token: string): string {
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-/i.test(token)) return token.replace(/-/g, '').slice(0, 12).toLowerCase();
  return createHash('sha256').update(token).digest('hex').slice(0, 12);
}

/** The marker that names a key as created by the rotation with this token: `(rotation <tag>)`. */
export function rotationMarker(token: string): string {
  return `(rotation ${rotationTag(token)})`;
}

/**
 * The name of the key a rotation creates: `<base> (rotation <tag>)`, where `base` loses an
 * earlier rotation's suffix and is shortened so that the name fits Resend's 50 characters.
 */
export function resendKeyName(baseName: string, token: string): string {
  const suffix = ` ${rotationMarker(token)}`;
  const base = baseName
    .replace(/\s*\(rotation [^()]*\)\s*$/, '')
    .trim()
    .slice(0, Math.max(0, RESEND_KEY_NAME_MAX - suffix.length))
    .trimEnd();
  return `${base}${suffix}`.trim();
}

/** A key without a recorded `api_key_id` can only be deleted by a person. */
function manualRevocation(old: ResendSecret, current: ResendSecret): readonly string[] {
  if (old.api_key === current.api_key || old.api_key_id) return [];
  return [
    `delete the previous Resend API key ${keyHint(old.api_key)} (no api_key_id recorded) at resend.com/api-keys`,
  ];
}

/**
 * The Resend provider: issues a new API key with the same permission (and domain) as the
 * current one, proves it works without sending email, and deletes the superseded key.
 * Keys are managed with the current key when it has full access, else with the full-access
 * key of the secret named by `admin_secret_id`. No key appears in a message or a log line.
 */
export function createResendProvider(options: ResendProviderOptions): ApiKeyProvider<ResendSecret> {
  const api = new ResendApi(options.baseUrl.replace(/\/+$/, ''), options.retry ?? DEFAULT_RETRY);

  return {
    name: PROVIDER,
    schema: resendSecretSchema,

    async issue({ current, keep, context }): Promise<SecretFields> {
      const manager = await managerKey(current, context);
      const marker = rotationMarker(context.token);
      const name = resendKeyName(current.api_key_name ?? context.secret.name, context.token);
      const kept = new Set(keep.map((value) => value.api_key_id).filter((id) => id !== undefined));
      // Resend shows a token once: a key left by an earlier attempt of this rotation is useless.
      await sweep(api, manager, marker, kept, context, undefined);
      const created = await api.call({
        operation: 'create an API key',
        method: 'POST',
        path: '/api-keys',
        key: manager,
        body: {
          name,
          permission: current.permission,
          ...(current.permission === 'sending_access' && current.domain_id
            ? { domain_id: current.domain_id }
            : {}),
        },
        schema: createdKeySchema,
      });
      const { id, token } = bodyOf(created, 'create an API key');
      context.logger.info('resend: API key created', {
        keyId: id,
        keyName: name,
        permission: current.permission,
      });
      // A create whose answer was lost and retried leaves a twin: delete every other key of this rotation.
      await sweep(api, manager, marker, kept, context, id);
      return { api_key: token, api_key_id: id, api_key_name: name };
    },

    async test({ value, context }): Promise<void> {
      const which = value.api_key_id ? `the new API key ${value.api_key_id}` : 'the new API key';
      // Listing keys sends no email. A sending-only key is refused with restricted_api_key,
      // which Resend answers only to a valid key.
      const response = await requestJson(
        {
          provider: PROVIDER,
          operation: 'test the new API key',
          method: 'GET',
          url: api.url('/api-keys'),
          headers: api.headers(value.api_key),
          accept: [400, 401, 403],
        },
        api.retry,
      );
      if (response.status < 300) {
        context.logger.info('resend: new API key works', { keyId: value.api_key_id });
        return;
      }
      const code = errorName(response.errorBody);
      if (response.status === 401 && code === 'restricted_api_key') {
        if (value.permission === 'sending_access') {
          context.logger.info('resend: new sending-only API key works', { keyId: value.api_key_id });
          return;
        }
        throw new KeyTestFailedError(
          PROVIDER,
          `${which} is sending-only (HTTP 401 restricted_api_key) but the secret's permission is full_access`,
          { status: response.status },
        );
      }
      throw new KeyTestFailedError(
        PROVIDER,
        `${which} was refused: HTTP ${response.status}${code ? ` ${code}` : ''}`,
        { status: response.status },
      );
    },

    manualRevocation,

    async revoke({ old, current, context }): Promise<RevokeOutcome> {
      if (old.api_key === current.api_key || (old.api_key_id && old.api_key_id === current.api_key_id)) {
        context.logger.warn('resend: the old key is the current key; nothing revoked', {
          keyId: old.api_key_id,
        });
        return { revoked: [], manual: [] };
      }
      const manual = manualRevocation(old, current);
      const id = old.api_key_id;
      if (!id || manual.length > 0) return { revoked: [], manual };
      const manager = await managerKey(current, context);
      const response = await api.call({
        operation: `delete API key ${id}`,
        method: 'DELETE',
        path: `/api-keys/${encodeURIComponent(id)}`,
        key: manager,
        notFoundOk: true,
      });
      context.logger.info(
        response.status === 404 ? 'resend: API key was already deleted' : 'resend: API key deleted',
        { keyId: id },
      );
      return { revoked: [id], manual: [] };
    },
  };
}

/**
 * The key that manages keys: the secret's own when it has full access, else the admin
 * secret's. Only a full-access key may list, create or delete keys.
 */
async function managerKey(secret: ResendSecret, context: ProviderContext): Promise<string> {
  if (secret.permission === 'full_access') return secret.api_key;
  const adminId = secret.admin_secret_id;
  if (!adminId) {
    throw new ProviderError(
      PROVIDER,
      `secret ${context.secret.name} holds a sending_access key, which cannot manage API keys: ` +
        `add the field "admin_secret_id" to it, naming (by name or ARN) a secret whose api_key is a full_access Resend key`,
    );
  }
  const admin = await context.readSecret(adminId);
  if (typeof admin.api_key !== 'string' || !admin.api_key.startsWith('re_')) {
    throw new ProviderError(
      PROVIDER,
      `admin secret ${adminId} (admin_secret_id of ${context.secret.name}) has no api_key holding a Resend key`,
    );
  }
  if (admin.permission !== undefined && admin.permission !== 'full_access') {
    throw new ProviderError(
      PROVIDER,
      `admin secret ${adminId} (admin_secret_id of ${context.secret.name}) is not a full_access key (its permission field says otherwise)`,
    );
  }
  return admin.api_key;
}

/** Deletes the keys whose names carry `marker`, except `exceptId` and the keys still in use. */
async function sweep(
  api: ResendApi,
  manager: string,
  marker: string,
  kept: ReadonlySet<string>,
  context: ProviderContext,
  exceptId: string | undefined,
): Promise<void> {
  const leftovers = (await api.listKeys(manager)).filter(
    (key) => key.id !== exceptId && (key.name ?? '').includes(marker),
  );
  for (const key of leftovers) {
    if (kept.has(key.id)) {
      context.logger.warn("resend: a key in use carries this rotation's marker; left alone", {
        keyId: key.id,
      });
      continue;
    }
    await api.call({
      operation: `delete API key ${key.id}`,
      method: 'DELETE',
      path: `/api-keys/${encodeURIComponent(key.id)}`,
      key: manager,
      notFoundOk: true,
    });
    context.logger.info('resend: deleted a key left by an earlier attempt of this rotation', {
      keyId: key.id,
      keyName: key.name,
    });
  }
}

/** One call of {@link ResendApi.call}. */
interface ResendCall<T> {
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
class ResendApi {
  readonly #baseUrl: string;
  readonly retry: RetryPolicy;

  constructor(baseUrl: string, retry: RetryPolicy) {
    this.#baseUrl = baseUrl;
    this.retry = retry;
  }

  url(path: string): string {
    return `${this.#baseUrl}${path}`;
  }

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
function errorName(body: unknown): string | undefined {
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

function bodyOf<T>(response: ProviderResponse<T>, operation: string): T {
  if (response.body === undefined) {
    throw new ProviderResponseError(PROVIDER, `could not ${operation}: empty response`, {
      status: response.status,
    });
  }
  return response.body;
}
