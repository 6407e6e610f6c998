import { createHash, createPrivateKey, createSign, type KeyObject } from 'node:crypto';
import { MalformedSecretError } from '../../../rotation/errors.js';
import type { SecretFields } from '../../../rotation/strategy.js';
import * as z from '../../../zod.js';
import { ProviderAuthError, ProviderResponseError } from '../../errors.js';
import { DEFAULT_RETRY, type RetryPolicy, requestJson } from '../../http.js';

/** The OAuth scope the API Keys API requires. */
export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

/** Google's OAuth token endpoint, used when a service-account key names none. */
export const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';

const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Google accepts assertions valid for at most one hour. */
const ASSERTION_LIFETIME_S = 3600;
/** A cached access token is dropped this long before it expires. */
const EXPIRY_MARGIN_MS = 60_000;
const PROVIDER = 'google';

/** A Google service-account key, as read from the secret holding its JSON key file. */
export interface ServiceAccountKey {
  readonly clientEmail: string;
  readonly projectId: string;
  readonly tokenUri: string;
  /** The `private_key_id`, sent as the assertion's `kid` when present. */
  readonly privateKeyId?: string;
  readonly privateKey: KeyObject;
  /** A digest of the key material, so that a replaced key never reuses a cached token. */
  readonly fingerprint: string;
}

/** A GCP project id (`my-project`, `example.com:my-project`) or project number. */
export const GOOGLE_PROJECT = /^(?:[a-z][a-z0-9.:-]{4,61}[a-z0-9]|\d{1,20})$/;

const isTokenUri = (value: string): boolean => {
  try {
    const url = new URL(value);
    // Plain HTTP only to a loopback address (a local emulator); the assertion is a credential.
    return (
      url.protocol === 'https:' ||
      (url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname))
    );
  } catch {
    return false;
  }
};

const serviceAccountSchema = z.looseObject({
  type: z.optional(z.literal('service_account', { error: 'must be service_account' })),
  client_email: z.email({
    error: (issue) => (issue.input === undefined ? 'is required' : 'must be an email address'),
  }),
  private_key: z.requiredString().check(
    z.refine((pem) => /-----BEGIN (RSA )?PRIVATE KEY-----/.test(pem), {
      error: 'must be a PEM private key',
    }),
  ),
  private_key_id: z.optional(z.string().check(z.minLength(1))),
  project_id: z
    .requiredString()
    .check(z.regex(GOOGLE_PROJECT, { error: 'must be a Google Cloud project id' })),
  token_uri: z.optional(z.string().check(z.refine(isTokenUri, { error: 'must be an https:// URL' }))),
});

/**
 * Validates the fields of a secret holding a Google service-account JSON key
 * (`client_email`, `private_key`, `project_id`, `token_uri`) and loads its RSA key.
 * @throws {MalformedSecretError} naming the secret and each bad field, never a value.
 */
export function parseServiceAccount(fields: SecretFields, secretId: string): ServiceAccountKey {
  const where = `secret ${secretId} is not a Google service-account key`;
  const parsed = serviceAccountSchema.safeParse(fields);
  if (!parsed.success) {
    const paths = parsed.error.issues.map((issue) => issue.path.join('.') || '(value)');
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(value)'}: ${issue.message}`,
    );
    throw new MalformedSecretError(`${where}: ${problems.join('; ')}`, paths);
  }
  const account = parsed.data;
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(account.private_key);
  } catch {
    // The parser's message may quote the PEM; it is not passed on.
    throw new MalformedSecretError(`${where}: private_key: is not a readable PEM private key`, [
      'private_key',
    ]);
  }
  if (privateKey.asymmetricKeyType !== 'rsa') {
    throw new MalformedSecretError(`${where}: private_key: must be an RSA key`, ['private_key']);
  }
  const tokenUri = account.token_uri ?? GOOGLE_TOKEN_URI;
  return {
    clientEmail: account.client_email,
    projectId: account.project_id,
    tokenUri,
    ...(account.private_key_id ? { privateKeyId: account.private_key_id } : {}),
    privateKey,
    fingerprint: createHash('sha256')
      .update(`${account.client_email}\n${tokenUri}\n${account.private_key}`)
      .digest('hex'),
  };
}

