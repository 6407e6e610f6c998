import {
  type SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { awsErrorText } from '../logging/aws-error.js';
import { Stage } from '../rotation/constants.js';
import { SecretStoreError } from '../rotation/errors.js';
import { type SecretDescription, versionWithStage } from '../rotation/secret-store.js';
import { SupersessionRecordLimitError } from './errors.js';

/**
 * Prefix of the secret tags that record when a version stopped being AWSCURRENT:
 * `rotation-superseded:<version id>` = `<ISO 8601 time, ms> <id of the version that took over>`.
 */
export const SUPERSEDED_TAG_PREFIX = 'rotation-superseded:';

/** How many tags AWS allows on one secret; supersession records are tags. */
export const SECRET_TAG_LIMIT = 50;

/** When one version of a secret stopped being AWSCURRENT, and which version took its place. */
export interface Supersession {
  readonly versionId: string;
  /** No earlier than the moment AWSCURRENT left the version (written once the label had moved). */
  readonly at: Date;
  /** The version that became AWSCURRENT then. */
  readonly by: string;
}

// Tag keys and values allow letters, digits and `+ - = . _ : / @`. Version ids are UUIDs in
// practice; any other id is written base64url-encoded (reversibly, so the id can be read back).
const TAG_SAFE = /^[A-Za-z0-9+\-=._:/@]+$/;
const ENCODED = 'b64.';

function encodeId(id: string): string {
  return TAG_SAFE.test(id) && !id.startsWith(ENCODED)
    ? id
    : `${ENCODED}${Buffer.from(id, 'utf8').toString('base64url')}`;
}

function decodeId(text: string): string {
  return text.startsWith(ENCODED)
    ? Buffer.from(text.slice(ENCODED.length), 'base64url').toString('utf8')
    : text;
}

/** The records in a secret's tags, by version id. A tag that does not parse is no record. */
export function supersessions(secret: SecretDescription): Map<string, Supersession> {
  const records = new Map<string, Supersession>();
  for (const [key, value] of Object.entries(secret.tags)) {
    if (!key.startsWith(SUPERSEDED_TAG_PREFIX)) continue;
    const [time, by, ...rest] = value.split(' ');
    const at = new Date(time ?? '');
    if (!by || rest.length > 0 || Number.isNaN(at.getTime())) continue;
    const versionId = decodeId(key.slice(SUPERSEDED_TAG_PREFIX.length));
    records.set(versionId, { versionId, at, by: decodeId(by) });
  }
  return records;
}

/** The key of the secret tag that holds the record of `versionId`. */
export function supersessionTagKey(versionId: string): string {
  return `${SUPERSEDED_TAG_PREFIX}${encodeId(versionId)}`;
}

/** The secret tag holding `record`. */
export function supersessionTag(record: Supersession): { Key: string; Value: string } {
  return {
    Key: supersessionTagKey(record.versionId),
    Value: `${record.at.toISOString()} ${encodeId(record.by)}`,
  };
}

/** Writes and removes supersession records (secret tags). */
export class SupersessionRecords {
  readonly #client: SecretsManagerClient;

  constructor(client: SecretsManagerClient) {
    this.#client = client;
  }

  /** Records (or re-records) when `record.versionId` stopped being AWSCURRENT. */
  async write(arn: string, record: Supersession): Promise<void> {
    await this.#call(`record when version ${record.versionId} of ${arn} stopped being AWSCURRENT`, () =>
      this.#client.send(new TagResourceCommand({ SecretId: arn, Tags: [supersessionTag(record)] })),
    );
  }

  /** Removes the records of `versionIds` (their keys are revoked, or they are AWSCURRENT again). */
  async remove(arn: string, versionIds: readonly string[]): Promise<void> {
    if (versionIds.length === 0) return;
    await this.#call(`remove the supersession records of ${versionIds.join(', ')} from ${arn}`, () =>
      this.#client.send(
        new UntagResourceCommand({
          SecretId: arn,
          TagKeys: versionIds.map(supersessionTagKey),
        }),
      ),
    );
  }

  async #call(what: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (error) {
      throw new SecretStoreError(`Secrets Manager could not ${what}: ${awsErrorText(error)}`, {
        cause: error,
      });
    }
  }
}

/**
 * Refuses, before anything is created, a rotation that would need more tags than AWS allows
 * on the secret: one for AWSPREVIOUS's record if it has none (written now), one for
 * AWSCURRENT's (written at finish). A failure after AWSCURRENT moved would leave the finish
 * failing until a person made room; here nothing has changed yet.
 * @throws {SupersessionRecordLimitError} naming the records and the overdue ones.
 */
export function assertRoomForRecords(
  secret: SecretDescription,
  currentId: string,
  graceMs: number,
  now: Date,
): void {
  const previousId = versionWithStage(secret, Stage.PREVIOUS);
  const needed = [previousId, currentId].filter(
    (id) => id !== undefined && !Object.hasOwn(secret.tags, supersessionTagKey(id)),
  ).length;
  const count = Object.keys(secret.tags).length;
  if (count + needed <= SECRET_TAG_LIMIT) return;
  const records = [...supersessions(secret).values()];
  const overdue = records.filter(
    (record) => record.versionId !== previousId && now.getTime() >= record.at.getTime() + graceMs,
  );
  throw new SupersessionRecordLimitError(
    `secret ${secret.name} has ${count} tags, and this rotation needs ${needed} more to record when its versions stop being AWSCURRENT ` +
      `(AWS allows ${SECRET_TAG_LIMIT} per secret); nothing was created or revoked. ${records.length} are supersession records ` +
      `(rotation-superseded:<version id>), ${overdue.length} of them overdue (their keys' revocation keeps failing: see the log line ` +
      `"superseded version's keys not revoked" for why)${overdue.length > 0 ? `: ${overdue.map((r) => r.versionId).join(', ')}` : ''}. ` +
      'Fix the cause and revoke each overdue version (the revoke input, {"action":"revoke","SecretId","VersionId"}), which removes its record, ' +
      'or remove tags the secret no longer needs; then retry the rotation.',
  );
}
