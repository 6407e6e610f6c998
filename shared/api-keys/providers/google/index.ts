import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import * as z from 'zod';
import { MalformedSecretError } from '../../../rotation/errors.js';
import type { SecretFields } from '../../../rotation/strategy.js';
import { KeyTestFailedError, ProviderResponseError, ProviderUnavailableError } from '../../errors.js';
import { DEFAULT_RETRY, keyHint, type ProviderResponse, type RetryPolicy, requestJson } from '../../http.js';
import type {
  ApiKeyProvider,
  IssueInput,
  ProviderContext,
  RevokeInput,
  RevokeOutcome,
  TestInput,
} from '../../provider.js';
import { STAGED_LABEL } from '../../staged.js';
import { GOOGLE_PROJECT, GoogleAccessTokens, parseServiceAccount } from './service-account.js';

export {
  CLOUD_PLATFORM_SCOPE,
  GOOGLE_TOKEN_URI,
  GoogleAccessTokens,
  parseServiceAccount,
  type ServiceAccountKey,
} from './service-account.js';

const PROVIDER = 'google';

/** Google's production endpoints, for {@link createGoogleProvider}. */
export const GOOGLE_ENDPOINTS = {
  apiKeysUrl: 'https://apikeys.googleapis.com',
  safeBrowsingUrl: 'https://safebrowsing.googleapis.com',
  recaptchaVerifyUrl: 'https://www.google.com/recaptcha/api/siteverify',
} as const;

/** An API key's resource name: `projects/<project>/locations/global/keys/<key id>`. */
const KEY_NAME = /^projects\/[a-z0-9.:-]+\/locations\/global\/keys\/[a-z0-9-]{1,63}$/;
/** A long-running operation's name: `operations/<id>`. */
const OPERATION_NAME = /^operations\/[\w.:-]+$/;
/** The API Keys API's limit on `displayName`. */
const DISPLAY_NAME_MAX = 63;
/** What a new key may call when the old key's restrictions are unknown. */
const DEFAULT_RESTRICTIONS = { apiTargets: [{ service: 'safebrowsing.googleapis.com' }] };
/** A response token no user ever solved: siteverify answers `invalid-input-response` for a valid secret. */
const RECAPTCHA_PROBE = 'rotation-probe-not-a-user-response';

const requiredString = () =>
  z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') });

/**
 * Validates a Google secret (the seed's `production/api-keys/google` shape plus the fields
 * rotation needs). Unknown fields are carried over; messages name fields, never values.
 */
export const googleSecretSchema = z.looseObject({
  /** The Safe Browsing API key (`AIza…`). */
  safe_browsing_api_key: requiredString().min(1, { error: 'is required' }),
  /** The key's resource name; absent until the first rotation. */
  safe_browsing_api_key_id: z
    .string()
    .regex(KEY_NAME, { error: 'must be a key resource name projects/<project>/locations/global/keys/<id>' })
    .optional(),
  /** The reCAPTCHA secret key (`6L…`), rotated from a staged value. */
  recaptcha_secret_key: requiredString().min(1, { error: 'is required' }),
  /** Name or ARN of the secret holding the service-account JSON key that manages API keys. */
  service_account_secret_id: z.string().trim().min(1, { error: 'must not be empty' }).optional(),
  /** The project keys are created in; defaults to the service account's `project_id`. */
  google_project: z
    .string()
    .regex(GOOGLE_PROJECT, { error: 'must be a Google Cloud project id or number' })
    .optional(),
});

/** The typed view of a Google secret. */
export type GoogleSecret = z.infer<typeof googleSecretSchema>;

/** Options of {@link createGoogleProvider}; {@link GOOGLE_ENDPOINTS} holds the production URLs. */
export interface GoogleProviderOptions {
  /** API Keys API base URL, e.g. `https://apikeys.googleapis.com`. */
  readonly apiKeysUrl: string;
  /** Safe Browsing API base URL, e.g. `https://safebrowsing.googleapis.com`. */
  readonly safeBrowsingUrl: string;
  /** The full siteverify URL, e.g. `https://www.google.com/recaptcha/api/siteverify`. */
  readonly recaptchaVerifyUrl: string;
  /** Retry policy of every HTTP call. */
  readonly retry?: RetryPolicy;
  /** Interval between polls of a long-running operation. Default 1 s. */
  readonly operationPollMs?: number;
  /** How long to wait for a long-running operation before giving up. Default 60 s. */
  readonly operationTimeoutMs?: number;
  /**
   * How `test` waits for a new key to propagate: Safe Browsing may answer "API key not
   * valid" for a moment after creation. Default 6 attempts, 5 s apart.
   */
  readonly keyPropagation?: { readonly attempts: number; readonly delayMs: number };
}

