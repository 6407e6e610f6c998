import type { IAMClient } from '@aws-sdk/client-iam';
import type { ApiKeyProvider } from '../api-keys/index.js';
import { databaseStrategyResolver, type PostgresRotationStrategy } from '../postgres/index.js';
import type { RotationTarget } from '../repair/index.js';
import { Stage } from '../rotation/constants.js';
import { MalformedSecretError } from '../rotation/errors.js';
import { parseJsonObject } from '../rotation/parse.js';
import type { SecretStore } from '../rotation/secret-store.js';
import type { SecretFields } from '../rotation/strategy.js';
import { apiKeyCheck } from './api-key.js';
import type { PreviousCredentialCheck } from './check.js';
import { IamKeyReactivator } from './iam-reactivation.js';
import { postgresCheck } from './postgres.js';

/** What {@link createRollbackChecks} builds the checks from: the same parts the rotation functions use. */
export interface RollbackCheckParts {
  readonly store: SecretStore;
  /** `rotateDatabase`'s strategy, built the same way (its RDS client describes the databases secrets name). */
  readonly database: PostgresRotationStrategy;
  readonly providers: ReadonlyMap<string, ApiKeyProvider>;
  readonly iam: IAMClient;
  readonly now?: () => Date;
}

/**
 * The rollback check of a managed secret, by its category: `database` secrets are tested by
 * `rotateDatabase`'s strategy, resolved as it resolves it ({@link databaseStrategyResolver}),
 * `api-keys` by their provider.
 */
export function createRollbackChecks(
  parts: RollbackCheckParts,
): (secret: RotationTarget, category: string) => PreviousCredentialCheck {
  const database = postgresCheck(databaseStrategyResolver(parts.database));
  const apiKeys = apiKeyCheck({
    providers: parts.providers,
    reactivator: new IamKeyReactivator(parts.iam),
    readSecret: readCurrentFields(parts.store),
    ...(parts.now ? { now: parts.now } : {}),
  });
  return (_secret, category) => {
    if (category === 'database') return database;
    if (category === 'api-keys') return apiKeys;
    throw new MalformedSecretError(`no rollback check for secrets of category ${category}`);
  };
}

/** Reads another secret's AWSCURRENT fields (a provider's admin key or service account). */
function readCurrentFields(store: SecretStore): (secretId: string) => Promise<SecretFields> {
  return async (secretId) => {
    const value = await store.getStage(secretId, Stage.CURRENT);
    if (!value) throw new MalformedSecretError(`secret ${secretId} has no AWSCURRENT value`);
    return parseJsonObject(value.value, `the AWSCURRENT version of secret ${secretId}`);
  };
}
