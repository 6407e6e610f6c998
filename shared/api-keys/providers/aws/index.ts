import {
  type AccessKeyMetadata,
  CreateAccessKeyCommand,
  type IAMClient,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import type { STSClient } from '@aws-sdk/client-sts';
import { ProviderError, ProviderResponseError } from '../../errors.js';
import { keyHint } from '../../http.js';
import type {
  ApiKeyProvider,
  IssueInput,
  ProviderContext,
  RevokeInput,
  RevokeOutcome,
  TestInput,
} from '../../provider.js';
import { DEFAULT_PROPAGATION, type PropagationPolicy, testSignIn } from './checks.js';
import { codeOf, toProviderError } from './errors.js';
import { callIam, deleteStaleKey, listKeys, lookupUser, userOf } from './iam.js';
import { AWS_PROVIDER, type AwsKeySecret, awsKeySecretSchema } from './schema.js';

export { DEFAULT_PROPAGATION, type PropagationPolicy } from './checks.js';
export { AWS_PROVIDER, type AwsKeySecret, awsKeySecretSchema } from './schema.js';

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

  async function issue({ current, keep, context }: IssueInput<AwsKeySecret>) {
    const userName = await userOf(iam, current, 'the current');
    const keys = await listKeys(iam, userName);
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
      else await deleteStaleKey(iam, userName, key, context);
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
    const userName = await userOf(iam, value, 'the new');
    const sts = stsFor({ accessKeyId: value.access_key_id, secretAccessKey: value.secret_access_key });
    try {
      await testSignIn(sts, value.access_key_id, userName, propagation, context);
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
    const userName = old.user_name ?? (await lookupUser(iam, id, 'the old'));
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
