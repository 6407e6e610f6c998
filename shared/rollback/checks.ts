import type { IAMClient } from '@aws-sdk/client-iam';
import type { ApiKeyProvider } from '../api-keys/index.js';
import type { PasswordSource } from '../password/index.js';
import { type PostgresConnector, PostgresSingleUserStrategy } from '../postgres/index.js';
import type { RotationTarget } from '../repair/index.js';
import { Stage } from '../rotation/constants.js';
import { MalformedSecretError } from '../rotation/errors.js';
import { parseJsonObject } from '../rotation/parse.js';
import type { SecretStore } from '../rotation/secret-store.js';
import type { SecretFields } from '../rotation/strategy.js';
import { apiKeyCheck } from './api-key.js';
import type { PreviousCredentialCheck } from './check.js';
import { IamKeyReactivator } from './iam-reactivation.js';
import { postgresSingleUserCheck } from './postgres.js';

/** What {@link createRollbackChecks} builds the checks from: the same parts the rotation functions use. */
export interface RollbackCheckParts {
  readonly store: SecretStore;
  readonly connector: PostgresConnector;
  /** Unused by the check (it generates nothing); the strategy needs one. */
  readonly passwords: PasswordSource;
  readonly providers: ReadonlyMap<string, ApiKeyProvider>;
  readonly iam: IAMClient;
  readonly now?: () => Date;
}

/**
 * The rollback check of a managed secret, by its category (`database`, `api-keys`).
 * Database secrets are single-user today; alternating-users secrets (a later strategy) get
 * their own check here, chosen from the secret (e.g. its shape or a tag), which logs in as
 * the previous user.
 */
export function createRollbackChecks(
  parts: RollbackCheckParts,
): (secret: RotationTarget, category: string) => PreviousCredentialCheck {
  const database = postgresSingleUserCheck(
    new PostgresSingleUserStrategy({ connector: parts.connector, passwords: parts.passwords }),
  );
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