const statusSchema = z.looseObject({ code: z.number().optional(), status: z.string().optional() });

const keySchema = z.looseObject({
  name: z.string().regex(KEY_NAME),
  uid: z.string().optional(),
  displayName: z.string().optional(),
  restrictions: z.record(z.string(), z.unknown()).optional(),
  etag: z.string().optional(),
  deleteTime: z.string().optional(),
});
type Key = z.infer<typeof keySchema>;

const operationSchema = z.looseObject({
  name: z.string().regex(OPERATION_NAME),
  done: z.boolean().optional(),
  error: statusSchema.optional(),
  response: z.looseObject({ name: z.string().regex(KEY_NAME).optional() }).optional(),
});
type Operation = z.infer<typeof operationSchema>;

const keyStringSchema = z.object({ keyString: z.string().min(1) });

const threatMatchesSchema = z.looseObject({ matches: z.array(z.unknown()).optional() });

const siteverifySchema = z.looseObject({
  success: z.boolean(),
  'error-codes': z.array(z.string()).optional(),
});

/** An authorized session with the API Keys API. */
interface Session {
  readonly headers: Record<string, string>;
  readonly project: string;
}

/**
 * The id of the Safe Browsing key a rotation creates, derived from its token: a retry of
 * the same rotation asks for the same id, gets 409 ALREADY_EXISTS and reuses the key.
 * `sb-` and 24 characters of the token (or of its SHA-256 when it has too few letters and
 * digits): lowercase letters, digits and hyphens, as the API requires, and not UUID-like.
 */
export function safeBrowsingKeyId(token: string): string {
  const compact = token.toLowerCase().replace(/[^a-z0-9]/g, '');
  const part =
    compact.length >= 24
      ? compact.slice(0, 24)
      : createHash('sha256').update(token).digest('hex').slice(0, 24);
  return `sb-${part}`;
}

/**
 * The Google provider: rotates the Safe Browsing API key through the API Keys API (with a
 * service account) and the reCAPTCHA secret from a staged value.
 */
export function createGoogleProvider(options: GoogleProviderOptions): ApiKeyProvider<GoogleSecret> {
  return new GoogleProvider(options);
}

class GoogleProvider implements ApiKeyProvider<GoogleSecret> {
  readonly name = PROVIDER;
  readonly schema = googleSecretSchema;
  // No API issues reCAPTCHA secrets: an operator regenerates one in the console and stages it.
  readonly stagedFields = ['recaptcha_secret_key'] as const;
  readonly #apiKeysUrl: string;
  readonly #safeBrowsingUrl: string;
  readonly #recaptchaVerifyUrl: string;
  readonly #retry: RetryPolicy;
  readonly #pollMs: number;
  readonly #timeoutMs: number;
  readonly #propagation: { readonly attempts: number; readonly delayMs: number };
  readonly #tokens: GoogleAccessTokens;

  constructor(options: GoogleProviderOptions) {
    this.#apiKeysUrl = options.apiKeysUrl.replace(/\/+$/, '');
    this.#safeBrowsingUrl = options.safeBrowsingUrl.replace(/\/+$/, '');
    this.#recaptchaVerifyUrl = options.recaptchaVerifyUrl;
    this.#retry = options.retry ?? DEFAULT_RETRY;
    this.#pollMs = options.operationPollMs ?? 1000;
    this.#timeoutMs = options.operationTimeoutMs ?? 60_000;
    this.#propagation = options.keyPropagation ?? { attempts: 6, delayMs: 5000 };
    this.#tokens = new GoogleAccessTokens(this.#retry);
  }

