/**
 * Helpers for the database tests beyond single user: a master role like RDS's (CREATEROLE,
 * not a superuser), logins that stay open like an application's, an RDS client on moto, and
 * a connector that routes RDS endpoint names to the local PostgreSQL as DNS would.
 */
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RDSClient } from '@aws-sdk/client-rds';
import { type SecretsManagerClient, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import pg from 'pg';
import {
  createPostgresConnector,
  isRdsHost,
  type PostgresConnector,
  type PostgresConnectorOptions,
  RDS_CA_BUNDLE_FILE,
} from '../../shared/postgres/index.js';
import {
  createRole,
  createRotatingSecret,
  hostilePassword,
  seedDatabaseSecret,
  stack,
  superuser,
  uniqueName,
} from './bed.js';

/** A role name that is safe to splice into the test's own SQL (letters, digits, underscores). */
export const roleName = (prefix: string) => uniqueName(prefix).replaceAll('-', '_');

/** Creates a master login as RDS makes it: CREATEROLE and CREATEDB, not a superuser. */
export async function createMasterRole(): Promise<{ username: string; password: string }> {
  const username = roleName('rds_master');
  const password = hostilePassword();
  await createRole(username, password);
  await sql(`ALTER ROLE ${username} CREATEROLE CREATEDB`);
  return { username, password };
}

/**
 * A master login (as {@link createMasterRole}) and its seed-shaped secret under
 * production/database/, rotation not configured.
 */
export async function createMasterSecret(client: SecretsManagerClient, port?: number) {
  const master = await createMasterRole();
  const { arn } = await createRotatingSecret(
    client,
    uniqueName('production/database/master'),
    seedDatabaseSecret({ ...master, ...(port === undefined ? {} : { port }) }),
    { rotate: false },
  );
  return { ...master, arn };
}

/**
 * A master login and its secret, an application role `<prefix>_…`, and the role's
 * alternating-users secret (`masterarn`) under production/database/: rotation configured,
 * RotateSecret's placeholder cleared, so that no rotation is in progress.
 */
export async function createAlternatingSecret(client: SecretsManagerClient, prefix: string) {
  const master = await createMasterSecret(client);
  const username = roleName(prefix);
  const password = hostilePassword();
  await createRole(username, password);
  const name = uniqueName('production/database/alternating');
  const { arn, token } = await createRotatingSecret(
    client,
    name,
    seedDatabaseSecret({ username, password, extra: { masterarn: master.arn } }),
  );
  await client.send(
    new UpdateSecretVersionStageCommand({
      SecretId: arn,
      VersionStage: 'AWSPENDING',
      RemoveFromVersionId: token,
    }),
  );
  return { master, username, clone: `${username}_clone`, password, name, arn, masterArn: master.arn };
}

/** Runs statements as the superuser; returns the last one's rows. */
export async function sql(...statements: string[]): Promise<Record<string, unknown>[]> {
  return superuser(async (client) => {
    let rows: Record<string, unknown>[] = [];
    for (const statement of statements) rows = (await client.query(statement)).rows;
    return rows;
  });
}

/** An application's open connection, logged in once with the credentials it was given. */
export async function openSession(
  user: string,
  password: string,
  port = stack().postgres.port,
  database = 'postgres',
): Promise<pg.Client> {
  const client = new pg.Client({ host: stack().postgres.host, port, user, password, database });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Runs statements (`;`-separated) as `user`, on a new connection; returns the last one's rows. */
export async function queryAs(
  user: string,
  password: string,
  statement: string,
  database = 'postgres',
): Promise<Record<string, unknown>[]> {
  const client = await openSession(user, password, stack().postgres.port, database);
  try {
    const results: unknown = await client.query(statement);
    const last = (Array.isArray(results) ? results.at(-1) : results) as pg.QueryResult | undefined;
    return last?.rows ?? [];
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** An RDS client on the moto server. */
export function rdsClient(): RDSClient {
  return new RDSClient({
    region: 'us-east-1',
    endpoint: stack().awsEndpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}

/**
 * The production connector, with RDS endpoint names resolved to local addresses (moto's
 * endpoints do not resolve): what DNS does for a real RDS database. Every host not in
 * `routes` connects as it is. `connected` lists the hosts asked for, in order.
 */
export function routedConnector(
  routes: Record<string, { host: string; port: number }>,
  options: PostgresConnectorOptions,
): PostgresConnector & { readonly connected: string[] } {
  const real = createPostgresConnector(options);
  const connected: string[] = [];
  return {
    connected,
    verification: (target) => real.verification?.(target) ?? 'full',
    connect(target, password) {
      connected.push(target.host);
      const route = routes[target.host.toLowerCase()];
      // The name routed is an RDS database's: its certificate is checked as one (the RDS bundle).
      const rds =
        target.rds ??
        (isRdsHost(target.host) ? { kind: 'instance' as const, identifier: 'routed' } : undefined);
      return real.connect(route ? { ...target, ...route, ...(rds ? { rds } : {}) } : target, password);
    },
  };
}

/**
 * A function root (set it as `LAMBDA_TASK_ROOT`) whose RDS bundle is the test bed's CA, so
 * that the local TLS PostgreSQL passes for an RDS server: what the shipped bundle does for a
 * real one. `remove` deletes it.
 */
export async function rootTrustingTestBed(): Promise<{ root: string; remove: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'function-root-'));
  await mkdir(join(root, RDS_CA_BUNDLE_FILE, '..'), { recursive: true });
  await copyFile(stack().postgres.caFile, join(root, RDS_CA_BUNDLE_FILE));
  return { root, remove: () => rm(root, { recursive: true, force: true }) };
}

/**
 * The production connector, recording the user of every login attempt and every statement
 * sent on any session, in order.
 */
export function recordingConnector(options: PostgresConnectorOptions): PostgresConnector & {
  readonly logins: string[];
  readonly statements: { username: string; sql: string }[];
} {
  const real = createPostgresConnector(options);
  const logins: string[] = [];
  const statements: { username: string; sql: string }[] = [];
  return {
    logins,
    statements,
    verification: (target) => real.verification?.(target) ?? 'full',
    async connect(target, password) {
      logins.push(target.username);
      const session = await real.connect(target, password);
      return {
        query(statement) {
          statements.push({ username: target.username, sql: statement });
          return session.query(statement);
        },
        close: () => session.close(),
      };
    },
  };
}
