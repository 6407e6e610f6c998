import { setTimeout as sleep } from 'node:timers/promises';
import {
  type AccessKeyMetadata,
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  type IAMClient,
  ListAccessKeysCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import * as z from '../../../zod.js';
import {
  KeyTestFailedError,
  ProviderAuthError,
  ProviderError,
  ProviderRateLimitError,
  ProviderResponseError,
  ProviderUnavailableError,
} from '../../errors.js';
import { keyHint } from '../../http.js';
import type {
  ApiKeyProvider,
  IssueInput,
  ProviderContext,
  RevokeInput,
  RevokeOutcome,
  TestInput,
} from '../../provider.js';

/** The provider's registry name: secrets named `…/api-keys/aws` or tagged `rotation-provider = aws`. */
export const AWS_PROVIDER = 'aws';

const requiredString = () =>
  z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') });

/**
 * Validates an AWS API-key secret (a loose object: unknown fields such as `rotated_at` are
 * carried over). Issue messages name the rule, never the value.
 */
export const awsKeySecretSchema = z.looseObject({
  /** The IAM access key id (`AKIA…`): not secret, but only ever logged as a {@link keyHint}. */
  access_key_id: requiredString().check(
    z.regex(/^[A-Z0-9]{16,128}$/, { error: 'must be 16 to 128 upper-case letters and digits' }),
  ),
  /** The secret access key paired with `access_key_id`. */
  secret_access_key: requiredString().check(z.minLength(1, { error: 'is required' })),
  /** The IAM user owning the key; when absent it is looked up with GetAccessKeyLastUsed. */
  user_name: z.optional(
    z
      .string({ error: 'must be a string' })
      .check(
        z.regex(/^[\w+=,.@-]{1,64}$/, { error: 'must be an IAM user name (1 to 64 of A-Z a-z 0-9 _+=,.@-)' }),
      ),
  ),
});

/** A version of an AWS API-key secret: `{access_key_id, secret_access_key, user_name?, …}`. */
export type AwsKeySecret = z.infer<typeof awsKeySecretSchema>;

/** How long {@link ApiKeyProvider.test} waits for IAM to propagate a new key. */
export interface PropagationPolicy {
  /** Attempts in all, including the first. Default 10. */
  readonly attempts: number;
  /** Pause between attempts. Default 2000 ms. */
  readonly delayMs: number;
}

/** Default {@link PropagationPolicy}: 10 attempts 2 s apart (IAM usually takes a few seconds). */
export const DEFAULT_PROPAGATION: PropagationPolicy = { attempts: 10, delayMs: 2000 };

/** Dependencies of {@link createAwsProvider}. */
export interface AwsProviderOptions {
  /** The rotation function's own IAM client, which manages the keys. */
  readonly iam: IAMClient;
  /**
   * Builds an STS client signed with the given key (in production
   * `new STSClient({ credentials })`, region and endpoint from the environment).
   */
  readonly stsFor: (credentials: { accessKeyId: string; secretAccessKey: string }) => STSClient;
  readonly propagation?: PropagationPolicy;
}

/** Error codes with which STS refuses a key IAM has not propagated yet. */
const PROPAGATION_CODES = new Set(['InvalidClientTokenId', 'SignatureDoesNotMatch', 'AccessDenied']);
const AUTH_CODES = new Set([
  'AccessDenied',
  'UnauthorizedOperation',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'UnrecognizedClient',
  'InvalidAccessKeyId',
]);
const RATE_CODES = new Set(['Throttling', 'TooManyRequests', 'RequestLimitExceeded', 'SlowDown']);
const UNAVAILABLE_CODES = new Set([
  'ServiceFailure',
  'ServiceUnavailable',
  'InternalFailure',
  'RequestTimeout',
]);

/**
 * The `aws` provider: rotates an IAM user's access key.
 *
 * - `issue` makes room (IAM allows two keys per user) by deleting every key of the user that
 *   no kept version holds, i.e. a deactivated previous key past its grace period or an
 *   orphan from an earlier attempt whose write to Secrets Manager failed, then creates a key;
 * - `test` calls STS GetCallerIdentity with the new key, waiting out IAM's propagation delay;
 * - `revoke` deactivates the old key; the next rotation's `issue` deletes it, so until then
 *   a rollback is one `UpdateAccessKey … Active` away.
 */
export function createAwsProvider(options: AwsProviderOptions): ApiKeyProvider<AwsKeySecret> {
  const { iam, stsFor } = options;
  const propagation = options.propagation ?? DEFAULT_PROPAGATION;
  if (!Number.isInteger(propagation.attempts) || propagation.attempts < 1 || propagation.delayMs < 0) {
    throw new RangeError(
      'propagation.attempts must be a positive integer and propagation.delayMs at least 0',
    );
  }

  /** Sends an IAM command, turning failures into typed provider errors. */
  async function callIam<T>(operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw toProviderError(operation, error);
    }
  }

  /** The IAM user owning access key `id` (GetAccessKeyLastUsed), or undefined when IAM has no such key. */
  async function lookupUser(id: string, role: string): Promise<string | undefined> {
    let userName: string | undefined;
    try {
      userName = (await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: id }))).UserName;
    } catch (error) {
      if (codeOf(error) === 'NoSuchEntity') return undefined;
      throw toProviderError(`find the IAM user of ${role} access key ${keyHint(id)}`, error);
    }
    if (!userName) {
      throw new ProviderResponseError(
        AWS_PROVIDER,
        `GetAccessKeyLastUsed named no IAM user for ${role} access key ${keyHint(id)}: set user_name in the secret`,
      );
    }
    return userName;
  }

  /** The IAM user owning `key`: the secret's `user_name`, else GetAccessKeyLastUsed's answer. */
  async function userOf(key: AwsKeySecret, role: string): Promise<string> {
    if (key.user_name) return key.user_name;
    const userName = await lookupUser(key.access_key_id, role);
    if (userName === undefined) {
      throw new ProviderError(
        AWS_PROVIDER,
        `IAM has no access key ${keyHint(key.access_key_id)} (${role} one): check access_key_id in the secret`,
      );
    }
    return userName;
  }

  async function listKeys(userName: string): Promise<AccessKeyMetadata[]> {
    const keys: AccessKeyMetadata[] = [];
    let marker: string | undefined;
    do {
      const page = await callIam(`list the access keys of IAM user ${userName}`, () =>
        iam.send(new ListAccessKeysCommand({ UserName: userName, Marker: marker })),
      );
      keys.push(...(page.AccessKeyMetadata ?? []));
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    return keys;
  }

  async function deleteStaleKey(userName: string, key: AccessKeyMetadata, context: ProviderContext) {
    const id = key.AccessKeyId ?? '';
    const hint = keyHint(id);
    try {
      await iam.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: id }));
    } catch (error) {
      if (codeOf(error) !== 'NoSuchEntity') {
        throw toProviderError(`delete the stale access key ${hint} of IAM user ${userName}`, error);
      }
    }
    const attributes = { user: userName, key: hint, status: key.Status ?? 'unknown' };
    if (key.Status === 'Inactive') {
      context.logger.info('aws: deleted an inactive access key no kept version holds', attributes);
    } else {
      context.logger.warn(
        'aws: deleted an active access key no version holds (an orphan of an earlier attempt)',
        attributes,
      );
    }
  }

  async function issue({ current, keep, context }: IssueInput<AwsKeySecret>) {
    const userName = await userOf(current, 'the current');
    const keys = await listKeys(userName);
    if (!keys.some((key) => key.AccessKeyId === current.access_key_id)) {
      throw new ProviderError(
        AWS_PROVIDER,
        `the current access key ${keyHint(current.access_key_id)} is not a key of IAM user ${userName}: ` +
          'check user_name and access_key_id in the secret (no key was deleted or created)',
      );
    }
    const kept = new Set([current.access_key_id, ...keep.map((version) => version.access_key_id)]);
    const remaining: AccessKeyMetadata[] = [];
    for (const key of keys) {
      if (key.AccessKeyId && kept.has(key.AccessKeyId)) remaining.push(key);
      else await deleteStaleKey(userName, key, context);
    }
    if (remaining.length >= 2) {
      const others = remaining
        .filter((key) => key.AccessKeyId !== current.access_key_id)
        .map((key) => keyHint(key.AccessKeyId ?? ''));
      throw new ProviderError(
        AWS_PROVIDER,
        `IAM user ${userName} already has two access keys, both still needed: the current one ` +
          `(${keyHint(current.access_key_id)}) and the previous one (${others.join(', ')}), which is still in its ` +
          'grace period. IAM allows two keys per user: wait until the grace period ends and rotate again, ' +
          'or shorten the grace period',
      );
    }
    const out = await callIam(`create an access key for IAM user ${userName}`, () =>
      iam.send(new CreateAccessKeyCommand({ UserName: userName })),
    );
    const created = out.AccessKey;
    if (!created?.AccessKeyId || !created.SecretAccessKey) {
      throw new ProviderResponseError(
        AWS_PROVIDER,
        `CreateAccessKey for IAM user ${userName} returned no access key id or secret access key`,
      );
    }
    context.logger.info('aws: access key created', { user: userName, key: keyHint(created.AccessKeyId) });
    return {
      access_key_id: created.AccessKeyId,
      secret_access_key: created.SecretAccessKey,
      user_name: created.UserName ?? userName,
    };
  }

  async function test({ value, context }: TestInput<AwsKeySecret>): Promise<void> {
    const hint = keyHint(value.access_key_id);
    const userName = await userOf(value, 'the new');
    const sts = stsFor({ accessKeyId: value.access_key_id, secretAccessKey: value.secret_access_key });
    try {
      let lastCode = '';
      for (let attempt = 1; attempt <= propagation.attempts; attempt++) {
        let arn: string | undefined;
        try {
          arn = (await sts.send(new GetCallerIdentityCommand({}))).Arn;
        } catch (error) {
          const code = codeOf(error);
          if (AUTH_CODES.has(code) && !PROPAGATION_CODES.has(code)) {
            throw new KeyTestFailedError(AWS_PROVIDER, `STS refused the new access key ${hint} (${code})`);
          }
          if (!PROPAGATION_CODES.has(code)) throw toProviderError(`test the new access key ${hint}`, error);
          lastCode = code;
          context.logger.info('aws: new access key not accepted yet (IAM propagation)', {
            key: hint,
            code,
            attempt,
            attempts: propagation.attempts,
          });
          if (attempt < propagation.attempts) await sleep(propagation.delayMs);
          continue;
        }
        if (!arn || !isUserArn(arn, userName)) {
          throw new KeyTestFailedError(
            AWS_PROVIDER,
            `the new access key ${hint} does not sign in as IAM user ${userName} (STS named another principal)`,
          );
        }
        context.logger.info('aws: new access key works', { user: userName, key: hint, attempt });
        return;
      }
      throw new KeyTestFailedError(
        AWS_PROVIDER,
        `STS refused the new access key ${hint} (${lastCode}) ${propagation.attempts} times, ` +
          `${propagation.delayMs} ms apart: it does not work`,
      );
    } finally {
      sts.destroy();
    }
  }

  async function revoke({ old, current, context }: RevokeInput<AwsKeySecret>): Promise<RevokeOutcome> {
    const id = old.access_key_id;
    const hint = keyHint(id);
    if (id === current.access_key_id) {
      context.logger.info('aws: the old access key is the current one; left alone', { key: hint });
      return { revoked: [], manual: [] };
    }
    const userName = old.user_name ?? (await lookupUser(id, 'the old'));
    if (userName === undefined) return gone(context, hint, id);
    try {
      await iam.send(new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: id, Status: 'Inactive' }));
    } catch (error) {
      if (codeOf(error) === 'NoSuchEntity') return gone(context, hint, id);
      throw toProviderError(`deactivate the old access key ${hint} of IAM user ${userName}`, error);
    }
    context.logger.info('aws: old access key deactivated (deleted at the next rotation)', {
      user: userName,
      key: hint,
    });
    return { revoked: [id], manual: [] };
  }

  return {
    name: AWS_PROVIDER,
    schema: awsKeySecretSchema,
    issue,
    test,
    revoke,
  };
}

