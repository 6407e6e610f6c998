import { setTimeout as sleep } from 'node:timers/promises';
import { MalformedSecretError } from '../../../rotation/errors.js';
import * as z from '../../../zod.js';
import { ProviderResponseError, ProviderUnavailableError } from '../../errors.js';
import { type RetryPolicy, requestJson } from '../../http.js';
import type { ProviderContext } from '../../provider.js';
import { readCredentialSecret } from '../credentials.js';
import { bodyOf, PROVIDER, shortCode } from './response.js';
import { type GoogleSecret, KEY_NAME } from './schema.js';
import { GoogleAccessTokens, parseServiceAccount } from './service-account.js';

/** A long-running operation's name: `operations/<id>`. */
const OPERATION_NAME = /^operations\/[\w.:-]+$/;
/** The API Keys API's limit on `displayName`. */
const DISPLAY_NAME_MAX = 63;

const statusSchema = z.looseObject({ code: z.optional(z.number()), status: z.optional(z.string()) });

const keySchema = z.looseObject({
  name: z.string().check(z.regex(KEY_NAME)),
  uid: z.optional(z.string()),
  displayName: z.optional(z.string()),
  restrictions: z.optional(z.record(z.string(), z.unknown())),
  etag: z.optional(z.string()),
  deleteTime: z.optional(z.string()),
});

const operationSchema = z.looseObject({
  name: z.string().check(z.regex(OPERATION_NAME)),
  done: z.optional(z.boolean()),
  error: z.optional(statusSchema),
  response: z.optional(z.looseObject({ name: z.optional(z.string().check(z.regex(KEY_NAME))) })),
});

const keyStringSchema = z.object({ keyString: z.string().check(z.minLength(1)) });

/** An API key's metadata, as the API Keys API v2 answers it. */
export type ApiKey = z.infer<typeof keySchema>;

/** A long-running operation of the API Keys API v2. */
export type Operation = z.infer<typeof operationSchema>;

/** An authorized session with the API Keys API. */
export interface Session {
  readonly headers: Record<string, string>;
  readonly project: string;
}

/** Options of {@link ApiKeysClient}. */
export interface ApiKeysClientOptions {
  /** API Keys API base URL, without a trailing slash. */
  readonly apiKeysUrl: string;
  /** Retry policy of every HTTP call, and of the access-token exchange. */
  readonly retry: RetryPolicy;
  /** Interval between polls of a long-running operation. */
  readonly pollMs: number;
  /** How long to wait for a long-running operation before giving up. */
  readonly timeoutMs: number;
}

/**
 * A client of the API Keys API v2 for the Safe Browsing key: authorizes with a service
 * account, creates a key under a chosen id, reads it and its key string, deletes it, and
 * waits for the long-running operations creation and deletion start.
 */
export class ApiKeysClient {
  readonly #apiKeysUrl: string;
  readonly #retry: RetryPolicy;
  readonly #pollMs: number;
  readonly #timeoutMs: number;
  readonly #tokens: GoogleAccessTokens;

  constructor(options: ApiKeysClientOptions) {
    this.#apiKeysUrl = options.apiKeysUrl;
    this.#retry = options.retry;
    this.#pollMs = options.pollMs;
    this.#timeoutMs = options.timeoutMs;
    this.#tokens = new GoogleAccessTokens(this.#retry);
  }

  /**
   * Reads the service account named by the secret and gets an access token for it.
   * @throws {MalformedSecretError} when the secret names no service account, or it is not one.
   */
  async session(secret: GoogleSecret, context: ProviderContext, purpose: string): Promise<Session> {
    const secretId = secret.service_account_secret_id;
    if (!secretId) {
      throw new MalformedSecretError(
        `secret ${context.secret.name} has no service_account_secret_id: the Google provider needs ` +
          `the name of a secret holding a service-account JSON key to ${purpose}`,
        ['service_account_secret_id'],
      );
    }
    const account = parseServiceAccount(
      await readCredentialSecret(context, 'service_account_secret_id', secretId),
      secretId,
    );
    const accessToken = await this.#tokens.get(account);
    return {
      headers: { authorization: `Bearer ${accessToken}` },
      project: secret.google_project ?? account.projectId,
    };
  }

