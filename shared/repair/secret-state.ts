import { ResourceNotFoundException, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretStoreError } from '../rotation/errors.js';
import { type SecretDescription, SecretStore } from '../rotation/secret-store.js';

/**
 * A secret as DescribeSecret shows it, with what repairs and manual rotations need beyond the
 * engine's steps: the rotation function and the managing service.
 */
export type RotationTarget = SecretDescription;

/** Thrown when DescribeSecret finds no such secret (ResourceNotFoundException). */
export class SecretNotFoundError extends SecretStoreError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SecretNotFoundError';
  }
}

/**
 * Describes a secret in one DescribeSecret call ({@link SecretStore.describe}).
 * @throws {SecretNotFoundError} when there is no such secret.
 * @throws {SecretStoreError} when the call fails otherwise (the AWS error as `cause`).
 */
export async function describeRotationTarget(
  client: SecretsManagerClient,
  secretId: string,
): Promise<RotationTarget> {
  try {
    return await new SecretStore(client, { cacheSize: 0 }).describe(secretId);
  } catch (error) {
    if (error instanceof SecretStoreError && error.cause instanceof ResourceNotFoundException)
      throw new SecretNotFoundError(`there is no secret ${secretId}`, { cause: error.cause });
    throw error;
  }
}