const tokenResponseSchema = z.object({
  access_token: z.string().check(z.minLength(1)),
  expires_in: z.number().check(z.positive()),
  token_type: z
    .string()
    .check(z.refine((type) => type.toLowerCase() === 'bearer', { error: 'must be Bearer' })),
});

const base64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');

/**
 * Exchanges service-account keys for OAuth access tokens (the JWT bearer flow of
 * "OAuth 2.0 for server to server applications"): a JWT signed RS256 with the account's
 * private key, claiming `iss` = `client_email`, the cloud-platform scope and
 * `aud` = `token_uri`, is posted to `token_uri`. Tokens are cached per key until shortly
 * before they expire, so the steps of one rotation on a warm Lambda sign once.
 */
export class GoogleAccessTokens {
  readonly #retry: RetryPolicy;
  readonly #cache = new Map<string, { token: string; expiresAt: number }>();

  constructor(retry: RetryPolicy = DEFAULT_RETRY) {
    this.#retry = retry;
  }

  /**
   * An access token for the account with the cloud-platform scope.
   * @throws {ProviderAuthError} when the token endpoint refuses the assertion (HTTP 400, 401 or 403).
   */
  async get(account: ServiceAccountKey): Promise<string> {
    const cached = this.#cache.get(account.fingerprint);
    if (cached && cached.expiresAt - EXPIRY_MARGIN_MS > Date.now()) return cached.token;
    this.#cache.delete(account.fingerprint);
    const operation = `get an access token for service account ${account.clientEmail}`;
    const response = await requestJson(
      {
        provider: PROVIDER,
        operation,
        method: 'POST',
        url: account.tokenUri,
        body: new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion: this.#assertion(account) }),
        schema: tokenResponseSchema,
        // The token endpoint answers 400 invalid_grant for a bad signature, an unknown key or clock skew.
        accept: [400],
      },
      this.#retry,
    );
    if (response.status === 400) {
      throw new ProviderAuthError(
        PROVIDER,
        `could not ${operation}: HTTP 400 ${oauthError(response.errorBody)}`,
        {
          status: 400,
        },
      );
    }
    const body = response.body;
    if (!body) throw new ProviderResponseError(PROVIDER, `could not ${operation}: empty response`);
    this.#cache.set(account.fingerprint, {
      token: body.access_token,
      expiresAt: Date.now() + body.expires_in * 1000,
    });
    return body.access_token;
  }

  /** The signed JWT: `{header}.{claims}.{RS256 signature}`, each part base64url. */
  #assertion(account: ServiceAccountKey): string {
    const iat = Math.floor(Date.now() / 1000);
    const header = {
      alg: 'RS256',
      typ: 'JWT',
      ...(account.privateKeyId ? { kid: account.privateKeyId } : {}),
    };
    const claims = {
      iss: account.clientEmail,
      scope: CLOUD_PLATFORM_SCOPE,
      aud: account.tokenUri,
      iat,
      exp: iat + ASSERTION_LIFETIME_S,
    };
    const unsigned = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    let signature: Buffer;
    try {
      signature = createSign('RSA-SHA256').update(unsigned).sign(account.privateKey);
    } catch {
      throw new ProviderAuthError(
        PROVIDER,
        `could not sign the assertion of service account ${account.clientEmail}: its private_key cannot sign RS256`,
      );
    }
    return `${unsigned}.${base64url(signature)}`;
  }
}

/** The OAuth `error` code of a token-endpoint answer (`invalid_grant`), short and never a credential. */
function oauthError(body: unknown): string {
  const code =
    typeof body === 'object' && body !== null ? (body as Record<string, unknown>).error : undefined;
  return typeof code === 'string' ? code.replace(/[^\w.:-]/g, '').slice(0, 64) : 'error';
}
