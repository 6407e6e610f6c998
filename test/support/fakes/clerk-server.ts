import { createHash, randomBytes } from 'node:crypto';
import { FakeHttpServer, type FakeRequest, type FakeResponse } from './http-server.js';

/** A fake of the Clerk Backend API's user count (`GET /v1/users/count`) and domains (`GET /v1/domains`). */
export interface FakeClerk {
  /** Base URL without `/v1`, for `createClerkProvider({ apiUrl })`. */
  readonly url: string;
  /** The underlying server: recorded requests, `failNext` for fault injection. */
  readonly server: FakeHttpServer;
  /**
   * The secret keys the Backend API accepts, all of one instance whose Frontend API is at
   * `frontendApi` (the host a publishable key encodes); replaces every key set before.
   */
  setSecretKeys(keys: readonly string[], frontendApi: string): void;
  /** Adds another instance, serving `frontendApi`, whose secret keys are `keys`. */
  addInstance(frontendApi: string, keys: readonly string[]): void;
  /** Every secret key the test registered, for leak scans. */
  secretKeys(): string[];
  close(): Promise<void>;
}

/** Clerk's error body: `{errors: [{message, long_message, code}], clerk_trace_id}`. */
function clerkError(status: number, code: string, message: string, longMessage: string): FakeResponse {
  return {
    status,
    body: {
      errors: [{ message, long_message: longMessage, code }],
      clerk_trace_id: randomBytes(16).toString('hex'),
    },
  };
}

/**
 * Starts a fake of Clerk's Backend API, written from Clerk's public API reference:
 * `GET /v1/users/count` → `{object: 'total_count', total_count}` with
 * `Authorization: Bearer <secret key>`; a malformed or missing header → 401
 * `authorization_header_format_invalid`; a key not set by {@link FakeClerk.setSecretKeys}
 * → 401 `clerk_key_invalid` ("The provided Clerk Secret Key is invalid"); `GET /v1/domains` →
 * `{data: [Domain], total_count}`, the Domain object of Clerk's reference (`object: 'domain'`,
 * `id`, `name`, `is_satellite`, `frontend_api_url`, `accounts_portal_url`, `proxy_url`,
 * `development_origin`, `cname_targets`) for the instance of the key.
 */
export async function startFakeClerk(): Promise<FakeClerk> {
  const server = await FakeHttpServer.start();
  /** Secret key → the Frontend API host of its instance. */
  let instances = new Map<string, string>();
  const registered: string[] = [];

  const refuse = (request: FakeRequest): FakeResponse | undefined => {
    const match = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '');
    if (!match?.[1]) {
      return clerkError(
        401,
        'authorization_header_format_invalid',
        'Invalid Authorization header format',
        "Invalid Authorization header format. Must be 'Bearer <YOUR_API_KEY>'",
      );
    }
    if (!instances.has(match[1])) {
      return clerkError(
        401,
        'clerk_key_invalid',
        'Secret Key is invalid',
        'The provided Clerk Secret Key is invalid. Make sure that your Clerk Secret Key is correct.',
      );
    }
    return undefined;
  };

  server.route('GET', '/v1/users/count', (request) => {
    return refuse(request) ?? { status: 200, body: { object: 'total_count', total_count: 42 } };
  });

  // The instance's domains: the primary one, whose frontend_api_url has the host its publishable key encodes.
  server.route('GET', '/v1/domains', (request) => {
    const refusal = refuse(request);
    if (refusal) return refusal;
    const key = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
    const host = instances.get(key) ?? '';
    const name = host.replace(/^clerk\./, '');
    return {
      status: 200,
      body: {
        data: [
          {
            object: 'domain',
            id: `dmn_${createHash('sha256').update(host).digest('hex').slice(0, 27)}`,
            name,
            is_satellite: false,
            frontend_api_url: `https://${host}`,
            accounts_portal_url: `https://accounts.${name}`,
            proxy_url: null,
            development_origin: '',
            cname_targets: [{ host, value: 'frontend-api.clerk.services', required: true }],
          },
        ],
        total_count: 1,
      },
    };
  });

  return {
    url: server.url,
    server,
    setSecretKeys(keys, frontendApi) {
      instances = new Map(keys.map((key) => [key, frontendApi]));
      registered.push(...keys);
    },
    addInstance(frontendApi, keys) {
      for (const key of keys) instances.set(key, frontendApi);
      registered.push(...keys);
    },
    secretKeys: () => [...registered],
    close: () => server.close(),
  };
}