  /** A key's metadata, or undefined when it does not exist. */
  async getKey(session: Session, name: string, operation: string): Promise<ApiKey | undefined> {
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

  /**
   * Creates the Safe Browsing key `keyId` in the session's project and waits for it. When
   * the id is taken (409), the key is reused only if it proves to be this rotation's: the id
   * comes from the secret and the token, and the key's display name carries the same id.
   * @returns the key's resource name, and whether it was reused rather than created.
   * @throws {ProviderResponseError} when the id is taken by a key that cannot be read (deleted,
   *   or still being created by another attempt) or that does not carry the marker, or the
   *   operation fails.
   */
  async createKey(
    session: Session,
    keyId: string,
    key: { readonly displayName: string; readonly restrictions: Record<string, unknown> },
  ): Promise<{ readonly name: string; readonly reused: boolean }> {
    const keyName = `projects/${session.project}/locations/global/keys/${keyId}`;
    const created = await requestJson(
      {
        provider: PROVIDER,
        operation: 'create a Safe Browsing key',
        method: 'POST',
        url: `${this.#apiKeysUrl}/v2/projects/${session.project}/locations/global/keys?keyId=${keyId}`,
        headers: session.headers,
        body: { displayName: key.displayName, restrictions: key.restrictions },
        schema: operationSchema,
        accept: [409],
      },
      this.#retry,
    );
    if (created.status === 409) {
      const existing = await this.getKey(session, keyName, 'read the key of an earlier attempt');
      if (!existing || existing.deleteTime) {
        throw new ProviderResponseError(
          PROVIDER,
          `could not create a Safe Browsing key: id ${keyId} is taken in project ${session.project}, but the key cannot be read: ` +
            'another attempt of this rotation may still be creating it (retry the step), or it was deleted ' +
            '(undelete it, or cancel this rotation and start a new one)',
          { status: 409 },
        );
      }
      if (!isMarkedKey(existing.displayName, keyId)) {
        throw new ProviderResponseError(
          PROVIDER,
          `could not create a Safe Browsing key: id ${keyId} is taken in project ${session.project} by a key whose display name ` +
            `does not end with "${rotationSuffix(keyId)}", so it cannot be proven to be this rotation's; nothing was reused. ` +
            'Find out who made it (APIs & Services → Credentials); cancel this rotation and start a new one',
          { status: 409 },
        );
      }
      return { name: existing.name, reused: true };
    }
    const done = await this.#wait(
      session,
      bodyOf(created, 'create a Safe Browsing key'),
      'create a Safe Browsing key',
    );
    const name =
      done.response?.name ??
      (await this.getKey(session, keyName, 'read the new Safe Browsing key'))?.name ??
      keyName;
    return { name, reused: false };
  }

  /** The key string (`AIza…`) of the key `name`. */
  async keyString(
    session: Session,
    name: string,
    operation = 'read the new Safe Browsing key string',
  ): Promise<string> {
    return bodyOf(
      await requestJson(
        {
          provider: PROVIDER,
          operation,
          method: 'GET',
          url: `${this.#apiKeysUrl}/v2/${name}/keyString`,
          headers: session.headers,
          schema: keyStringSchema,
        },
        this.#retry,
      ),
      operation,
    ).keyString;
  }

  /**
   * Deletes the key `name` and waits for the deletion.
   * @returns false when the key was already gone (404), true when this call deleted it.
   */
  async deleteKey(session: Session, name: string): Promise<boolean> {
    const deleted = await requestJson(
      {
        provider: PROVIDER,
        operation: 'delete the previous Safe Browsing key',
        method: 'DELETE',
        url: `${this.#apiKeysUrl}/v2/${name}`,
        headers: session.headers,
        schema: operationSchema,
        accept: [404],
      },
      this.#retry,
    );
    if (deleted.status === 404) return false;
    await this.#wait(
      session,
      bodyOf(deleted, 'delete the previous Safe Browsing key'),
      'delete the previous Safe Browsing key',
    );
    return true;
  }

  /** Polls a long-running operation until it is done, for at most `timeoutMs`. */
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

/** True when a key's display name ends with the marker of the rotation that derived `keyId`. */
export function isMarkedKey(displayName: string | undefined, keyId: string): boolean {
  return (displayName ?? '').endsWith(rotationSuffix(keyId));
}

/** The marker ending the display name of the key a rotation creates: `(rotation <key id>)`. */
function rotationSuffix(keyId: string): string {
  return `(rotation ${keyId})`;
}

/** The old key's display name with this rotation's key id in place of an earlier one, within 63 characters. */
export function displayNameFor(old: string | undefined, keyId: string): string {
  const suffix = ` ${rotationSuffix(keyId)}`;
  const base = (old ?? 'Safe Browsing').replace(/\s*\(rotation [^)]*\)$/, '').trim() || 'Safe Browsing';
  return `${base.slice(0, DISPLAY_NAME_MAX - suffix.length).trimEnd()}${suffix}`;
}
