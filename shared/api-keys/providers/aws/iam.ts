import {
  type AccessKeyMetadata,
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  type IAMClient,
  ListAccessKeysCommand,
  type ListAccessKeysCommandOutput,
} from '@aws-sdk/client-iam';
import { ProviderError, ProviderResponseError } from '../../errors.js';
import { keyHint } from '../../http.js';
import type { ProviderContext } from '../../provider.js';
import { codeOf, toProviderError } from './errors.js';
import { AWS_PROVIDER, type AwsKeySecret } from './schema.js';
import { untagKeys } from './tags.js';

export { callIam } from './errors.js';

/** The IAM user owning access key `id` (GetAccessKeyLastUsed), or undefined when IAM has no such key. */
export async function lookupUser(iam: IAMClient, id: string, role: string): Promise<string | undefined> {
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
export async function userOf(iam: IAMClient, key: AwsKeySecret, role: string): Promise<string> {
  if (key.user_name) return key.user_name;
  const userName = await lookupUser(iam, key.access_key_id, role);
  if (userName === undefined) {
    throw new ProviderError(
      AWS_PROVIDER,
      `IAM has no access key ${keyHint(key.access_key_id)} (${role} one): check access_key_id in the secret`,
    );
  }
  return userName;
}

/** Every access key of IAM user `userName`, all pages of ListAccessKeys. */
export async function listKeys(iam: IAMClient, userName: string): Promise<AccessKeyMetadata[]> {
  const keys = await listKeysIfUser(iam, userName);
  if (keys === undefined) {
    throw new ProviderError(AWS_PROVIDER, `IAM has no user ${userName}: check user_name in the secret`);
  }
  return keys;
}

/** Every access key of IAM user `userName`, or undefined when IAM has no such user. */
export async function listKeysIfUser(
  iam: IAMClient,
  userName: string,
): Promise<AccessKeyMetadata[] | undefined> {
  const keys: AccessKeyMetadata[] = [];
  let marker: string | undefined;
  do {
    let page: ListAccessKeysCommandOutput;
    try {
      page = await iam.send(new ListAccessKeysCommand({ UserName: userName, Marker: marker }));
    } catch (error) {
      if (codeOf(error) === 'NoSuchEntity') return undefined;
      throw toProviderError(`list the access keys of IAM user ${userName}`, error);
    }
    keys.push(...(page.AccessKeyMetadata ?? []));
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return keys;
}

/** Why {@link deleteOwnKey} deletes a key, for its log line. */
export type DeletionReason = 'superseded' | 'orphan' | 'lost-race';

const DELETED: Record<DeletionReason, string> = {
  superseded: "aws: deleted this secret's superseded access key (past its grace period)",
  orphan:
    "aws: deleted an access key this rotation created and never stored (tagged as this rotation's, held by no version)",
  'lost-race': 'aws: deleted the access key of an attempt that lost the race to store the pending value',
};

/**
 * Deletes an access key this secret provably owns (see {@link DeletionReason}), then its
 * `rotation-key:` tag, and logs it; a key already gone counts as deleted. Never called for a
 * key without such proof.
 */
export async function deleteOwnKey(
  iam: IAMClient,
  userName: string,
  key: { readonly id: string; readonly status?: string | undefined },
  reason: DeletionReason,
  context: ProviderContext,
): Promise<void> {
  const hint = keyHint(key.id);
  try {
    await iam.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: key.id }));
  } catch (error) {
    if (codeOf(error) !== 'NoSuchEntity') {
      throw toProviderError(`delete the access key ${hint} of IAM user ${userName}`, error);
    }
  }
  context.logger.info(DELETED[reason], { user: userName, key: hint, status: key.status ?? 'unknown' });
  await untagKeys(iam, userName, [key.id]);
}
