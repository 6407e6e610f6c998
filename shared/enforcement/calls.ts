/**
 * The Secrets Manager calls the enforcer's actions make on one secret: a fresh read, the
 * version check, and RotateSecret. A failure becomes a value-free {@link SecretStoreError}.
 */
import {
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  ListSecretVersionIdsCommand,
  ResourceNotFoundException,
  RotateSecretCommand,
  type RotateSecretCommandInput,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { describedSecretMetadata } from '../fleet/index.js';
import type { SecretMetadata } from '../policy/index.js';
import { SecretStoreError } from '../rotation/errors.js';

/** RotateSecret; a failure becomes a {@link SecretStoreError} naming what was being done and AWS's error. */
export async function rotateSecret(
  client: SecretsManagerClient,
  what: string,
  input: RotateSecretCommandInput,
) {
  try {
    return await client.send(new RotateSecretCommand(input));
  } catch (error) {
    const { name, message } =
      error instanceof Error ? error : { name: 'UnknownError', message: String(error) };
    throw new SecretStoreError(`Secrets Manager could not ${what}: ${name}: ${message}`, { cause: error });
  }
}

/**
 * The secret's metadata now (`DescribeSecret`), or undefined when it no longer exists.
 * @throws {SecretStoreError} when the call fails otherwise.
 */
export async function describeNow(
  client: SecretsManagerClient,
  arn: string,
): Promise<SecretMetadata | undefined> {
  let out: DescribeSecretCommandOutput;
  try {
    out = await client.send(new DescribeSecretCommand({ SecretId: arn }));
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    const { name, message } =
      error instanceof Error ? error : { name: 'UnknownError', message: String(error) };
    throw new SecretStoreError(`Secrets Manager could not describe secret ${arn}: ${name}: ${message}`, {
      cause: error,
    });
  }
  if (out.DeletedDate) return undefined;
  return describedSecretMetadata(out);
}

/**
 * True when the secret has a version `versionId`, labelled or not (`ListSecretVersionIds`
 * with `IncludeDeprecated`: a failed rotation's placeholder loses its label but keeps its id).
 * @throws {SecretStoreError} when the versions cannot be listed (the start fails closed).
 */
export async function versionExists(
  client: SecretsManagerClient,
  arn: string,
  versionId: string,
): Promise<boolean> {
  let nextToken: string | undefined;
  try {
    do {
      const page = await client.send(
        new ListSecretVersionIdsCommand({
          SecretId: arn,
          IncludeDeprecated: true,
          MaxResults: 100,
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      );
      if (page.Versions?.some((version) => version.VersionId === versionId)) return true;
      nextToken = page.NextToken || undefined;
    } while (nextToken);
  } catch (error) {
    const { name, message } =
      error instanceof Error ? error : { name: 'UnknownError', message: String(error) };
    throw new SecretStoreError(`Secrets Manager could not list the versions of ${arn}: ${name}: ${message}`, {
      cause: error,
    });
  }
  return false;
}
