/**
 * Helpers for the database tests beyond single user: a master role like RDS's (CREATEROLE,
 * not a superuser), logins that stay open like an application's, an RDS client on moto, and
 * a connector that routes RDS endpoint names to the local PostgreSQL as DNS would.
 */
import { RDSClient } from '@aws-sdk/client-rds';
import pg from 'pg';
import {
  createPostgresConnector,
  isRdsHost,
  type PostgresConnector,
  type PostgresConnectorOptions,
} from '../../shared/postgres/index.js';
import { createRole, hostilePassword, stack, superuser, uniqueName } from './bed.js';

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
): Promise<pg.Client> {
  const client = new pg.Client({ host: stack().postgres.host, port, user, password, database: 'postgres' });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Runs statements (`;`-separated) as `user`, on a new connection; returns the last one's rows. */
export async function queryAs(
  user: string,
  password: string,
  statement: string,
): Promise<Record<string, unknown>[]> {
  const client = await openSession(user, password);
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
