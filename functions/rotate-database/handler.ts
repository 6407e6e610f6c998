import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type DatabaseRotationConfig, loadDatabaseRotationConfig } from '../../shared/config/index.js';
import type { Logger } from '../../shared/logging/index.js';
import { SecretsManagerPasswordSource } from '../../shared/password/index.js';
import {
  createPostgresConnector,
  type PostgresConnector,
  PostgresSingleUserStrategy,
} from '../../shared/postgres/index.js';
import { RotationEngine, SecretStore } from '../../shared/rotation/index.js';
import { lazyHandler } from '../lib/lazy-handler.js';
import { createRotationHandler } from '../lib/rotation-handler.js';

/** What the database rotation handler is built from; tests pass their own. */
export interface DatabaseRotationDependencies {
  readonly config: DatabaseRotationConfig;
  readonly secretsManager: SecretsManagerClient;
  readonly logger: Logger;
  readonly connector?: PostgresConnector;
}

/** Builds the `rotateDatabase` handler: single-user PostgreSQL password rotation. */
export function buildRotateDatabaseHandler(deps: DatabaseRotationDependencies) {
  const strategy = new PostgresSingleUserStrategy({
    connector: deps.connector ?? createPostgresConnector(deps.config.database),
    passwords: new SecretsManagerPasswordSource(deps.secretsManager, deps.config.password),
  });
  const engine = new RotationEngine({
    store: new SecretStore(deps.secretsManager),
    strategy,
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
