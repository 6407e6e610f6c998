import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { loadDatabaseRotationConfig } from '../../shared/config/index.js';
import { databaseStrategyResolver } from '../../shared/postgres/index.js';
import { RotationEngine, SecretStore } from '../../shared/rotation/index.js';
import { lazyHandler } from '../lib/lazy-handler.js';
import { createPostgresRotationStrategy, type PostgresStrategyParts } from '../lib/postgres-strategy.js';
import { createRotationHandler } from '../lib/rotation-handler.js';

/** What the database rotation handler is built from (the PostgreSQL strategy's parts); tests pass their own. */
export type DatabaseRotationDependencies = PostgresStrategyParts;

/**
 * Builds the `rotateDatabase` handler: PostgreSQL passwords, as a single user, as alternating
 * users (`masterarn`), or as an RDS database's master user (`dbInstanceIdentifier`,
 * `dbClusterIdentifier`), chosen from each secret's fields. Secrets RDS manages are refused.
 */
export function buildRotateDatabaseHandler(deps: DatabaseRotationDependencies) {
  const engine = new RotationEngine({
    store: new SecretStore(deps.secretsManager),
    strategy: databaseStrategyResolver(createPostgresRotationStrategy(deps)),
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
