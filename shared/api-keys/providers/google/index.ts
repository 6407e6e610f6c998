import { MalformedSecretError } from '../../../rotation/errors.js';
import type { SecretFields } from '../../../rotation/strategy.js';
import { DEFAULT_RETRY, keyHint, type RetryPolicy } from '../../http.js';
import type {
  ApiKeyProvider,
  IssueInput,
  ProviderContext,
  RevokeInput,
  RevokeOutcome,
  TestInput,
} from '../../provider.js';
import { STAGED_LABEL } from '../../staged.js';
import { HEADER_SAFE_RULE, isHeaderSafe } from '../fields.js';
import {
  probeSafeBrowsing,
  type RecaptchaCheckOptions,
  type SafeBrowsingCheckOptions,
  testRecaptcha,
  testSafeBrowsing,
} from './checks.js';
import { ApiKeysClient, displayNameFor, isMarkedKey } from './keys-api.js';
import { PROVIDER } from './response.js';
import { type GoogleSecret, googleSecretSchema, safeBrowsingKeyId } from './schema.js';

export { type GoogleSecret, googleSecretSchema, safeBrowsingKeyId } from './schema.js';
export {
  CLOUD_PLATFORM_SCOPE,
  GOOGLE_TOKEN_URI,
  GoogleAccessTokens,
  parseServiceAccount,
  type ServiceAccountKey,
} from './service-account.js';

/** Google's production endpoints, for {@link createGoogleProvider}. */
export const GOOGLE_ENDPOINTS = {
  apiKeysUrl: 'https://apikeys.googleapis.com',
  safeBrowsingUrl: 'https://safebrowsing.googleapis.com',
  recaptchaVerifyUrl: 'https://www.google.com/recaptcha/api/siteverify',
} as const;

/** How long a step waits for one of the API Keys API's long-running operations, by default. */
export const GOOGLE_OPERATION_TIMEOUT_MS = 60_000;

/** How a step waits for a new Safe Browsing key to propagate, by default: 6 lookups, 5 s apart. */
export const GOOGLE_KEY_PROPAGATION = { attempts: 6, delayMs: 5000 } as const;

