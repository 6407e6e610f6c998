import {
  type AccessKeyMetadata,
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  type IAMClient,
  ListAccessKeysCommand,
} from '@aws-sdk/client-iam';
import { ProviderError, ProviderResponseError } from '../../errors.js';
import { keyHint } from '../../http.js';
import type { ProviderContext } from '../../provider.js';
import { codeOf, toProviderError } from './errors.js';
import { AWS_PROVIDER, type AwsKeySecret } from './schema.js';

/** Sends an IAM command, turning failures into typed provider errors. */
export async function callIam<T>(operation: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw toProviderError(operation, error);
  }
}

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

/** Deletes an access key no kept version holds (a key already gone counts as deleted), and logs it. */
export async function deleteStaleKey(
  iam: IAMClient,
  userName: string,
  key: AccessKeyMetadata,
  context: ProviderContext,
): Promise<void> {
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
