import { randomBytes, randomUUID } from 'node:crypto';
import { FakeHttpServer, type FakeRequest, type FakeResponse } from './http-server.js';

/** Resend's API-key permissions. */
export type FakeResendPermission = 'full_access' | 'sending_access';

/** A key as the fake keeps it. */
export interface FakeResendKey {
  readonly id: string;
  readonly name: string;
  readonly token: string;
  readonly permission: FakeResendPermission;
  readonly domain_id?: string;
  readonly created_at: string;
}

/** Options of {@link startFakeResend}. */
export interface FakeResendOptions {
  /**
   * Status of the answer to an unknown or deleted key: 403 `invalid_api_key` (Resend's
   * error table and status table) by default, or 400 `validation_error` "API key is invalid"
   * (a newer revision of the error table).
   */
  readonly invalidKeyStatus?: 400 | 403;
  /** Page size of `GET /api-keys` when the request names no `limit`; all keys by default, as Resend does. */
  readonly pageSize?: number;
}

/** A fake Resend API-keys API (`/api-keys`), keys in memory. */
export interface FakeResend {
  /** Base URL, for `createResendProvider({ baseUrl })`. */
  readonly url: string;
  /** The underlying server: recorded requests, `failNext` for fault injection. */
  readonly server: FakeHttpServer;
  /** Creates a key directly (the starting key of a test), as the dashboard would. */
  seedKey(input: { name: string; permission?: FakeResendPermission; domain_id?: string }): {
    id: string;
    token: string;
  };
  /** The keys that exist now. */
  keys(): FakeResendKey[];
  /** Every token the fake ever issued, deleted keys' included, for leak scans. */
  issuedTokens(): string[];
  /** The next `count` requests get `response` instead of their route's answer (nothing is done). */
  failNext(response: FakeResponse, count?: number): void;
  /** The next request with this method is carried out, but its answer is replaced by `response` (a lost reply). */
  loseNextAnswer(method: string, response: FakeResponse): void;
  close(): Promise<void>;
}

/** Resend caps API-key names at this length. */
const NAME_MAX = 50;

/** Resend's error body. */
function error(statusCode: number, name: string, message: string): FakeResponse {
  return { status: statusCode, body: { statusCode, message, name } };
}

/**
 * Starts a fake of Resend's API-keys API, written from Resend's public API reference:
 * `POST /api-keys` (`{name, permission, domain_id}` → 201 `{id, token}`), `GET /api-keys`
 * (`{object: 'list', has_more, data: [{id, name, created_at}]}`, never a token, cursor
 * pagination with `limit`/`after`), `DELETE /api-keys/:id` (`{object, id, deleted}`, 404
 * `not_found`). Bearer auth: no header → 401 `missing_api_key`; unknown token → 403
 * `invalid_api_key` (see {@link FakeResendOptions.invalidKeyStatus}); a `sending_access`
 * key → 401 `restricted_api_key`; no User-Agent → 403, as Resend's edge answers.
 */
export async function startFakeResend(options: FakeResendOptions = {}): Promise<FakeResend> {
  const server = await FakeHttpServer.start();
  const keys = new Map<string, FakeResendKey>();
  const issued: string[] = [];
  const lost: { method: string; response: FakeResponse }[] = [];

  const create = (input: {
    name: string;
    permission: FakeResendPermission;
    domain_id?: string | undefined;
  }): FakeResendKey => {
    const key: FakeResendKey = {
      id: randomUUID(),
      name: input.name,
      token: `re_${randomBytes(24).toString('base64url')}`,
      permission: input.permission,
      ...(input.domain_id !== undefined ? { domain_id: input.domain_id } : {}),
      created_at: new Date().toISOString(),
    };
    keys.set(key.id, key);
    issued.push(key.token);
    return key;
  };

  /** Authenticates a request that needs a full-access key: the refusal, or undefined. */
  const refuse = (request: FakeRequest): FakeResponse | undefined => {
    if (!request.headers['user-agent']) return { status: 403, body: 'error code: 1010' };
    const match = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '');
    if (!match) return error(401, 'missing_api_key', 'Missing API key in the authorization header');
    const key = [...keys.values()].find((candidate) => candidate.token === match[1]);
    if (!key) {
      return options.invalidKeyStatus === 400
        ? error(400, 'validation_error', 'API key is invalid')
        : error(403, 'invalid_api_key', 'API key is invalid');
    }
    if (key.permission !== 'full_access')
      return error(401, 'restricted_api_key', 'This API key is restricted to only send emails');
    return undefined;
  };

  /** Carries out a request, then replaces the answer if it was to be lost. */
  const answer = (request: FakeRequest, handle: () => FakeResponse): FakeResponse => {
    const refused = refuse(request);
    if (refused) return refused;
    const response = handle();
    const index = lost.findIndex((entry) => entry.method === request.method);
    if (index < 0) return response;
    const [entry] = lost.splice(index, 1);
    return entry ? entry.response : response;
  };

  server.route('POST', '/api-keys', (request) =>
    answer(request, () => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      if (typeof body.name !== 'string') return error(422, 'missing_required_field', 'Missing `name` field.');
      if (body.name.length > NAME_MAX)
        return error(422, 'validation_error', `The \`name\` field must be at most ${NAME_MAX} characters.`);
      const permission = body.permission ?? 'full_access';
      if (permission !== 'full_access' && permission !== 'sending_access')
        return error(422, 'invalid_access', 'Access must be "full_access" | "sending_access".');
      if (body.domain_id !== undefined && typeof body.domain_id !== 'string')
        return error(422, 'validation_error', 'The `domain_id` field must be a string.');
      const key = create({
        name: body.name,
        permission,
        // Resend uses domain_id only for sending_access keys.
        domain_id: permission === 'sending_access' ? body.domain_id : undefined,
      });
      return { status: 201, body: { id: key.id, token: key.token } };
    }),
  );

  server.route('GET', '/api-keys', (request) =>
    answer(request, () => {
      const all = [...keys.values()].reverse(); // newest first
      const limitParam = request.query.get('limit');
      const limit = limitParam !== null ? Number(limitParam) : options.pageSize;
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 100))
        return error(422, 'validation_error', 'The `limit` parameter must be between 1 and 100.');
      const after = request.query.get('after');
      const start = after ? all.findIndex((key) => key.id === after) + 1 : 0;
      const page = limit === undefined ? all.slice(start) : all.slice(start, start + limit);
      return {
        status: 200,
        body: {
          object: 'list',
          has_more: start + page.length < all.length,
          data: page.map(({ id, name, created_at }) => ({ id, name, created_at })),
        },
      };
    }),
  );

  server.route('DELETE', '/api-keys/:id', (request) =>
    answer(request, () => {
      const id = request.params.id ?? '';
      if (!keys.delete(id)) return error(404, 'not_found', 'API key not found');
      return { status: 200, body: { object: 'api_key', id, deleted: true } };
    }),
  );

  return {
    url: server.url,
    server,
    seedKey(input) {
      const key = create({
        name: input.name,
        permission: input.permission ?? 'full_access',
        domain_id: input.domain_id,
      });
      return { id: key.id, token: key.token };
    },
    keys: () => [...keys.values()],
    issuedTokens: () => [...issued],
    failNext: (response, count) => server.failNext(response, count),
    loseNextAnswer(method, response) {
      lost.push({ method, response });
    },
    close: () => server.close(),
  };
}
