/**
 * The Secrets Manager calls the enforcer's actions make on one secret: a fresh read and
 * RotateSecret (the version check is `SecretStore.findVersion`). A failure becomes a
 * value-free {@link SecretStoreError}: an AWS error keeps its message, any other only its name.
 */
import {
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  ResourceNotFoundException,
  RotateSecretCommand,
  type RotateSecretCommandInput,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { describedSecretMetadata } from '../fleet/index.js';
import { awsErrorText } from '../logging/aws-error.js';
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
    throw new SecretStoreError(`Secrets Manager could not ${what}: ${awsErrorText(error)}`, { cause: error });
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
    throw new SecretStoreError(`Secrets Manager could not describe secret ${arn}: ${awsErrorText(error)}`, {
      cause: error,
    });
  }
  if (out.DeletedDate) return undefined;
  return describedSecretMetadata(out);
}
