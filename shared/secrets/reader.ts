import type { Logger } from '@aws-lambda-powertools/logger';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createSecrets, type SecretFields, type Secrets } from './getters.js';

/** Reads a secret's AWSCURRENT JSON object by name or ARN: the shape of the API-key providers' `readSecret`. */
export type SecretReader = (secretId: string) => Promise<SecretFields>;

/** Options of {@link secretReader}. */
export interface SecretReaderOptions {
  /** Read Secrets Manager on every call instead of the cache. */
  readonly refresh?: boolean;
}

/** A {@link SecretReader} over `secrets`: typed errors, audit lines, and its cache unless `refresh`. */
export function secretReader(secrets: Secrets, options: SecretReaderOptions = {}): SecretReader {
  return (secretId) => secrets.get(secretId, { refresh: options.refresh === true });
}

/**
 * The reader the rotation workers use for the secrets they depend on (provider admin keys,
 * service accounts, master credentials): always Secrets Manager's AWSCURRENT, never cached
 * (a rotation step decides on what it reads, and a stale admin key would fail every retry
 * of the step), never the environment, and audited on the worker's logger.
 */
export function createWorkerSecretReader(options: {
  readonly client: SecretsManagerClient;
  readonly logger: Logger;
}): SecretReader {
  const secrets = createSecrets({
    client: options.client,
    logger: options.logger,
    env: {},
    config: { useSecretsManager: true, cacheTtlSeconds: 0, envFallback: [] },
  });
  return secretReader(secrets);
}
