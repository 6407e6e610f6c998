import { RDSClient } from '@aws-sdk/client-rds';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type DatabaseRotationConfig, loadDatabaseRotationConfig } from '../../shared/config/index.js';
import type { Logger } from '../../shared/logging/index.js';
import { SecretsManagerPasswordSource } from '../../shared/password/index.js';
import {
  createPostgresConnector,
  databaseStrategyResolver,
  MasterSecrets,
  type PostgresConnector,
  PostgresRotationStrategy,
  RdsDatabases,
} from '../../shared/postgres/index.js';
import { RotationEngine, SecretStore } from '../../shared/rotation/index.js';
import { createWorkerSecretReader } from '../../shared/secrets/index.js';
import { lazyHandler } from '../lib/lazy-handler.js';
import { createRotationHandler } from '../lib/rotation-handler.js';

/** What the database rotation handler is built from; tests pass their own. */
export interface DatabaseRotationDependencies {
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
 * Builds the `rotateDatabase` handler: PostgreSQL passwords, as a single user, as alternating
 * users (`masterarn`), or as an RDS database's master user (`dbInstanceIdentifier`,
 * `dbClusterIdentifier`), chosen from each secret's fields. Secrets RDS manages are refused.
 */
export function buildRotateDatabaseHandler(deps: DatabaseRotationDependencies) {
  const store = new SecretStore(deps.secretsManager);
  const rds = new RdsDatabases(deps.rds ?? new RDSClient({}));
  const strategy = new PostgresRotationStrategy({
    connector: deps.connector ?? createPostgresConnector(deps.config.database),
    passwords: new SecretsManagerPasswordSource(deps.secretsManager, deps.config.password),
    policy: deps.config.password,
    rds,
    masters: new MasterSecrets({
      read: createWorkerSecretReader({ client: deps.secretsManager, logger: deps.logger }),
      describe: (secretId) => store.describe(secretId),
      rds,
    }),
    masterPasswordWait: deps.config.masterPasswordWait,
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
  });
  const engine = new RotationEngine({
    store,
    strategy: databaseStrategyResolver(strategy),
    logger: deps.logger,
  });
  return createRotationHandler(engine, deps.logger);
}

/** The deployed handler; configuration and clients are created once, at the first invocation. */
export const handler = lazyHandler((logger) =>
  buildRotateDatabaseHandler({
    config: loadDatabaseRotationConfig(),
    secretsManager: new SecretsManagerClient({}),
    logger,
  }),
);