  async issue({ current, staged, context }: IssueInput<GoogleSecret>): Promise<SecretFields> {
    const { logger, token } = context;
    // The staged value is checked before anything is created.
    const recaptcha = this.#stagedRecaptcha(staged, context);
    const session = await this.#session(current, context, 'issue a Safe Browsing key');
    const keyId = safeBrowsingKeyId(token);
    const keyName = `projects/${session.project}/locations/global/keys/${keyId}`;
    const old = current.safe_browsing_api_key_id
      ? await this.#getKey(session, current.safe_browsing_api_key_id, 'read the current Safe Browsing key')
      : undefined;
    if (current.safe_browsing_api_key_id && !old) {
      logger.warn('current Safe Browsing key not found; the new key gets the default restrictions', {
        keyId: current.safe_browsing_api_key_id,
      });
    }
    const restrictions =
      old?.restrictions && Object.keys(old.restrictions).length > 0 ? old.restrictions : DEFAULT_RESTRICTIONS;
    const created = await requestJson(
      {
        provider: PROVIDER,
        operation: 'create a Safe Browsing key',
        method: 'POST',
        url: `${this.#apiKeysUrl}/v2/projects/${session.project}/locations/global/keys?keyId=${keyId}`,
        headers: session.headers,
        body: { displayName: displayNameFor(old?.displayName, keyId), restrictions },
        schema: operationSchema,
        accept: [409],
      },
      this.#retry,
    );
    let name: string;
    if (created.status === 409) {
      // An earlier attempt of this rotation created it (the id comes from the token).
      const existing = await this.#getKey(session, keyName, 'read the key of an earlier attempt');
      if (!existing || existing.deleteTime) {
        throw new ProviderResponseError(
          PROVIDER,
          `could not create a Safe Browsing key: id ${keyId} is taken in project ${session.project} by a deleted key; ` +
            'undelete it, or cancel this rotation and start a new one',
          { status: 409 },
        );
      }
      name = existing.name;
      logger.info('reusing the Safe Browsing key of an earlier attempt of this rotation', { keyId: name });
    } else {
      const done = await this.#wait(
        session,
        bodyOf(created, 'create a Safe Browsing key'),
        'create a Safe Browsing key',
      );
      name =
        done.response?.name ??
        (await this.#getKey(session, keyName, 'read the new Safe Browsing key'))?.name ??
        keyName;
      logger.info('Safe Browsing key created', { keyId: name });
    }
    const keyString = bodyOf(
      await requestJson(
        {
          provider: PROVIDER,
          operation: 'read the new Safe Browsing key string',
          method: 'GET',
          url: `${this.#apiKeysUrl}/v2/${name}/keyString`,
          headers: session.headers,
          schema: keyStringSchema,
        },
        this.#retry,
      ),
      'read the new Safe Browsing key string',
    ).keyString;
    return {
      safe_browsing_api_key: keyString,
      safe_browsing_api_key_id: name,
      ...recaptcha,
    };
  }

  async test({ value, context }: TestInput<GoogleSecret>): Promise<void> {
    await this.#testSafeBrowsing(value, context);
    await this.#testRecaptcha(value, context);
  }

