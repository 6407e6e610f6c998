import type { SecretFields } from '../../../rotation/strategy.js';
import { KeyTestFailedError, ProviderError } from '../../errors.js';
import { DEFAULT_RETRY, keyHint, type RetryPolicy, requestJson } from '../../http.js';
import type { ApiKeyProvider, ProviderContext, RevokeOutcome } from '../../provider.js';
import { bodyOf, createdKeySchema, errorName, PROVIDER, ResendApi, sweep } from './api.js';
import { type ResendSecret, resendKeyName, resendSecretSchema, rotationMarker } from './schema.js';

export {
  RESEND_KEY_NAME_MAX,
  RESEND_PERMISSIONS,
  type ResendPermission,
  type ResendSecret,
  resendKeyName,
  resendSecretSchema,
  rotationMarker,
  rotationTag,
} from './schema.js';

/** Resend's API, for production use of {@link createResendProvider}. */
export const RESEND_API_URL = 'https://api.resend.com';

/** Options of {@link createResendProvider}. */
export interface ResendProviderOptions {
  /** The API's base URL: {@link RESEND_API_URL}, or a fake's in tests. */
  readonly baseUrl: string;
  /** Retries of 429, 5xx and network errors; {@link DEFAULT_RETRY} when absent. */
  readonly retry?: RetryPolicy;
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