/** What a new key may call when the old key's restrictions are unknown. */
const DEFAULT_RESTRICTIONS = { apiTargets: [{ service: 'safebrowsing.googleapis.com' }] };

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
  readonly #keys: ApiKeysClient;
  readonly #safeBrowsing: SafeBrowsingCheckOptions;
  readonly #recaptcha: RecaptchaCheckOptions;

  constructor(options: GoogleProviderOptions) {
    const retry = options.retry ?? DEFAULT_RETRY;
    this.#keys = new ApiKeysClient({
      apiKeysUrl: options.apiKeysUrl.replace(/\/+$/, ''),
      retry,
      pollMs: options.operationPollMs ?? 1000,
      timeoutMs: options.operationTimeoutMs ?? GOOGLE_OPERATION_TIMEOUT_MS,
    });
    this.#safeBrowsing = {
      safeBrowsingUrl: options.safeBrowsingUrl.replace(/\/+$/, ''),
      retry,
      propagation: options.keyPropagation ?? GOOGLE_KEY_PROPAGATION,
    };
    this.#recaptcha = { recaptchaVerifyUrl: options.recaptchaVerifyUrl, retry };
  }

  async issue({ current, staged, context }: IssueInput<GoogleSecret>): Promise<SecretFields> {
    const { logger, token } = context;
    // The staged value is checked before anything is created.
    const recaptcha = this.#stagedRecaptcha(staged, context);
    const session = await this.#keys.session(current, context, 'issue a Safe Browsing key');
    const keyId = safeBrowsingKeyId(context.secret.arn, token);
    const old = current.safe_browsing_api_key_id
      ? await this.#keys.getKey(
          session,
          current.safe_browsing_api_key_id,
          'read the current Safe Browsing key',
        )
      : undefined;
    if (current.safe_browsing_api_key_id && !old) {
      logger.warn('current Safe Browsing key not found; the new key gets the default restrictions', {
        keyId: current.safe_browsing_api_key_id,
      });
    }
    const restrictions =
      old?.restrictions && Object.keys(old.restrictions).length > 0 ? old.restrictions : DEFAULT_RESTRICTIONS;
    const { name, reused } = await this.#keys.createKey(session, keyId, {
      displayName: displayNameFor(old?.displayName, keyId),
      restrictions,
    });
    if (reused) {
      logger.info('reusing the Safe Browsing key of an earlier attempt of this rotation', { keyId: name });
    } else {
      logger.info('Safe Browsing key created', { keyId: name });
    }
    const keyString = await this.#keys.keyString(session, name);
    return {
      safe_browsing_api_key: keyString,
      safe_browsing_api_key_id: name,
      ...recaptcha,
    };
  }

  async test({ value, context }: TestInput<GoogleSecret>): Promise<void> {
    await testSafeBrowsing(value, context, this.#safeBrowsing);
    await testRecaptcha(value, context, this.#recaptcha);
  }

  /** A key without a recorded id, or with no service account to delete it, is deleted by a person. */
  manualRevocation(old: GoogleSecret, current: GoogleSecret): readonly string[] {
    const id = old.safe_browsing_api_key_id;
    if (
      old.safe_browsing_api_key === current.safe_browsing_api_key ||
      (id && id === current.safe_browsing_api_key_id)
    ) {
      return [];
    }
    if (id && (current.service_account_secret_id ?? old.service_account_secret_id)) return [];
    const which = id ? `${keyHint(old.safe_browsing_api_key)} (${id})` : keyHint(old.safe_browsing_api_key);
    return [
      `delete the previous Safe Browsing API key ${which} in the Google Cloud console (APIs & Services → Credentials)`,
    ];
  }

  /**
   * Deletes the old Safe Browsing key only when the key `safe_browsing_api_key_id` names is
   * provably the old version's: its key string is the old version's `safe_browsing_api_key`,
   * or its id is the one this secret's rotation `oldVersionId` derives and its display name
   * carries that id. A key any kept value holds is left alone; anything else is left to a
   * person, with a reminder naming the key's hint.
   */
  async revoke({
    old,
    current,
    keep = [],
    oldVersionId,
    context,
  }: RevokeInput<GoogleSecret>): Promise<RevokeOutcome> {
    // The reCAPTCHA secret needs no revocation: the operator regenerated it in the reCAPTCHA
    // console before staging the new one, and regenerating replaces the old secret there.
    const id = old.safe_browsing_api_key_id;
    const held = [current, ...keep].some(
      (value) =>
        value.safe_browsing_api_key === old.safe_browsing_api_key ||
        (id !== undefined && value.safe_browsing_api_key_id === id),
    );
    if (held) {
      context.logger.info(
        'previous Safe Browsing key is still held by a version that must stay valid; nothing to revoke',
      );
      return { revoked: [], manual: [] };
    }
    const manual = this.manualRevocation(old, current);
    const serviceAccount = current.service_account_secret_id ?? old.service_account_secret_id;
    if (!id || !serviceAccount || manual.length > 0) return { revoked: [], manual };
    const byHand = (why: string): RevokeOutcome => {
      context.logger.warn("previous Safe Browsing key not provably this secret's; left to a person", {
        keyId: id,
        why,
      });
      return {
        revoked: [],
        manual: [
          `delete the previous Safe Browsing API key ${keyHint(old.safe_browsing_api_key)} in the Google Cloud console ` +
            `(APIs & Services → Credentials) once nothing uses it: ${why}`,
        ],
      };
    };
    const session = await this.#keys.session(
      { ...current, service_account_secret_id: serviceAccount },
      context,
      'delete the previous Safe Browsing key',
    );
    const derivedId = oldVersionId ? safeBrowsingKeyId(context.secret.arn, oldVersionId) : undefined;
    const derived = derivedId !== undefined && id.endsWith(`/keys/${derivedId}`);
    const key = await this.#keys.getKey(session, id, 'read the previous Safe Browsing key');
    if (!key || key.deleteTime) {
      // Not found: deleted already, unless the id never named the old key (which may still work).
      if (derived || (await probeSafeBrowsing(old.safe_browsing_api_key, this.#safeBrowsing)) === 'refused') {
        context.logger.info('previous Safe Browsing key already deleted', { keyId: id });
        return { revoked: [id], manual: [] };
      }
      return byHand(
        `the key still works, but ${id} names no key of the project: check safe_browsing_api_key_id`,
      );
    }
    const proven =
      (derived && derivedId !== undefined && isMarkedKey(key.displayName, derivedId)) ||
      (await this.#keys.keyString(session, id, 'read the previous Safe Browsing key string')) ===
        old.safe_browsing_api_key;
    if (!proven) {
      return byHand(
        `the key ${id} holds another key string than the previous version's safe_browsing_api_key, ` +
          "so the rotation cannot prove it is that version's key (check safe_browsing_api_key_id)",
      );
    }
    if (await this.#keys.deleteKey(session, id)) {
      context.logger.info('previous Safe Browsing key deleted', { keyId: id });
    } else {
      context.logger.info('previous Safe Browsing key already deleted', { keyId: id });
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
    if (typeof secret !== 'string' || secret === '' || !isHeaderSafe(secret)) {
      throw new MalformedSecretError(
        `the ${STAGED_LABEL} value of secret ${context.secret.name} is not usable: recaptcha_secret_key: must be a non-empty string that ${HEADER_SAFE_RULE.replace(/^must be/, 'is')}`,
        ['recaptcha_secret_key'],
      );
    }
    context.logger.info('recaptcha secret taken from the staged value');
    return { recaptcha_secret_key: secret };
  }
}
