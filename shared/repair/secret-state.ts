import {
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { awsErrorText } from '../logging/aws-error.js';
import { SecretStoreError } from '../rotation/errors.js';
import { describedSecret, type SecretDescription } from '../rotation/secret-store.js';

/**
 * A secret as DescribeSecret shows it, with what repairs and manual rotations need beyond the
 * engine's {@link SecretDescription}: the rotation function and the managing service.
 */
export interface RotationTarget extends SecretDescription {
  /** The rotation function Secrets Manager invokes (`RotationLambdaARN`), if one is set. */
  readonly rotationLambdaArn?: string;
  /** The AWS service that manages the secret (`OwningService`, e.g. `rds`), if any. */
  readonly owningService?: string;
}

/** Thrown when DescribeSecret finds no such secret (ResourceNotFoundException). */
export class SecretNotFoundError extends SecretStoreError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SecretNotFoundError';
  }
}

/**
 * Describes a secret in one DescribeSecret call.
 * @throws {SecretNotFoundError} when there is no such secret.
 * @throws {SecretStoreError} when the call fails otherwise (the AWS error as `cause`).
 */
export async function describeRotationTarget(
  client: SecretsManagerClient,
  secretId: string,
): Promise<RotationTarget> {
  let out: DescribeSecretCommandOutput;
  try {
    out = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
  } catch (error) {
    if (error instanceof ResourceNotFoundException) {
      throw new SecretNotFoundError(`there is no secret ${secretId}`, { cause: error });
    }
    throw new SecretStoreError(
      `Secrets Manager could not describe secret ${secretId}: ${awsErrorText(error)}`,
      {
        cause: error,
      },
    );
  }
  if (!out.ARN || !out.Name) throw new SecretStoreError(`DescribeSecret returned no ARN for ${secretId}`);
  return {
    ...describedSecret(out, { arn: out.ARN, name: out.Name }),
    ...(out.RotationLambdaARN ? { rotationLambdaArn: out.RotationLambdaARN } : {}),
    ...(out.OwningService ? { owningService: out.OwningService } : {}),
  };
}
