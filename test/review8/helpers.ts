/**
 * Review of issue 8: shared set-up for the findings' tests. Each finding has its own test
 * file; every test asserts the behaviour the issue (or issue 6's rules) asks for, so it fails
 * while the defect is there.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { RDSClient } from '@aws-sdk/client-rds';
import { buildRotateDatabaseHandler } from '../../functions/rotate-database/handler.js';
import { loadDatabaseRotationConfig } from '../../shared/config/index.js';
import type { PostgresConnector } from '../../shared/postgres/index.js';
import {
  createRole,
  createRotatingSecret,
  hostilePassword,
  secretsManager,
  seedDatabaseSecret,
  uniqueName,
} from '../support/bed.js';
import { createMasterRole, rdsClient, roleName } from '../support/databases.js';

export const sm = secretsManager();

/** The production handler on moto and the local PostgreSQL. */
export function handler(options: { rds?: RDSClient; connector?: PostgresConnector } = {}) {
  return buildRotateDatabaseHandler({
    config: loadDatabaseRotationConfig({}),
    secretsManager: sm,
    rds: options.rds ?? rdsClient(),
    ...(options.connector ? { connector: options.connector } : {}),
    logger: new Logger({ serviceName: 'review8', logLevel: 'DEBUG' }),
  });
}

/** A master secret like RDS's master (CREATEROLE, not a superuser), under production/database/. */
export async function masterSecret(seen: string[]) {
  const master = await createMasterRole();
  seen.push(master.password);
  const { arn } = await createRotatingSecret(
    sm,
    uniqueName('production/database/master'),
    seedDatabaseSecret(master),
    { rotate: false },
  );
  return { ...master, arn };
}

/** A login role with a password the test knows. */
export async function loginRole(prefix: string, seen: string[]) {
  const name = roleName(prefix);
  const password = hostilePassword();
  seen.push(password);
  await createRole(name, password);
  return { name, password };
}

/** An alternating-users secret for `username`, naming `masterArn`, with a rotation started. */
export async function alternatingSecret(
  username: string,
  password: string,
  masterArn: string,
  extra: object = {},
) {
  const name = uniqueName('production/database/app');
  const value = seedDatabaseSecret({ username, password, extra: { masterarn: masterArn, ...extra } });
  const { arn, token } = await createRotatingSecret(sm, name, value);
  return { name, arn, token };
}
