import { randomBytes } from 'node:crypto';
import { FakeHttpServer, type FakeRequest, type FakeResponse } from './http-server.js';

/** A fake of the Clerk Backend API's user count (`GET /v1/users/count`). */
export interface FakeClerk {
  /** Base URL without `/v1`, for `createClerkProvider({ apiUrl })`. */
  readonly url: string;
  /** The underlying server: recorded requests, `failNext` for fault injection. */
  readonly server: FakeHttpServer;
  /** The secret keys the Backend API accepts (the instance's keys in the dashboard). */
  setSecretKeys(keys: readonly string[]): void;
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
 * → 401 `clerk_key_invalid` ("The provided Clerk Secret Key is invalid").
 */
export async function startFakeClerk(): Promise<FakeClerk> {
  const server = await FakeHttpServer.start();
  let valid = new Set<string>();
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
    if (!valid.has(match[1])) {
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

  return {
    url: server.url,
    server,
    setSecretKeys(keys) {
      valid = new Set(keys);
      registered.push(...keys);
    },
    secretKeys: () => [...registered],
    close: () => server.close(),
  };
}
