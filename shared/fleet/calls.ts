import {
  BatchGetSecretValueCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  type ListSecretsCommandOutput,
  type SecretsManagerClient,
  type SecretVersionsListEntry,
} from '@aws-sdk/client-secrets-manager';
import { awsErrorName, isAwsServiceError } from '../logging/aws-error.js';
import {
  type PendingVersionDate,
  parseRotatedAt,
  type RotatedAtEvidence,
  type SecretMetadata,
} from '../policy/index.js';
import { Stage } from '../rotation/constants.js';
import { findVersionEntry } from '../rotation/secret-store.js';
import { BatchTooLargeError, FleetReadError } from './errors.js';
import { toSecretMetadata } from './metadata.js';

/** The most secrets one `BatchGetSecretValue` call may name (the API's limit; moto does not enforce it). */
export const BATCH_GET_LIMIT = 20;
/** The most entries one `ListSecrets` page holds. */
export const LIST_PAGE_SIZE = 100;

/**
 * An error's code and message for a report: an AWS error's own message; for any other (a
 * response body that would not parse may be quoted in it: BatchGetSecretValue's holds
 * values) only a note that it is withheld.
 */
const describe = (error: unknown) => ({
  code: awsErrorName(error),
  message: isAwsServiceError(error) ? error.message : 'not an AWS error; its message is withheld',
});

/**
 * Lists the secrets whose names start with one of `prefixes` (one `ListSecrets` filter, 100
 * a page, secrets scheduled for deletion left out), page by page. Entries already carry
 * dates, rotation settings, tags and staging labels: no `DescribeSecret` is needed.
 * @throws {FleetReadError} when a page cannot be read (after the client's retries).
 */
export async function* listSecretPages(
  client: SecretsManagerClient,
  prefixes: readonly string[],
): AsyncGenerator<SecretMetadata[]> {
  let nextToken: string | undefined;
  do {
    let page: ListSecretsCommandOutput;
    try {
      page = await client.send(
        new ListSecretsCommand({
          MaxResults: LIST_PAGE_SIZE,
          Filters: [{ Key: 'name', Values: [...prefixes] }],
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      );
    } catch (error) {
      const { code, message } = describe(error);
      throw new FleetReadError(
        `could not list the secrets under ${prefixes.join(', ')}: ${code}: ${message}`,
        {
          cause: error,
        },
      );
    }
    // The name filter is a prefix match; checked again here so that no other secret is ever managed.
    yield (page.SecretList ?? [])
      .map(toSecretMetadata)
      .filter((secret) => prefixes.some((prefix) => secret.name.startsWith(prefix)));
    nextToken = page.NextToken;
  } while (nextToken);
}

/**
 * Reads AWSCURRENT's `rotated_at` for up to {@link BATCH_GET_LIMIT} secrets with one
 * `BatchGetSecretValue` call. Each value is parsed for `rotated_at` and dropped at once.
 * A secret the call could not read (its entry in `Errors`, or the whole call failing after
 * the client's retries) is `unreadable`, with the AWS error, never taken as having no
 * `rotated_at`. A value that comes back without the AWSCURRENT label is read again by that
 * label (`GetSecretValue`, counted in `rereads`). Keys of `evidence` are ARNs.
 * @throws {BatchTooLargeError} for more than 20 secrets.
 */
export async function readRotatedAt(
  client: SecretsManagerClient,
  secrets: readonly Pick<SecretMetadata, 'arn' | 'name'>[],
): Promise<{ evidence: Map<string, RotatedAtEvidence>; rereads: number }> {
  if (secrets.length > BATCH_GET_LIMIT)
    throw new BatchTooLargeError(
      `BatchGetSecretValue takes at most ${BATCH_GET_LIMIT} secrets a call, not ${secrets.length}`,
    );
  const result = new Map<string, RotatedAtEvidence>();
  if (secrets.length === 0) return { evidence: result, rereads: 0 };
  const arnOf = new Map<string, string>();
  for (const { arn, name } of secrets) {
    arnOf.set(arn, arn);
    arnOf.set(name, arn);
  }
  const stale: string[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const out = await client.send(
        new BatchGetSecretValueCommand({
          SecretIdList: secrets.map((secret) => secret.arn),
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      );
      for (const value of out.SecretValues ?? []) {
        const arn = arnOf.get(value.ARN ?? '') ?? arnOf.get(value.Name ?? '');
        if (!arn) continue;
        if (value.VersionStages?.includes(Stage.CURRENT)) result.set(arn, parseRotatedAt(value.SecretString));
        else stale.push(arn);
      }
      for (const error of out.Errors ?? []) {
        const arn = arnOf.get(error.SecretId ?? '');
        if (arn)
          result.set(arn, {
            state: 'unreadable',
            errorCode: error.ErrorCode ?? 'UnknownError',
            message: error.Message ?? 'no message',
          });
      }
      nextToken = out.NextToken;
    } while (nextToken);
  } catch (error) {
    const { code, message } = describe(error);
    for (const { arn } of secrets)
      if (!result.has(arn)) result.set(arn, { state: 'unreadable', errorCode: code, message });
  }
  // A value not staged AWSCURRENT (moto answers with a stale version after a rotation) is read
  // again by its label: only AWSCURRENT's rotated_at counts.
  await Promise.all(
    stale.map(async (arn) => {
      try {
        const out = await client.send(
          new GetSecretValueCommand({ SecretId: arn, VersionStage: Stage.CURRENT }),
        );
        result.set(arn, parseRotatedAt(out.SecretString));
      } catch (error) {
        const { code, message } = describe(error);
        result.set(arn, { state: 'unreadable', errorCode: code, message });
      }
    }),
  );
  for (const { arn } of secrets)
    if (!result.has(arn))
      result.set(arn, {
        state: 'unreadable',
        errorCode: 'MissingFromResponse',
        message: 'BatchGetSecretValue returned neither a value nor an error for it',
      });
  return { evidence: result, rereads: stale.length };
}

/** When version `versionId` of the secret was created (`ListSecretVersionIds`); `unreadable` when the call failed or did not list it. */
export async function versionCreatedDate(
  client: SecretsManagerClient,
  arn: string,
  versionId: string,
): Promise<PendingVersionDate> {
  let version: SecretVersionsListEntry | undefined;
  try {
    version = await findVersionEntry(client, arn, versionId, false);
  } catch (error) {
    const { code, message } = describe(error);
    return { state: 'unreadable', message: `${code}: ${message}` };
  }
  if (version?.CreatedDate) return { state: 'found', date: version.CreatedDate };
  if (version) return { state: 'unreadable', message: `version ${versionId} has no CreatedDate` };
  return { state: 'unreadable', message: `version ${versionId} is not listed` };
}
