import type { SecretFields } from '../../../rotation/strategy.js';
import { KeyTestFailedError, ProviderError } from '../../errors.js';
import { DEFAULT_RETRY, keyHint, type RetryPolicy, requestJson } from '../../http.js';
import type { ApiKeyProvider, ProviderContext, RevokeOutcome } from '../../provider.js';
import { credentialsPrefix, readCredentialSecret } from '../credentials.js';
import { bodyOf, createdKeySchema, errorName, PROVIDER, ResendApi } from './api.js';
import {
  isMarkedBy,
  type ResendSecret,
  resendKeyName,
  resendSecretSchema,
  rotationMarker,
} from './schema.js';

export {
  isMarkedBy,
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

    /**
     * Creates the new key, named with this rotation's marker. It deletes nothing: another
     * attempt of this step may be running, and its key may be the one that gets stored.
     * Keys of attempts that died or lost the race are deleted by {@link cleanup}.
     */
    async issue({ current, context }): Promise<SecretFields> {
      const manager = await managerKey(current, context);
      const name = resendKeyName(
        current.api_key_name ?? context.secret.name,
        context.secret.arn,
        context.token,
      );
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
        versionId: context.token,
      });
      return { api_key: token, api_key_id: id, api_key_name: name };
    },

    /** Another attempt stored its key first: deletes the key this attempt created. */
    async discard({ created, stored, context }): Promise<void> {
      const id = created.api_key_id;
      if (typeof id !== 'string' || id === '' || id === stored.api_key_id) return;
      const manager = await managerKey(await currentValue(context), context);
      const deleted = await api.deleteKey(manager, id);
      context.logger.info(
        deleted
          ? 'resend: deleted the key of an attempt that lost the race to store the pending value'
          : 'resend: the key of an attempt that lost the race was already deleted',
        { keyId: id },
      );
    },

    /**
     * Deletes the keys carrying this rotation's marker (this secret's ARN and this token) that
     * the stored pending value does not hold: those of attempts that crashed, lost the race, or
     * whose create was retried after its answer was lost. No other key is touched.
     */
    async cleanup({ value, context }): Promise<void> {
      const storedId = value.api_key_id;
      if (!storedId) {
        context.logger.warn('resend: the pending value records no api_key_id; no leftover key is deleted');
        return;
      }
      const manager = await managerKey(await currentValue(context), context);
      const leftovers = (await api.listKeys(manager)).filter(
        (key) => key.id !== storedId && isMarkedBy(key.name, context.secret.arn, context.token),
      );
      for (const key of leftovers) {
        await api.deleteKey(manager, key.id);
        context.logger.info('resend: deleted a key left by another attempt of this rotation', {
          keyId: key.id,
          keyName: key.name,
        });
      }
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

    /**
     * Deletes the old key only when it is provably the old version's: the account lists a key
     * with its `api_key_id` whose name carries the marker of this secret and the old version's
     * token (`oldVersionId`: the rotation that created the key). A key any kept value holds is
     * left alone; any other key (a seed-shaped secret's, one named by hand, an id that names
     * another key) is left to a person, with a reminder naming its hint.
     */
    async revoke({ old, current, keep = [], oldVersionId, context }): Promise<RevokeOutcome> {
      const held = [current, ...keep].some(
        (value) =>
          value.api_key === old.api_key ||
          (old.api_key_id !== undefined && value.api_key_id === old.api_key_id),
      );
      if (held) {
        context.logger.warn(
          'resend: the old key is still held by a version that must stay valid; nothing revoked',
          {
            keyId: old.api_key_id,
          },
        );
        return { revoked: [], manual: [] };
      }
      const manual = manualRevocation(old, current);
      const id = old.api_key_id;
      if (!id || manual.length > 0) return { revoked: [], manual };
      const hint = keyHint(old.api_key);
      const byHand = (why: string): RevokeOutcome => {
        context.logger.warn("resend: old key not provably this secret's; left to a person", {
          keyId: id,
          why,
        });
        return {
          revoked: [],
          manual: [
            `delete the previous Resend API key ${hint} (api_key_id ${id}) at resend.com/api-keys once nothing uses it: ${why}`,
          ],
        };
      };
      if (!oldVersionId) {
        return byHand(
          "the revocation was not told which version held it, so it cannot prove the key is this secret's",
        );
      }
      const manager = await managerKey(current, context);
      const listed = (await api.listKeys(manager)).find((key) => key.id === id);
      if (!listed) {
        // No such id in the account: deleted already, unless the id never was the old key's.
        if ((await api.probe(old.api_key)) === 'refused') {
          context.logger.info('resend: API key was already deleted', { keyId: id });
          return { revoked: [id], manual: [] };
        }
        return byHand(`the key still works, but the account lists no key with id ${id}: check api_key_id`);
      }
      if (!isMarkedBy(listed.name, context.secret.arn, oldVersionId)) {
        return byHand(
          `its name does not end with ${rotationMarker(context.secret.arn, oldVersionId)}, the marker of this secret's ` +
            `version ${oldVersionId}, so the rotation cannot prove it is that version's key (a key made before this product, or by hand)`,
        );
      }
      const deleted = await api.deleteKey(manager, id);
      context.logger.info(deleted ? 'resend: API key deleted' : 'resend: API key was already deleted', {
        keyId: id,
      });
      return { revoked: [id], manual: [] };
    },
  };
}

/**
 * AWSCURRENT's value of the secret being rotated: its key (or its admin secret's) manages
 * keys in every step, so a pending key that does not work yet fails only its own test.
 */
async function currentValue(context: ProviderContext): Promise<ResendSecret> {
  const parsed = resendSecretSchema.safeParse(await context.readSecret(context.secret.arn));
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(value)');
    throw new ProviderError(
      PROVIDER,
      `the AWSCURRENT version of secret ${context.secret.name} is not a valid Resend secret (fields: ${fields.join(', ')})`,
    );
  }
  return parsed.data;
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
        `add the field "admin_secret_id" to it, naming (by name or ARN) a secret under ${credentialsPrefix(context.secret.name) ?? '{environment}/rotation/'} whose api_key is a full_access Resend key`,
    );
  }
  const admin = await readCredentialSecret(context, 'admin_secret_id', adminId);
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
