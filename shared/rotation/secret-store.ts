import {
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  type SecretsManagerClient,
  type SecretVersionsListEntry,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { awsErrorText } from '../logging/aws-error.js';
import { SecretStoreError } from './errors.js';

/** What the engine needs to know about a secret, from DescribeSecret. */
export interface SecretDescription {
  readonly arn: string;
  readonly name: string;
  readonly rotationEnabled: boolean;
  /**
   * Version id → staging labels, in an object without a prototype: an id taken from input
   * (`constructor`, `__proto__`) finds nothing rather than one of Object's members.
   */
  readonly versions: Readonly<Record<string, readonly string[]>>;
  /** Tag key → value, in an object without a prototype. */
  readonly tags: Readonly<Record<string, string>>;
  readonly lastRotatedDate?: Date;
  /** The rotation function Secrets Manager invokes (`RotationLambdaARN`), if one is set. */
  readonly rotationLambdaArn?: string;
  /** The AWS service that manages the secret (`OwningService`, e.g. `rds`), if any. */
  readonly owningService?: string;
}

/**
 * The engine's view of a DescribeSecret answer. Versions and tags are kept in objects
 * without a prototype, so that looking up an id or key taken from input never finds one of
 * Object's members.
 */
export function describedSecret(
  out: Pick<
    DescribeSecretCommandOutput,
    | 'RotationEnabled'
    | 'VersionIdsToStages'
    | 'Tags'
    | 'LastRotatedDate'
    | 'RotationLambdaARN'
    | 'OwningService'
  >,
  identity: { readonly arn: string; readonly name: string },
): SecretDescription {
  return {
    arn: identity.arn,
    name: identity.name,
    rotationEnabled: out.RotationEnabled === true,
    versions: stagesByVersion(out.VersionIdsToStages),
    tags: tagsByKey(out.Tags),
    ...(out.LastRotatedDate ? { lastRotatedDate: out.LastRotatedDate } : {}),
    ...(out.RotationLambdaARN ? { rotationLambdaArn: out.RotationLambdaARN } : {}),
    ...(out.OwningService ? { owningService: out.OwningService } : {}),
  };
}

/** Version id → staging labels, in an object without a prototype. */
export function stagesByVersion(
  raw: Record<string, string[] | undefined> | undefined,
): Record<string, readonly string[]> {
  const versions: Record<string, readonly string[]> = Object.create(null);
  for (const [id, stages] of Object.entries(raw ?? {})) versions[id] = stages ?? [];
  return versions;
}

/** Tag key → value, in an object without a prototype. */
export function tagsByKey(
  raw: readonly { Key?: string | undefined; Value?: string | undefined }[] | undefined,
): Record<string, string> {
  const tags: Record<string, string> = Object.create(null);
  for (const tag of raw ?? []) if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? '';
  return tags;
}

/** The id of the version of `secret` that carries `stage`, if any. */
export function versionWithStage(secret: SecretDescription, stage: string): string | undefined {
  return Object.entries(secret.versions).find(([, stages]) => stages.includes(stage))?.[0];
}

/** Options of {@link SecretStore}. */
export interface SecretStoreOptions {
  /** How many version values the in-memory cache keeps (0 turns it off). Default 32. */
  readonly cacheSize?: number;
}

/**
 * The Secrets Manager operations of the rotation protocol, each naming the version it
 * means (`VersionId` or `VersionStage`): never a default read.
 *
 * Secret versions are immutable, so values read or written by `VersionId` are kept in a
 * small in-memory cache: the four steps of one rotation, run on one warm Lambda, read each
 * version once. Staging labels are never cached; every step describes the secret afresh.
 */
export class SecretStore {
  readonly #client: SecretsManagerClient;
  readonly #cacheSize: number;
  readonly #cache = new Map<string, string>();

  constructor(client: SecretsManagerClient, options: SecretStoreOptions = {}) {
    this.#client = client;
    this.#cacheSize = options.cacheSize ?? 32;
  }

  /** Reads the secret's metadata and staging labels. */
  async describe(secretId: string): Promise<SecretDescription> {
    const out = await this.#call(`describe secret ${secretId}`, () =>
      this.#client.send(new DescribeSecretCommand({ SecretId: secretId })),
    );
    if (!out.ARN || !out.Name) throw new SecretStoreError(`DescribeSecret returned no ARN for ${secretId}`);
    return describedSecret(out, { arn: out.ARN, name: out.Name });
  }

  /**
   * Reads the value of one version. Returns `undefined` when the version holds no value
   * (Secrets Manager stages an empty AWSPENDING version when rotation starts).
   * `secretId` may be the name or the ARN.
   */
  async getVersion(secretId: string, versionId: string): Promise<string | undefined> {
    const cached = this.#cache.get(`${secretId}\n${versionId}`);
    if (cached !== undefined) return cached;
    const out = await this.#call(
      `read version ${versionId} of ${secretId}`,
      () => this.#client.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: versionId })),
      { notFound: true },
    );
    if (out?.SecretString === undefined) return undefined;
    this.#remember([secretId, out.ARN], versionId, out.SecretString);
    return out.SecretString;
  }

  /**
   * Reads the version that carries `stage` now, and its id. Staging labels move, so this
   * always asks Secrets Manager; the value is then cached under its version id.
   */
  async getStage(secretId: string, stage: string): Promise<{ versionId: string; value: string } | undefined> {
    const out = await this.#call(
      `read the ${stage} version of ${secretId}`,
      () => this.#client.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage })),
      { notFound: true },
    );
    if (out?.SecretString === undefined || !out.VersionId) return undefined;
    this.#remember([secretId, out.ARN], out.VersionId, out.SecretString);
    return { versionId: out.VersionId, value: out.SecretString };
  }

  /**
   * When version `versionId` was created (ListSecretVersionIds), or undefined when Secrets
   * Manager lists no such version or no date for it.
   */
  async versionCreatedDate(secretId: string, versionId: string): Promise<Date | undefined> {
    return (await this.findVersion(secretId, versionId))?.CreatedDate;
  }

  /**
   * Version `versionId` as ListSecretVersionIds lists it, or undefined when it lists none.
   * `includeDeprecated` also finds versions with no staging label (a failed rotation's
   * placeholder loses its label but keeps its id).
   */
  findVersion(
    secretId: string,
    versionId: string,
    options: { includeDeprecated?: boolean } = {},
  ): Promise<SecretVersionsListEntry | undefined> {
    return this.#call(`list the versions of ${secretId}`, () =>
      findVersionEntry(this.#client, secretId, versionId, options.includeDeprecated ?? false),
    );
  }

  /**
   * Stores `value` as the version `token`, staged AWSPENDING. `rotationToken` is passed on
   * when the rotation event carried one (cross-account rotation, assumed roles).
   * Returns `exists` when the version already holds another value: Secrets Manager refuses
   * to change a version (ResourceExistsException), so another attempt stored it first.
   */
  async putPending(
    arn: string,
    token: string,
    value: string,
    rotationToken?: string,
  ): Promise<'stored' | 'exists'> {
    try {
      await this.#call(`store pending version ${token} of ${arn}`, () =>
        this.#client.send(
          new PutSecretValueCommand({
            SecretId: arn,
            ClientRequestToken: token,
            SecretString: value,
            VersionStages: ['AWSPENDING'],
            ...(rotationToken ? { RotationToken: rotationToken } : {}),
          }),
        ),
      );
    } catch (error) {
      if (error instanceof SecretStoreError && error.cause instanceof ResourceExistsException)
        return 'exists';
      throw error;
    }
    this.#remember([arn], token, value);
    return 'stored';
  }

  /**
   * Moves `stage` onto `toVersionId`, taking it from `fromVersionId` (required by
   * Secrets Manager when the label is attached elsewhere).
   */
  async moveStage(arn: string, stage: string, toVersionId: string, fromVersionId?: string): Promise<void> {
    await this.#call(`move ${stage} of ${arn} to version ${toVersionId}`, () =>
      this.#client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: arn,
          VersionStage: stage,
          MoveToVersionId: toVersionId,
          ...(fromVersionId && fromVersionId !== toVersionId ? { RemoveFromVersionId: fromVersionId } : {}),
        }),
      ),
    );
  }

  /** Removes `stage` from `versionId`. */
  async removeStage(arn: string, stage: string, versionId: string): Promise<void> {
    await this.#call(`remove ${stage} from version ${versionId} of ${arn}`, () =>
      this.#client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: arn,
          VersionStage: stage,
          RemoveFromVersionId: versionId,
        }),
      ),
    );
  }

  #remember(secretIds: (string | undefined)[], versionId: string, value: string): void {
    if (this.#cacheSize <= 0) return;
    for (const secretId of new Set(secretIds)) {
      if (secretId === undefined) continue;
      const key = `${secretId}\n${versionId}`;
      this.#cache.delete(key);
      this.#cache.set(key, value);
    }
    while (this.#cache.size > this.#cacheSize) {
      const oldest = this.#cache.keys().next().value;
      if (oldest === undefined) break;
      this.#cache.delete(oldest);
    }
  }

  /**
   * Runs a call; `notFound`/`exists` turn those AWS errors into `undefined`, others into a
   * SecretStoreError quoting an AWS error's message, and only the name of any other error.
   */
  async #call<T>(what: string, fn: () => Promise<T>): Promise<T>;
  async #call<T>(
    what: string,
    fn: () => Promise<T>,
    options: { notFound?: true; exists?: true },
  ): Promise<T | undefined>;
  async #call<T>(
    what: string,
    fn: () => Promise<T>,
    options: { notFound?: true; exists?: true } = {},
  ): Promise<T | undefined> {
    try {
      return await fn();
    } catch (error) {
      if (options.notFound && error instanceof ResourceNotFoundException) return undefined;
      // An AWS error keeps its message; any other (a body that would not parse) only its name.
      throw new SecretStoreError(`Secrets Manager could not ${what}: ${awsErrorText(error)}`, {
        cause: error,
      });
    }
  }
}

/**
 * Pages ListSecretVersionIds (100 a page) until version `versionId` is found; undefined when
 * no page lists it. Errors are the SDK's, unwrapped.
 */
export async function findVersionEntry(
  client: SecretsManagerClient,
  secretId: string,
  versionId: string,
  includeDeprecated: boolean,
): Promise<SecretVersionsListEntry | undefined> {
  let nextToken: string | undefined;
  do {
    const page = await client.send(
      new ListSecretVersionIdsCommand({
        SecretId: secretId,
        MaxResults: 100,
        ...(includeDeprecated ? { IncludeDeprecated: true } : {}),
        ...(nextToken ? { NextToken: nextToken } : {}),
      }),
    );
    const found = page.Versions?.find((version) => version.VersionId === versionId);
    if (found) return found;
    nextToken = page.NextToken || undefined;
  } while (nextToken);
  return undefined;
}
