import {
  createVerify,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  randomInt,
  randomUUID,
} from 'node:crypto';
import { FakeHttpServer, type FakeRequest, type FakeResponse } from './http-server.js';

/** A service-account JSON key file, as the Google Cloud console downloads it. */
export interface FakeServiceAccountJson {
  readonly type: 'service_account';
  readonly project_id: string;
  readonly private_key_id: string;
  readonly private_key: string;
  readonly client_email: string;
  readonly client_id: string;
  readonly auth_uri: string;
  readonly token_uri: string;
  readonly [field: string]: unknown;
}

/** An API key as the fake keeps it. */
export interface FakeApiKey {
  /** `projects/<project number>/locations/global/keys/<key id>`. */
  readonly name: string;
  readonly keyId: string;
  readonly uid: string;
  readonly displayName: string;
  readonly keyString: string;
  readonly restrictions?: Record<string, unknown>;
  readonly etag: string;
  readonly createTime: string;
  readonly deleteTime?: string;
}

/** A verified JWT assertion the token endpoint accepted. */
export interface FakeAssertion {
  readonly header: Record<string, unknown>;
  readonly claims: Record<string, unknown>;
}

/** The fake's routes, for targeted fault injection and call counts. */
export type FakeGoogleRoute =
  | 'token'
  | 'createKey'
  | 'operation'
  | 'getKey'
  | 'keyString'
  | 'deleteKey'
  | 'safeBrowsing'
  | 'siteverify';

/** A fake of the Google APIs the Google provider calls, on one server. */
export interface FakeGoogle {
  readonly server: FakeHttpServer;
  /** For `createGoogleProvider({ apiKeysUrl })`. */
  readonly apiKeysUrl: string;
  readonly safeBrowsingUrl: string;
  readonly recaptchaVerifyUrl: string;
  /** The OAuth token endpoint, the `token_uri` of every registered service account. */
  readonly tokenUri: string;
  /**
   * A service account with a fresh RSA key pair, allowed to manage the keys of its project
   * (created with a random project number if new). Returns its JSON key file.
   */
  registerServiceAccount(input?: { projectId?: string }): FakeServiceAccountJson;
  /** Creates a key directly, as the console would (the starting key of a test). */
  seedKey(input: {
    projectId: string;
    keyId?: string;
    displayName?: string;
    restrictions?: Record<string, unknown>;
  }): FakeApiKey;
  /** Deletes a key directly, as the console would. */
  deleteKey(name: string): void;
  /** Every key, deleted ones (with `deleteTime`) included. */
  keys(): FakeApiKey[];
  /** The reCAPTCHA secrets siteverify accepts. */
  setRecaptchaSecrets(secrets: readonly string[]): void;
  /** New keys answer "API key not valid" to their first `lookups` Safe Browsing requests (propagation). */
  setPropagationLag(lookups: number): void;
  /** Lifetime (`expires_in`) of the access tokens issued from now on; 3599 s by default, as Google's. */
  setAccessTokenTtl(seconds: number): void;
  /** The assertions the token endpoint verified and accepted. */
  assertions(): FakeAssertion[];
  /** How many requests a route received (faults included). */
  calls(route: FakeGoogleRoute): number;
  /** The next `count` requests to `route` get `response` instead (nothing is done). */
  failNext(route: FakeGoogleRoute, response: FakeResponse, count?: number): void;
  /** Every credential the fake handed out (key strings, private keys, access tokens, reCAPTCHA secrets), for leak scans. */
  secrets(): string[];
  close(): Promise<void>;
}

const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const KEY_ID = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
const UUID_LIKE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const KEY_TYPE = 'type.googleapis.com/google.api.apikeys.v2.Key';
const ACCESS_TOKEN_TTL_S = 3599;
/** Clock skew the token endpoint tolerates on `iat`. */
const SKEW_S = 300;

/** A Google API error (google.rpc.Status in its JSON mapping), with an ErrorInfo reason when given. */
function googleError(
  code: number,
  status: string,
  message: string,
  reason?: string,
  service?: string,
): FakeResponse {
  return {
    status: code,
    body: {
      error: {
        code,
        message,
        status,
        ...(reason
          ? {
              details: [
                {
                  '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
                  reason,
                  domain: 'googleapis.com',
                  metadata: { service: service ?? 'apikeys.googleapis.com' },
                },
              ],
            }
          : {}),
      },
    },
  };
}

