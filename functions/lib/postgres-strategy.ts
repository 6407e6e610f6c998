import { RDSClient } from '@aws-sdk/client-rds';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DatabaseRotationConfig } from '../../shared/config/index.js';
import type { Logger } from '../../shared/logging/index.js';
import { SecretsManagerPasswordSource } from '../../shared/password/index.js';
import {
  createPostgresConnector,
  MasterSecrets,
  type PostgresConnector,
  PostgresRotationStrategy,
  RdsDatabases,
} from '../../shared/postgres/index.js';
import { SecretStore } from '../../shared/rotation/index.js';
import { createWorkerSecretReader } from '../../shared/secrets/index.js';

/** What {@link createPostgresRotationStrategy} is built from; tests pass their own clients. */
export interface PostgresStrategyParts {
  readonly config: DatabaseRotationConfig;
  readonly secretsManager: SecretsManagerClient;
  readonly logger: Logger;
  /** The RDS client; one from the environment by default. */
  readonly rds?: RDSClient;
  readonly connector?: PostgresConnector;
  /** Waits between testSecret's login attempts on a new RDS master password. */
  readonly sleep?: (ms: number) => Promise<unknown>;
}

/**
 * The PostgreSQL strategy as `rotateDatabase` rotates with it, and as rotateNow tests a
 * rollback's previous credential with it: one wiring, so both check the same things before
 * any login.
 */
export function createPostgresRotationStrategy(parts: PostgresStrategyParts): PostgresRotationStrategy {
  const store = new SecretStore(parts.secretsManager);
  const rds = new RdsDatabases(parts.rds ?? new RDSClient({}));
  return new PostgresRotationStrategy({
    connector: parts.connector ?? createPostgresConnector(parts.config.database),
    passwords: new SecretsManagerPasswordSource(parts.secretsManager, parts.config.password),
    policy: parts.config.password,
    rds,
    masters: new MasterSecrets({
      read: createWorkerSecretReader({ client: parts.secretsManager, logger: parts.logger }),
      describe: (secretId) => store.describe(secretId),
      rds,
    }),
    masterPasswordWait: parts.config.masterPasswordWait,
    ...(parts.sleep ? { sleep: parts.sleep } : {}),
  });
}
