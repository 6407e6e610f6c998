import {
  type AccessKeyMetadata,
  CreateAccessKeyCommand,
  type CreateAccessKeyCommandOutput,
  DeleteAccessKeyCommand,
  type IAMClient,
  TagUserCommand,
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
import { DEFAULT_PROPAGATION, type PropagationPolicy, signIn, testSignIn } from './checks.js';
import { AccessKeyNotProvenError, codeOf, toProviderError } from './errors.js';
import { deleteOwnKey, listKeys, listKeysIfUser, lookupUser, userOf } from './iam.js';
import { isDeletable, judgeKeys, noRoomError, type SecretKeys } from './ownership.js';
import { AWS_PROVIDER, type AwsKeySecret, awsKeySecretSchema } from './schema.js';
import {
  KEY_TAG_PREFIX,
  type KeyTags,
  keyTagKey,
  keyTagValue,
  readKeyTags,
  tagKey,
  untagKeys,
} from './tags.js';

export { DEFAULT_PROPAGATION, type PropagationPolicy } from './checks.js';
export {
  AccessKeyInFlightError,
  AccessKeyLimitError,
  AccessKeyNotProvenError,
  ForeignAccessKeyError,
} from './errors.js';
export { AWS_PROVIDER, type AwsKeySecret, awsKeySecretSchema } from './schema.js';
export { KEY_TAG_PREFIX, keyTagKey, keyTagValue } from './tags.js';

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

/** IAM's limit on a tag key's length: `rotation-key:` plus the key id must fit. */
const TAG_KEY_MAX = 128;

/** What {@link createAwsProvider}'s `prove` found: proven, or why not. */
type Proof = { readonly proven: true } | { readonly proven: false; readonly why: string };

/**
 * Whether access key `accessKeyId` of IAM user `userName` is the secret `secretArn`'s, by the
 * user's tag `rotation-key:<id>` (see {@link keyTagValue}): the proof a caller needs before
 * touching a key a version of that secret names, e.g. a rollback's reactivation of
 * AWSPREVIOUS's key. Needs `iam:ListUserTags` on the user.
 */
export async function isSecretsAccessKey(
  iam: IAMClient,
  userName: string,
  accessKeyId: string,
  secretArn: string,
): Promise<boolean> {
  return (await readKeyTags(iam, userName)).isSecrets(accessKeyId, secretArn);
}

/**
 * The `aws` provider: rotates an IAM user's access key. Whose a key is, is recorded on the
 * IAM user as the tag `rotation-key:<access key id>` = `secret=<digest> created|proven=<digest>`
 * (digests of the secret's ARN, and of the ARN and the rotation token).
 *
 * - `issue` first proves AWSCURRENT's key is this secret's (its tag, else STS
 *   GetCallerIdentity signed with AWSCURRENT's pair answers the user's ARN; the key is then
 *   tagged), so that naming another user's key id in a secret gets nothing. It makes room
 *   (IAM allows two keys per user) by deleting only keys tagged as this secret's: a superseded
 *   version's key past its grace period, or an orphan this rotation created and never stored
 *   (older than the step timeout). Any other key in the way stops the step, naming it. Then it
 *   creates a key and tags it at once (a key it cannot tag is deleted again);
 * - `discard` deletes the key of an attempt that lost the race to store the pending value;
 * - `test` calls STS GetCallerIdentity with the new key, waiting out IAM's propagation delay;
 * - `revoke` deactivates the old key when it is tagged as this secret's (or proven by signing
 *   in, then tagged); the next rotation's `issue` deletes it, so until then a rollback is one
 *   `UpdateAccessKey … Active` away. An unproven key is left to a person (a reminder).
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
   * Proves that `value`'s key (`key`, as IAM lists it) is this secret's: the user's tag for it
   * carries this secret's digest, or (untagged and Active) STS GetCallerIdentity signed with
   * the value's pair answers IAM user `userName`, and then the key is tagged as proven. A key
   * IAM created moments ago gets IAM's propagation retries; an older one is asked once.
   */
  async function prove(
    userName: string,
    value: AwsKeySecret,
    key: AccessKeyMetadata,
    tags: KeyTags,
    context: ProviderContext,
  ): Promise<Proof> {
    const id = value.access_key_id;
    const hint = keyHint(id);
    if (tags.isSecrets(id, context.secret.arn)) return { proven: true };
    if (tags.value(id) !== undefined) {
      return {
        proven: false,
        why: `it is tagged ${KEY_TAG_PREFIX}${hint} as another secret's key (two secrets cannot share an access key)`,
      };
    }
    if (key.Status !== 'Active') {
      return {
        proven: false,
        why: `it has no tag ${KEY_TAG_PREFIX}${hint}, and it is ${key.Status ?? 'not Active'}, so its pair cannot sign in to prove it`,
      };
    }
    const created = key.CreateDate?.getTime() ?? 0;
    const fresh = context.now.getTime() - created < propagation.attempts * propagation.delayMs;
    const sts = stsFor({ accessKeyId: id, secretAccessKey: value.secret_access_key });
    let result: Awaited<ReturnType<typeof signIn>>;
    try {
      result = await signIn(sts, id, userName, fresh ? propagation : { attempts: 1, delayMs: 0 }, context);
    } finally {
      sts.destroy();
    }
    if (result.kind === 'other-principal') {
      return { proven: false, why: `its pair signs in as another principal than IAM user ${userName}` };
    }
    if (result.kind === 'refused') {
      return {
        proven: false,
        why: `it has no tag ${KEY_TAG_PREFIX}${hint}, and STS refused the secret's access_key_id and secret_access_key as a pair (${result.code})`,
      };
    }
    if (id.length + KEY_TAG_PREFIX.length > TAG_KEY_MAX) {
      return { proven: false, why: `its id is too long for an IAM tag key (${KEY_TAG_PREFIX}<id>)` };
    }
    const tagValue = keyTagValue(context.secret.arn, context.token, 'proven');
    await tagKey(iam, userName, id, tagValue);
    tags.set(id, tagValue);
    context.logger.info(
      "aws: access key proven to be this secret's (its pair signs in as the user); tagged",
      {
        user: userName,
        key: hint,
      },
    );
    return { proven: true };
  }

  /**
   * Proves AWSCURRENT's key (and, where possible, the other keys the versions hold, so that
   * they stay provable once deactivated), deletes the keys this secret provably owns and no
   * longer needs (see {@link judgeKeys}), then creates and tags the new key. When a key that
   * may not be deleted leaves no room, fails with an {@link AccessKeyLimitError} saying what is
   * there and what to do. When another attempt created a key between the listing and the
   * creation (IAM answers LimitExceeded), the plan is made once more from a fresh listing.
   * @throws {AccessKeyNotProvenError} when AWSCURRENT's key cannot be proven this secret's:
   *   nothing is deleted or created.
   */
  async function issue({ current, keep, superseded = [], context }: IssueInput<AwsKeySecret>) {
    const userName = await userOf(iam, current, 'the current');
    const owned: SecretKeys = {
      current: current.access_key_id,
      kept: new Set([current.access_key_id, ...keep.map((version) => version.access_key_id)]),
      superseded: new Set(superseded.map((version) => version.access_key_id)),
    };
    let { keys, tags } = await survey(userName, owned.current);
    const listed = (value: AwsKeySecret) => keys.find((key) => key.AccessKeyId === value.access_key_id);
    const proof = await prove(userName, current, listed(current) as AccessKeyMetadata, tags, context);
    if (!proof.proven) throw notProven(userName, current, proof.why);
    // Kept and superseded keys: proven while they can still sign in, so that their revocation
    // and deletion have the proof once they are inactive. An unproven one is only logged here.
    const others = [...keep, ...superseded].filter((value) => value.access_key_id !== owned.current);
    for (const value of new Map(others.map((value) => [value.access_key_id, value])).values()) {
      const key = listed(value);
      if (!key) continue;
      const result = await prove(userName, value, key, tags, context);
      if (!result.proven) {
        context.logger.warn("aws: a version's access key cannot be proven to be this secret's", {
          user: userName,
          key: keyHint(value.access_key_id),
          why: result.why,
        });
      }
    }
    for (let pass = 1; ; pass++) {
      if (pass > 1) ({ keys, tags } = await survey(userName, owned.current));
      await makeRoom(userName, keys, tags, owned, context);
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
      const owner = created.UserName ?? userName;
      context.logger.info('aws: access key created', {
        user: owner,
        key: keyHint(created.AccessKeyId),
        versionId: context.token,
      });
      await tagCreated(owner, created.AccessKeyId, context);
      return {
        access_key_id: created.AccessKeyId,
        secret_access_key: created.SecretAccessKey,
        user_name: owner,
      };
    }
  }

  /**
   * Tags the key this attempt just created as this rotation's. A key left untagged could never
   * be proven this secret's, so when tagging fails the key is deleted again (this attempt
   * created it: that is proof enough) and the step fails; if that fails too, the error says
   * what a person must delete.
   */
  async function tagCreated(userName: string, id: string, context: ProviderContext): Promise<void> {
    const hint = keyHint(id);
    try {
      if (id.length + KEY_TAG_PREFIX.length > TAG_KEY_MAX) {
        throw new ProviderResponseError(
          AWS_PROVIDER,
          `the new access key ${hint} has an id too long for an IAM tag key`,
        );
      }
      const tag = { Key: keyTagKey(id), Value: keyTagValue(context.secret.arn, context.token, 'created') };
      await iam.send(new TagUserCommand({ UserName: userName, Tags: [tag] }));
    } catch (error) {
      try {
        await iam.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: id }));
      } catch (deleteError) {
        throw new ProviderError(
          AWS_PROVIDER,
          `could not tag the new access key ${hint} of IAM user ${userName} (${codeOf(error)}), nor delete it again ` +
            `(${codeOf(deleteError)}): untagged, it is not provably this secret's. Delete it by hand ` +
            `(\`aws iam list-access-keys --user-name ${userName}\` shows its id; ` +
            `\`aws iam delete-access-key --user-name ${userName} --access-key-id <id>\`), then let the step retry`,
          { cause: deleteError },
        );
      }
      context.logger.warn('aws: could not tag the new access key; deleted it again', {
        user: userName,
        key: hint,
        code: codeOf(error),
      });
      throw toProviderError(`tag the new access key ${hint} of IAM user ${userName} (deleted again)`, error);
    }
    context.logger.info('aws: access key tagged', {
      user: userName,
      key: hint,
      tag: `${KEY_TAG_PREFIX}${hint}`,
    });
  }

  /** The user's keys and `rotation-key:` tags; fails unless the current key is among the keys. */
  async function survey(
    userName: string,
    currentId: string,
  ): Promise<{ keys: AccessKeyMetadata[]; tags: KeyTags }> {
    const keys = await listKeys(iam, userName);
    if (!keys.some((key) => key.AccessKeyId === currentId)) {
      throw new ProviderError(
        AWS_PROVIDER,
        `the current access key ${keyHint(currentId)} is not a key of IAM user ${userName}: ` +
          'check user_name and access_key_id in the secret (no key was deleted or created)',
      );
    }
    return { keys, tags: await readKeyTags(iam, userName) };
  }

  /**
   * Deletes what this secret provably owns and no longer needs, and the tags of this secret's
   * keys that no longer exist; throws when what is left has no room.
   */
  async function makeRoom(
    userName: string,
    keys: readonly AccessKeyMetadata[],
    tags: KeyTags,
    owned: SecretKeys,
    context: ProviderContext,
  ): Promise<void> {
    const judged = await judgeKeys(iam, keys, tags, owned, context);
    const remaining = judged.filter((key) => !isDeletable(key.verdict) && key.verdict.kind !== 'gone');
    if (remaining.length >= IAM_KEYS_PER_USER) throw noRoomError(userName, remaining, context);
    for (const { id, key, verdict } of judged) {
      if (verdict.kind === 'superseded' || verdict.kind === 'orphan') {
        await deleteOwnKey(iam, userName, { id, status: key.Status }, verdict.kind, context);
      }
    }
    // Tags of this secret's keys deleted by hand, or whose tag outlived a failed untag. This
    // rotation's own are left: another attempt may have created the key after the listing.
    const { arn } = context.secret;
    const listedIds = new Set(keys.map((key) => key.AccessKeyId));
    const stale = tags
      .ids()
      .filter(
        (id) => !listedIds.has(id) && tags.isSecrets(id, arn) && !tags.isCreatedBy(id, arn, context.token),
      );
    if (stale.length > 0) {
      await untagKeys(iam, userName, stale);
      context.logger.info("aws: removed the rotation tags of this secret's keys that no longer exist", {
        user: userName,
        keys: stale.map(keyHint),
      });
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

  /**
   * Deactivates the old key when it is provably this secret's; a key a kept value holds is
   * left alone, an inactive or deleted one counts as revoked, and an unproven one is left to
   * a person (a `manual` reminder). A `user_name` that does not own the key fails the call,
   * unless IAM proves the key is gone.
   */
  async function revoke({
    old,
    current,
    keep = [],
    context,
  }: RevokeInput<AwsKeySecret>): Promise<RevokeOutcome> {
    const id = old.access_key_id;
    const hint = keyHint(id);
    if ([current, ...keep].some((value) => value.access_key_id === id)) {
      context.logger.info(
        'aws: the old access key is still held by a version that must stay valid; left alone',
        {
          key: hint,
        },
      );
      return { revoked: [], manual: [] };
    }
    const found = await findKey(id, old.user_name);
    if (!found) return gone(context, hint, id);
    const { owner, key } = found;
    if (key.Status === 'Inactive') {
      context.logger.info('aws: old access key already inactive', { user: owner, key: hint });
      return { revoked: [id], manual: [] };
    }
    const proof = await prove(owner, old, key, await readKeyTags(iam, owner), context);
    if (!proof.proven) {
      context.logger.warn("aws: old access key not provably this secret's; left to a person", {
        user: owner,
        key: hint,
        why: proof.why,
      });
      return {
        revoked: [],
        manual: [
          `deactivate (then delete) the previous IAM access key ${hint} of user ${owner} once nothing uses it: ` +
            `the rotation cannot prove it is this secret's (${proof.why})`,
        ],
      };
    }
    try {
      await iam.send(new UpdateAccessKeyCommand({ UserName: owner, AccessKeyId: id, Status: 'Inactive' }));
    } catch (error) {
      if (codeOf(error) === 'NoSuchEntity') return gone(context, hint, id);
      throw toProviderError(`deactivate the old access key ${hint} of IAM user ${owner}`, error);
    }
    context.logger.info('aws: old access key deactivated (deleted at the next rotation)', {
      user: owner,
      key: hint,
    });
    return { revoked: [id], manual: [] };
  }

  /**
   * Access key `id` and its owner, or undefined when IAM proves it is gone: `userName` (the
   * version's `user_name`) lists it, else GetAccessKeyLastUsed names its owner, which must be
   * `userName` when one is given (a wrong `user_name` never passes for "already deleted").
   */
  async function findKey(
    id: string,
    userName: string | undefined,
  ): Promise<{ owner: string; key: AccessKeyMetadata } | undefined> {
    const hint = keyHint(id);
    const named = userName ? await listKeysIfUser(iam, userName) : undefined;
    const listed = named?.find((candidate) => candidate.AccessKeyId === id);
    if (userName && listed) return { owner: userName, key: listed };
    const owner = await lookupUser(iam, id, 'the old');
    if (owner === undefined) return undefined;
    if (userName && owner !== userName) {
      throw new ProviderError(
        AWS_PROVIDER,
        `the old access key ${hint} belongs to IAM user ${owner}, not to ${userName} as its version's user_name says: ` +
          "nothing was revoked. Find out which is right; revoke the key by hand if it is this secret's",
      );
    }
    const key = (await listKeys(iam, owner)).find((candidate) => candidate.AccessKeyId === id);
    if (!key) {
      throw new ProviderResponseError(
        AWS_PROVIDER,
        `GetAccessKeyLastUsed names IAM user ${owner} as the owner of the old access key ${hint}, but ListAccessKeys ` +
          'does not list it (deleted meanwhile, or IAM not yet consistent): nothing was revoked; the step is retried',
      );
    }
    return { owner, key };
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

/** The error for an AWSCURRENT key this secret cannot prove it holds. */
function notProven(userName: string, current: AwsKeySecret, why: string): AccessKeyNotProvenError {
  const hint = keyHint(current.access_key_id);
  return new AccessKeyNotProvenError(
    `the current access key ${hint} of IAM user ${userName} cannot be proven to be this secret's: ${why}. ` +
      'Nothing was deleted or created. A key id is not secret, so naming one proves nothing: AWSCURRENT must hold ' +
      `an Active key's access_key_id with the secret_access_key created with it. Check the pair ` +
      `(\`aws iam list-access-keys --user-name ${userName}\`), store the right one (or a new key of this secret's own IAM user) ` +
      'as AWSCURRENT, then rotate again',
  );
}

function gone(context: ProviderContext, hint: string, id: string): RevokeOutcome {
  context.logger.info('aws: old access key already deleted', { key: hint });
  return { revoked: [id], manual: [] };
}