/** An OAuth token-endpoint error (RFC 6749 §5.2). */
function oauthError(status: number, error: string, description: string): FakeResponse {
  return { status, body: { error, error_description: description } };
}

interface Account {
  readonly email: string;
  readonly projectNumber: string;
  readonly publicKey: KeyObject;
}

interface StoredKey extends FakeApiKey {
  lookups: number;
  deleted: boolean;
}

/**
 * Starts a fake of the Google APIs, written from their public references:
 * - OAuth 2.0 for server-to-server applications: `POST /token` with
 *   `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>`; the JWT's
 *   RS256 signature is verified with the public key of the registered service account
 *   named by `iss`, and its claims (`scope` has cloud-platform, `aud` = token URI,
 *   `iat`/`exp` at most an hour apart and current); answers `{access_token, expires_in,
 *   token_type}` or 400 `invalid_grant` / `invalid_scope` / `unsupported_grant_type`.
 * - API Keys API v2: `POST /v2/projects/{p}/locations/global/keys?keyId=` → Operation
 *   (`keyId` checked against `[a-z]([a-z0-9-]{0,61}[a-z0-9])?` and not UUID-like; 409
 *   ALREADY_EXISTS when taken, deleted keys included), `GET /v2/operations/{id}` (done after
 *   one poll; `response` is the Key), `GET /v2/{key}` (the Key without its string; 404 for
 *   unknown or deleted keys), `GET /v2/{key}/keyString`, `DELETE /v2/{key}` → Operation.
 *   Bearer access token required (401 UNAUTHENTICATED); a service account manages only its
 *   own project (403 PERMISSION_DENIED). Projects are named by id or number; key names use
 *   the number, as Google's do.
 * - Safe Browsing v4: `POST /v4/threatMatches:find` with the key in `?key=` or the
 *   `X-Goog-Api-Key` header; an unknown or deleted key → 400 INVALID_ARGUMENT "API key not
 *   valid. Please pass a valid API key." (reason API_KEY_INVALID); a key whose `apiTargets`
 *   exclude Safe Browsing → 403 (API_KEY_SERVICE_BLOCKED); a valid lookup → `{}`.
 * - reCAPTCHA `POST /recaptcha/api/siteverify` (form `secret`, `response`): `{success:
 *   false, "error-codes": [...]}` with `invalid-input-response` for any response token and
 *   `invalid-input-secret` for a secret not set by {@link FakeGoogle.setRecaptchaSecrets}.
 */