  async revoke({ old, current, context }: RevokeInput<GoogleSecret>): Promise<RevokeOutcome> {
    // The reCAPTCHA secret needs no revocation: the operator regenerated it in the reCAPTCHA
    // console before staging the new one, and regenerating replaces the old secret there.
    const id = old.safe_browsing_api_key_id;
    if (
      old.safe_browsing_api_key === current.safe_browsing_api_key ||
      (id !== undefined && id === current.safe_browsing_api_key_id)
    ) {
      context.logger.info('previous Safe Browsing key is the current key; nothing to revoke');
      return { revoked: [], manual: [] };
    }
    const hint = keyHint(old.safe_browsing_api_key);
    if (!id) {
      return {
        revoked: [],
        manual: [
          `delete the previous Safe Browsing API key ${hint} in the Google Cloud console (APIs & Services → Credentials)`,
        ],
      };
    }
    const serviceAccount = current.service_account_secret_id ?? old.service_account_secret_id;
    if (!serviceAccount) {
      return {
        revoked: [],
        manual: [
          `delete the previous Safe Browsing API key ${hint} (${id}) in the Google Cloud console (APIs & Services → Credentials)`,
        ],
      };
    }
    const session = await this.#session(
      { ...current, service_account_secret_id: serviceAccount },
      context,
      'delete the previous Safe Browsing key',
    );
    const deleted = await requestJson(
      {
        provider: PROVIDER,
        operation: 'delete the previous Safe Browsing key',
        method: 'DELETE',
        url: `${this.#apiKeysUrl}/v2/${id}`,
        headers: session.headers,
        schema: operationSchema,
        accept: [404],
      },
      this.#retry,
    );
    if (deleted.status === 404) {
      context.logger.info('previous Safe Browsing key already deleted', { keyId: id });
    } else {
      await this.#wait(
        session,
        bodyOf(deleted, 'delete the previous Safe Browsing key'),
        'delete the previous Safe Browsing key',
      );
      context.logger.info('previous Safe Browsing key deleted', { keyId: id });
    }
    return { revoked: [id], manual: [] };
  }

  /** The staged reCAPTCHA secret as a field to change, or nothing (it is carried over). */
  #stagedRecaptcha(staged: SecretFields | undefined, context: ProviderContext): SecretFields {
    const secret = staged?.recaptcha_secret_key;
    if (secret === undefined) {
      // Decision: Safe Browsing keeps its 90-day rotation even when nobody staged a reCAPTCHA secret.
      context.logger.warn('recaptcha secret not rotated: no staged value');
      return {};
    }
    if (typeof secret !== 'string' || !/^\S+$/.test(secret)) {
      throw new MalformedSecretError(
        `the ${STAGED_LABEL} value of secret ${context.secret.name} is not usable: recaptcha_secret_key: must be a non-empty string without spaces`,
        ['recaptcha_secret_key'],
      );
    }
    context.logger.info('recaptcha secret taken from the staged value');
    return { recaptcha_secret_key: secret };
  }

  /** Looks the new key up in Safe Browsing, waiting a bounded time for it to propagate. */
  async #testSafeBrowsing(value: GoogleSecret, context: ProviderContext): Promise<void> {
    const operation = 'look up a URL with the new Safe Browsing key';
    const which = value.safe_browsing_api_key_id ?? keyHint(value.safe_browsing_api_key);
    const { attempts, delayMs } = this.#propagation;
    for (let attempt = 1; ; attempt++) {
      const response = await requestJson(
        {
          provider: PROVIDER,
          operation,
          method: 'POST',
          url: `${this.#safeBrowsingUrl}/v4/threatMatches:find`,
          // The header rather than `?key=`: a URL may end up in a message or a proxy's log.
          headers: { 'x-goog-api-key': value.safe_browsing_api_key },
          body: {
            client: { clientId: 'secrets-rotation-workers', clientVersion: '1.0' },
            threatInfo: {
              threatTypes: ['MALWARE'],
              platformTypes: ['ANY_PLATFORM'],
              threatEntryTypes: ['URL'],
              threatEntries: [{ url: 'https://example.com/' }],
            },
          },
          schema: threatMatchesSchema,
          accept: [400, 403],
        },
        this.#retry,
      );
      if (response.status < 300) {
        context.logger.info('Safe Browsing key works', { keyId: which, attempts: attempt });
        return;
      }
      const reason = googleReason(response.errorBody);
      const keyProblem = response.status === 403 || reason.startsWith('API_KEY_');
      if (!keyProblem) {
        throw new ProviderResponseError(
          PROVIDER,
          `could not ${operation}: HTTP ${response.status} ${reason}`,
          {
            status: response.status,
          },
        );
      }
      if (reason === 'API_KEY_INVALID' && attempt < attempts) {
        context.logger.info('Safe Browsing key not valid yet; waiting for it to propagate', {
          keyId: which,
          attempt,
        });
        await sleep(delayMs);
        continue;
      }
      throw new KeyTestFailedError(
        PROVIDER,
        `the Safe Browsing key ${which} was refused: HTTP ${response.status} ${reason} after ${attempt} attempt(s)`,
        { status: response.status },
      );
    }
  }

  /**
   * Proves a new reCAPTCHA secret with a response token no user solved: siteverify answers
   * `invalid-input-response` for a valid secret and `invalid-input-secret` for a bad one.
   * A secret carried over unchanged from AWSCURRENT is not tested again.
   */
  async #testRecaptcha(value: GoogleSecret, context: ProviderContext): Promise<void> {
    const current = await context.readSecret(context.secret.arn).catch(() => undefined);
    if (current !== undefined && current.recaptcha_secret_key === value.recaptcha_secret_key) {
      context.logger.info('recaptcha secret unchanged; not tested');
      return;
    }
    const operation = 'verify the new reCAPTCHA secret';
    const body = bodyOf(
      await requestJson(
        {
          provider: PROVIDER,
          operation,
          method: 'POST',
          url: this.#recaptchaVerifyUrl,
          body: new URLSearchParams({ secret: value.recaptcha_secret_key, response: RECAPTCHA_PROBE }),
          schema: siteverifySchema,
        },
        this.#retry,
      ),
      operation,
    );
    const codes = (body['error-codes'] ?? []).map(shortCode);
    if (codes.includes('invalid-input-secret') || codes.includes('missing-input-secret')) {
      throw new KeyTestFailedError(
        PROVIDER,
        `the reCAPTCHA secret was refused by siteverify: ${codes.join(', ')}`,
      );
    }
    if (!body.success && !codes.includes('invalid-input-response')) {
      throw new ProviderResponseError(
        PROVIDER,
        `could not ${operation}: siteverify answered ${codes.join(', ') || 'no error code'}`,
      );
    }
    context.logger.info('recaptcha secret accepted by siteverify');
  }

  /** Reads the service account named by the secret and gets an access token for it. */
  async #session(secret: GoogleSecret, context: ProviderContext, purpose: string): Promise<Session> {
    const secretId = secret.service_account_secret_id;
    if (!secretId) {
      throw new MalformedSecretError(
        `secret ${context.secret.name} has no service_account_secret_id: the Google provider needs ` +
          `the name of a secret holding a service-account JSON key to ${purpose}`,
        ['service_account_secret_id'],
      );
    }
    const account = parseServiceAccount(await context.readSecret(secretId), secretId);
    const accessToken = await this.#tokens.get(account);
    return {
      headers: { authorization: `Bearer ${accessToken}` },
      project: secret.google_project ?? account.projectId,
    };
  }

  /** A key's metadata, or undefined when it does not exist. */
  async #getKey(session: Session, name: string, operation: string): Promise<Key | undefined> {
    const response = await requestJson(
      {
        provider: PROVIDER,
        operation,
        method: 'GET',
        url: `${this.#apiKeysUrl}/v2/${name}`,
        headers: session.headers,
        schema: keySchema,
        accept: [404],
      },
      this.#retry,
    );
    return response.status === 404 ? undefined : bodyOf(response, operation);
  }

  /** Polls a long-running operation until it is done, for at most `operationTimeoutMs`. */
  async #wait(session: Session, started: Operation, what: string): Promise<Operation> {
    const deadline = Date.now() + this.#timeoutMs;
    let operation = started;
    while (!operation.done) {
      if (Date.now() >= deadline) {
        throw new ProviderUnavailableError(
          PROVIDER,
          `could not ${what}: operation ${operation.name} not done after ${this.#timeoutMs} ms`,
        );
      }
      await sleep(this.#pollMs);
      const polled = await requestJson(
        {
          provider: PROVIDER,
          operation: `poll the operation to ${what}`,
          method: 'GET',
          url: `${this.#apiKeysUrl}/v2/${operation.name}`,
          headers: session.headers,
          schema: operationSchema,
        },
        this.#retry,
      );
      operation = bodyOf(polled, `poll the operation to ${what}`);
    }
    if (operation.error) {
      const code = operation.error.status ?? String(operation.error.code ?? 'error');
      throw new ProviderResponseError(
        PROVIDER,
        `could not ${what}: operation ${operation.name} failed: ${shortCode(code)}`,
      );
    }
    return operation;
  }
}