function gone(context: ProviderContext, hint: string, id: string): RevokeOutcome {
  context.logger.info('aws: old access key already deleted', { key: hint });
  return { revoked: [id], manual: [] };
}

/** True when `arn` is that of IAM user `userName` (`…:user/name` or `…:user/path/name`). */
function isUserArn(arn: string, userName: string): boolean {
  const resource = arn.split(':').slice(5).join(':');
  return resource.startsWith('user/') && resource.split('/').at(-1) === userName;
}

interface SdkErrorShape {
  readonly name?: unknown;
  readonly Code?: unknown;
  readonly code?: unknown;
  readonly $fault?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: number; readonly requestId?: string };
}

/** The AWS error code of an SDK error (`NoSuchEntityException` → `NoSuchEntity`), sanitised. */
function codeOf(error: unknown): string {
  if (typeof error !== 'object' || error === null) return 'Error';
  const shape = error as SdkErrorShape;
  const name = shape.name === 'Error' ? undefined : shape.name; // network errors: name Error, code ECONNREFUSED
  const raw = [shape.Code, name, shape.code, shape.name].find(
    (value) => typeof value === 'string' && value !== '',
  );
  return String(raw ?? 'Error')
    .replace(/Exception$/, '')
    .replace(/[^\w.-]/g, '')
    .slice(0, 64);
}