export async function startFakeGoogle(): Promise<FakeGoogle> {
  const server = await FakeHttpServer.start();
  const tokenUri = `${server.url}/token`;
  const projects = new Map<string, string>(); // project id → number
  const accounts = new Map<string, Account>();
  const keys = new Map<string, StoredKey>(); // name → key
  const operations = new Map<string, { polls: number; response: Record<string, unknown> }>();
  const accessTokens = new Map<string, { email: string; expiresAt: number }>();
  const issuedSecrets: string[] = [];
  const accepted: FakeAssertion[] = [];
  const callCounts = new Map<FakeGoogleRoute, number>();
  const faults = new Map<FakeGoogleRoute, FakeResponse[]>();
  let recaptchaSecrets = new Set<string>();
  let propagationLag = 0;
  let accessTokenTtl = ACCESS_TOKEN_TTL_S;

  const projectNumber = (idOrNumber: string): string | undefined =>
    /^\d+$/.test(idOrNumber)
      ? [...projects.values()].includes(idOrNumber)
        ? idOrNumber
        : undefined
      : projects.get(idOrNumber);

  const ensureProject = (projectId: string): string => {
    let number = projects.get(projectId);
    if (!number) {
      number = String(randomInt(100_000_000_000, 999_999_999_999));
      projects.set(projectId, number);
    }
    return number;
  };

  /** Counts the call, then answers with a pending fault or the handler. */
  const route = (
    name: FakeGoogleRoute,
    method: string,
    path: string | RegExp,
    handler: (request: FakeRequest) => FakeResponse,
  ) => {
    server.route(method, path, (request) => {
      callCounts.set(name, (callCounts.get(name) ?? 0) + 1);
      const fault = faults.get(name)?.shift();
      return fault ?? handler(request);
    });
  };

  /** The caller's account, or the refusal. */
  const authenticate = (request: FakeRequest): Account | FakeResponse => {
    const match = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '');
    const session = match?.[1] ? accessTokens.get(match[1]) : undefined;
    const account = session && session.expiresAt > Date.now() ? accounts.get(session.email) : undefined;
    if (!account) {
      return googleError(
        401,
        'UNAUTHENTICATED',
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
        'ACCESS_TOKEN_TYPE_UNSUPPORTED',
      );
    }
    return account;
  };

  /** The number of the project a path names, if the caller holds `permission` there; or the refusal. */
  const authorizedProject = (request: FakeRequest, permission: string): string | FakeResponse => {
    const account = authenticate(request);
    if (!('email' in account)) return account;
    const number = projectNumber(request.params.project ?? '');
    if (number !== account.projectNumber) {
      return googleError(
        403,
        'PERMISSION_DENIED',
        `Permission '${permission}' denied on resource.`,
        'IAM_PERMISSION_DENIED',
      );
    }
    return number;
  };

  /** The key a path names, if the caller may manage it; or the refusal. */
  const keyFor = (request: FakeRequest): StoredKey | FakeResponse => {
    const number = authorizedProject(request, 'apikeys.keys.get');
    if (typeof number !== 'string') return number;
    const key = keys.get(`projects/${number}/locations/global/keys/${request.params.keyId ?? ''}`);
    if (!key || key.deleted) return googleError(404, 'NOT_FOUND', 'Requested entity was not found.');
    return key;
  };

  /** The Key resource as the API shows it: never its string. */
  const view = (key: StoredKey): Record<string, unknown> => {
    const { keyString: _secret, lookups: _lookups, deleted: _deleted, keyId: _id, ...rest } = key;
    return rest;
  };

  const startOperation = (response: Record<string, unknown>): FakeResponse => {
    const name = `operations/akmf.p7-${randomInt(100_000_000, 999_999_999)}-${randomUUID()}`;
    operations.set(name, { polls: 0, response });
    return { status: 200, body: { name, done: false } };
  };

  const createKey = (
    number: string,
    keyId: string,
    input: { displayName?: string; restrictions?: Record<string, unknown> },
  ): StoredKey => {
    const now = new Date().toISOString();
    const key: StoredKey = {
      name: `projects/${number}/locations/global/keys/${keyId}`,
      keyId,
      uid: randomUUID(),
      displayName: input.displayName ?? '',
      keyString: `AIza${randomBytes(26).toString('base64url').slice(0, 35)}`,
      ...(input.restrictions ? { restrictions: structuredClone(input.restrictions) } : {}),
      etag: `W/"${randomBytes(12).toString('base64')}"`,
      createTime: now,
      lookups: 0,
      deleted: false,
    };
    keys.set(key.name, key);
    issuedSecrets.push(key.keyString);
    return key;
  };

  route('token', 'POST', '/token', (request) => {
    const form = (request.body ?? {}) as Record<string, string>;
    if (form.grant_type !== JWT_BEARER_GRANT)
      return oauthError(400, 'unsupported_grant_type', `Invalid grant_type: ${String(form.grant_type)}`);
    const parts = (form.assertion ?? '').split('.');
    if (parts.length !== 3) return oauthError(400, 'invalid_request', 'Invalid JWT: malformed.');
    const [headerPart = '', claimsPart = '', signaturePart = ''] = parts;
    let header: Record<string, unknown>;
    let claims: Record<string, unknown>;
    try {
      header = JSON.parse(Buffer.from(headerPart, 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(claimsPart, 'base64url').toString('utf8'));
    } catch {
      return oauthError(400, 'invalid_request', 'Invalid JWT: not JSON.');
    }
    if (header.alg !== 'RS256') return oauthError(400, 'invalid_grant', 'Invalid JWT: alg must be RS256.');
    const account = typeof claims.iss === 'string' ? accounts.get(claims.iss) : undefined;
    if (!account) return oauthError(400, 'invalid_grant', 'Invalid grant: account not found');
    const signed = createVerify('RSA-SHA256')
      .update(`${headerPart}.${claimsPart}`)
      .verify(account.publicKey, Buffer.from(signaturePart, 'base64url'));
    if (!signed) return oauthError(400, 'invalid_grant', 'Invalid JWT Signature.');
    const now = Math.floor(Date.now() / 1000);
    const { iat, exp, aud, scope } = claims;
    if (aud !== tokenUri) return oauthError(400, 'invalid_grant', 'Invalid JWT: aud must be the token URI.');
    if (
      typeof iat !== 'number' ||
      typeof exp !== 'number' ||
      iat > now + SKEW_S ||
      exp <= now ||
      exp - iat > 3600
    ) {
      return oauthError(
        400,
        'invalid_grant',
        'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.',
      );
    }
    if (typeof scope !== 'string' || !scope.split(' ').includes(CLOUD_PLATFORM_SCOPE))
      return oauthError(400, 'invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
    accepted.push({ header, claims });
    const accessToken = `ya29.fake-${randomBytes(24).toString('base64url')}`;
    accessTokens.set(accessToken, {
      email: account.email,
      expiresAt: Date.now() + accessTokenTtl * 1000,
    });
    issuedSecrets.push(accessToken);
    return {
      status: 200,
      body: { access_token: accessToken, expires_in: accessTokenTtl, token_type: 'Bearer' },
    };
  });

  route('createKey', 'POST', '/v2/projects/:project/locations/global/keys', (request) => {
    const number = authorizedProject(request, 'apikeys.keys.create');
    if (typeof number !== 'string') return number;
    const keyId = request.query.get('keyId') ?? randomUUID();
    if (request.query.has('keyId') && (!KEY_ID.test(keyId) || UUID_LIKE.test(keyId))) {
      return googleError(400, 'INVALID_ARGUMENT', `The key id ${keyId} is invalid.`);
    }
    if (keys.has(`projects/${number}/locations/global/keys/${keyId}`)) {
      return googleError(409, 'ALREADY_EXISTS', `The key id ${keyId} already exists in project.`);
    }
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (typeof body.displayName === 'string' && body.displayName.length > 63)
      return googleError(400, 'INVALID_ARGUMENT', 'The display name must be at most 63 characters.');
    const key = createKey(number, keyId, {
      ...(typeof body.displayName === 'string' ? { displayName: body.displayName } : {}),
      ...(typeof body.restrictions === 'object' && body.restrictions !== null
        ? { restrictions: body.restrictions as Record<string, unknown> }
        : {}),
    });
    return startOperation({ '@type': KEY_TYPE, ...view(key) });
  });

  route('operation', 'GET', '/v2/operations/:operation', (request) => {
    const account = authenticate(request);
    if (!('email' in account)) return account;
    const name = `operations/${request.params.operation ?? ''}`;
    const operation = operations.get(name);
    if (!operation) return googleError(404, 'NOT_FOUND', 'Operation not found.');
    operation.polls += 1;
    return { status: 200, body: { name, done: true, response: operation.response } };
  });

  route('keyString', 'GET', '/v2/projects/:project/locations/global/keys/:keyId/keyString', (request) => {
    const key = keyFor(request);
    return 'keyString' in key ? { status: 200, body: { keyString: key.keyString } } : key;
  });

  route('getKey', 'GET', '/v2/projects/:project/locations/global/keys/:keyId', (request) => {
    const key = keyFor(request);
    return 'keyString' in key ? { status: 200, body: view(key) } : key;
  });

  route('deleteKey', 'DELETE', '/v2/projects/:project/locations/global/keys/:keyId', (request) => {
    const key = keyFor(request);
    if (!('keyString' in key)) return key;
    key.deleted = true;
    const deleted = Object.assign(key, { deleteTime: new Date().toISOString() });
    return startOperation({ '@type': KEY_TYPE, ...view(deleted) });
  });

  route('safeBrowsing', 'POST', /^\/v4\/threatMatches:find$/, (request) => {
    const keyString = (request.headers['x-goog-api-key'] as string | undefined) ?? request.query.get('key');
    if (!keyString) {
      return googleError(
        403,
        'PERMISSION_DENIED',
        "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
      );
    }
    const key = [...keys.values()].find((candidate) => candidate.keyString === keyString);
    const propagating = key !== undefined && key.lookups++ < propagationLag;
    if (!key || key.deleted || propagating) {
      return googleError(
        400,
        'INVALID_ARGUMENT',
        'API key not valid. Please pass a valid API key.',
        'API_KEY_INVALID',
        'safebrowsing.googleapis.com',
      );
    }
    const targets = key.restrictions?.apiTargets;
    if (
      Array.isArray(targets) &&
      !targets.some((target) => (target as { service?: unknown }).service === 'safebrowsing.googleapis.com')
    ) {
      return googleError(
        403,
        'PERMISSION_DENIED',
        'Requests to this API safebrowsing.googleapis.com method google.security.safebrowsing.v4.SafeBrowsing.FindThreatMatches are blocked.',
        'API_KEY_SERVICE_BLOCKED',
        'safebrowsing.googleapis.com',
      );
    }
    const body = (request.body ?? {}) as {
      client?: { clientId?: unknown };
      threatInfo?: { threatEntries?: unknown };
    };
    if (typeof body.client?.clientId !== 'string' || !Array.isArray(body.threatInfo?.threatEntries))
      return googleError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
    return { status: 200, body: {} };
  });

  route('siteverify', 'POST', '/recaptcha/api/siteverify', (request) => {
    const form = (request.body ?? {}) as Record<string, string>;
    const codes: string[] = [];
    if (!form.response) codes.push('missing-input-response');
    else codes.push('invalid-input-response'); // no user ever solved a challenge against the fake
    if (!form.secret) codes.push('missing-input-secret');
    else if (!recaptchaSecrets.has(form.secret)) codes.push('invalid-input-secret');
    return { status: 200, body: { success: false, 'error-codes': codes } };
  });

  return {
    server,
    apiKeysUrl: server.url,
    safeBrowsingUrl: server.url,
    recaptchaVerifyUrl: `${server.url}/recaptcha/api/siteverify`,
    tokenUri,
    registerServiceAccount(input = {}) {
      const projectId = input.projectId ?? `proj-${randomBytes(4).toString('hex')}`;
      const projectNumber = ensureProject(projectId);
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const email = `rotation-${randomBytes(3).toString('hex')}@${projectId}.iam.gserviceaccount.com`;
      accounts.set(email, { email, projectNumber, publicKey });
      issuedSecrets.push(pem);
      return {
        type: 'service_account',
        project_id: projectId,
        private_key_id: randomBytes(20).toString('hex'),
        private_key: pem,
        client_email: email,
        client_id: String(randomInt(100_000_000_000, 999_999_999_999)),
        auth_uri: 'https://accounts.google.com/o/oauth2/auth',
        token_uri: tokenUri,
      };
    },
    seedKey(input) {
      const number = ensureProject(input.projectId);
      const key = createKey(number, input.keyId ?? randomUUID(), {
        displayName: input.displayName ?? 'API key 1',
        ...(input.restrictions ? { restrictions: input.restrictions } : {}),
      });
      const { lookups: _lookups, deleted: _deleted, ...seeded } = key;
      return seeded;
    },
    deleteKey(name) {
      const key = keys.get(name);
      if (key) Object.assign(key, { deleted: true, deleteTime: new Date().toISOString() });
    },
    keys: () => [...keys.values()].map(({ lookups: _lookups, deleted: _deleted, ...key }) => ({ ...key })),
    setRecaptchaSecrets(secrets) {
      recaptchaSecrets = new Set(secrets);
      issuedSecrets.push(...secrets);
    },
    setPropagationLag(lookups) {
      propagationLag = lookups;
    },
    setAccessTokenTtl(seconds) {
      accessTokenTtl = seconds;
    },
    assertions: () => [...accepted],
    calls: (name) => callCounts.get(name) ?? 0,
    failNext(name, response, count = 1) {
      const queue = faults.get(name) ?? [];
      for (let i = 0; i < count; i++) queue.push(response);
      faults.set(name, queue);
    },
    secrets: () => [...issuedSecrets],
    close: () => server.close(),
  };
}