/** The body of a 2xx answer validated by its schema. */
function bodyOf<T>(response: ProviderResponse<T>, operation: string): T {
  if (response.body === undefined) {
    throw new ProviderResponseError(PROVIDER, `could not ${operation}: empty response`, {
      status: response.status,
    });
  }
  return response.body;
}

/** The old key's display name with this rotation's key id in place of an earlier one, within 63 characters. */
function displayNameFor(old: string | undefined, keyId: string): string {
  const suffix = ` (rotation ${keyId})`;
  const base = (old ?? 'Safe Browsing').replace(/\s*\(rotation [^)]*\)$/, '').trim() || 'Safe Browsing';
  return `${base.slice(0, DISPLAY_NAME_MAX - suffix.length).trimEnd()}${suffix}`;
}

/** The reason of a Google API error (`API_KEY_INVALID`), else its status (`INVALID_ARGUMENT`). */
function googleReason(body: unknown): string {
  const error = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
  if (typeof error !== 'object' || error === null) return 'error';
  const { details, status, message } = error as { details?: unknown; status?: unknown; message?: unknown };
  const reason = Array.isArray(details)
    ? details
        .map((detail) =>
          typeof detail === 'object' && detail !== null ? (detail as { reason?: unknown }).reason : undefined,
        )
        .find((value): value is string => typeof value === 'string')
    : undefined;
  if (reason) return shortCode(reason);
  // Older answers carry no ErrorInfo: the message is the only sign of an unknown key.
  if (typeof message === 'string' && /API key not valid/i.test(message)) return 'API_KEY_INVALID';
  return typeof status === 'string' ? shortCode(status) : 'error';
}

/** An error code reduced to a short token, safe for a message. */
function shortCode(code: string): string {
  return code.replace(/[^\w.:-]/g, '').slice(0, 64);
}