/**
 * Maps an IAM or STS failure to a typed provider error whose message holds the operation,
 * the error code, the HTTP status and the request id: never the SDK's own message (which
 * may name a key id) and never a credential.
 */
function toProviderError(operation: string, error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  const shape = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorShape;
  const code = codeOf(error);
  const status = shape.$metadata?.httpStatusCode;
  if (status === undefined) {
    // The SDK gave up without an HTTP answer (connection refused, DNS, timeout).
    const Kind = shape.$metadata ? ProviderUnavailableError : ProviderError;
    return new Kind(
      AWS_PROVIDER,
      `could not ${operation}: ${code}${shape.$metadata ? ' (no answer from AWS)' : ''}`,
    );
  }
  const requestId = shape.$metadata?.requestId;
  const message = `could not ${operation}: ${code} (HTTP ${status}${requestId ? `, request ${requestId}` : ''})`;
  const options = { status };
  if (AUTH_CODES.has(code) || status === 401 || status === 403) {
    return new ProviderAuthError(AWS_PROVIDER, message, options);
  }
  if (RATE_CODES.has(code) || status === 429)
    return new ProviderRateLimitError(AWS_PROVIDER, message, options);
  if (UNAVAILABLE_CODES.has(code) || status >= 500 || shape.$fault === 'server') {
    return new ProviderUnavailableError(AWS_PROVIDER, message, options);
  }
  return new ProviderError(AWS_PROVIDER, message, options);
}
