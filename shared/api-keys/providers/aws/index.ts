import {
  CreateAccessKeyCommand,
  type CreateAccessKeyCommandOutput,
  type IAMClient,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import type { STSClient } from '@aws-sdk/client-sts';
import { ProviderError, ProviderResponseError } from '../../errors.js';
import { keyHint } from '../../http.js';
import type {
  ApiKeyProvider,
  DiscardInput,
  IssueInput,
  ProviderContext,
  RevokeInput,
  RevokeOutcome,
  TestInput,
} from '../../provider.js';
import { DEFAULT_PROPAGATION, type PropagationPolicy, testSignIn } from './checks.js';
import { codeOf, toProviderError } from './errors.js';
import { deleteOwnKey, listKeys, lookupUser, userOf } from './iam.js';
import { isDeletable, judgeKeys, noRoomError, type SecretKeys } from './ownership.js';
import { AWS_PROVIDER, type AwsKeySecret, awsKeySecretSchema } from './schema.js';

export { DEFAULT_PROPAGATION, type PropagationPolicy } from './checks.js';
export { AccessKeyInFlightError, AccessKeyLimitError, ForeignAccessKeyError } from './errors.js';
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

/** IAM's limit of access keys per user. */
const IAM_KEYS_PER_USER = 2;

/**
 * The `aws` provider: rotates an IAM user's access key.
 *
 * - `issue` makes room (IAM allows two keys per user) by deleting only keys this secret
 *   provably owns: a superseded version's key past its grace period, or an orphan this
 *   rotation created and never stored (created after the rotation began, never used, older
 *   than the step timeout). Any other key in the way stops the step, naming it; then it
 *   creates a key;
 * - `discard` deletes the key of an attempt that lost the race to store the pending value;
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

  /**
   * Deletes the keys this secret provably owns and no longer needs (see {@link judgeKeys}),
   * then creates the new key. When a key that may not be deleted leaves no room, fails with
   * an {@link AccessKeyLimitError} saying what is there and what to do. When another attempt
   * created a key between the listing and the creation (IAM answers LimitExceeded), the
   * plan is made once more from a fresh listing.
   */
  async function issue({ current, keep, superseded = [], context }: IssueInput<AwsKeySecret>) {
    const userName = await userOf(iam, current, 'the current');
    const owned: SecretKeys = {
      current: current.access_key_id,
      kept: new Set([current.access_key_id, ...keep.map((version) => version.access_key_id)]),
      superseded: new Set(superseded.map((version) => version.access_key_id)),
    };
    for (let pass = 1; ; pass++) {
      await makeRoom(userName, owned, context);
      let out: CreateAccessKeyCommandOutput;
      try {
        out = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
      } catch (error) {
        if (codeOf(error) === 'LimitExceeded' && pass < 2) continue;
        throw toProviderError(`create an access key for IAM user ${userName}`, error);
      }
      const created = out.AccessKey;
      if (!created?.AccessKeyId || !created.SecretAccessKey) {
        throw new ProviderResponseError(
          AWS_PROVIDER,
          `CreateAccessKey for IAM user ${userName} returned no access key id or secret access key`,
        );
      }
      context.logger.info('aws: access key created', {
        user: userName,
        key: keyHint(created.AccessKeyId),
        versionId: context.token,
      });
      return {
        access_key_id: created.AccessKeyId,
        secret_access_key: created.SecretAccessKey,
        user_name: created.UserName ?? userName,
      };
    }
  }

  /** Deletes what this secret owns and no longer needs; throws when what is left has no room. */
  async function makeRoom(userName: string, owned: SecretKeys, context: ProviderContext): Promise<void> {
    const keys = await listKeys(iam, userName);
    if (!keys.some((key) => key.AccessKeyId === owned.current)) {
      throw new ProviderError(
        AWS_PROVIDER,
        `the current access key ${keyHint(owned.current)} is not a key of IAM user ${userName}: ` +
          'check user_name and access_key_id in the secret (no key was deleted or created)',
      );
    }
    const judged = await judgeKeys(iam, keys, owned, context);
    const remaining = judged.filter((key) => !isDeletable(key.verdict) && key.verdict.kind !== 'gone');
    if (remaining.length >= IAM_KEYS_PER_USER) throw noRoomError(userName, remaining, context);
    for (const { id, key, verdict } of judged) {
      if (verdict.kind === 'superseded' || verdict.kind === 'orphan') {
        await deleteOwnKey(iam, userName, { id, status: key.Status }, verdict.kind, context);
      }
    }
  }

  /** Another attempt stored its key first: deletes the key this attempt created, unless stored holds it. */
  async function discard({ created, stored, context }: DiscardInput<AwsKeySecret>): Promise<void> {
    const id = created.access_key_id;
    if (typeof id !== 'string' || id === '' || id === stored.access_key_id) return;
    const userName =
      (typeof created.user_name === 'string' ? created.user_name : undefined) ??
      (await lookupUser(iam, id, 'the discarded'));
    if (userName === undefined) return; // already gone
    await deleteOwnKey(iam, userName, { id }, 'lost-race', context);
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
    discard,
    test,
    revoke,
  };
}

function gone(context: ProviderContext, hint: string, id: string): RevokeOutcome {
  context.logger.info('aws: old access key already deleted', { key: hint });
  return { revoked: [id], manual: [] };
}
