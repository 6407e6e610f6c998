import { join } from 'node:path';
import type { ClientConfig } from 'pg';
import { tlsOptions } from '../postgres/connection.js';
import type { PostgresSecret } from '../postgres/secret.js';
import { isRdsHost, RDS_CA_BUNDLE_FILE, rdsTrustedCertificates } from '../postgres/tls.js';
import { writePostgresUrl } from './postgres-url.js';

/** A database secret ready to connect with. */
export interface DatabaseCredentials extends PostgresSecret {
  /**
   * A libpq URL (psql, psycopg, most drivers) built from the secret's fields, carrying its
   * `sslmode`, `sslrootcert` whenever a CA is trusted (as {@link DatabaseTrust} says), and the
   * other parameters of the secret's own `connection_string` exactly as written.
   * node-postgres reads `sslmode` differently from libpq: in Node, connect with {@link pg} instead.
   */
  readonly connectionString: string;
  /** node-postgres client or pool options, TLS set from `sslmode` as the rotation connects. */
  readonly pg: ClientConfig;
}

/** The database's TLS trust, from `DB_TLS_CA_FILE`. */
export interface DatabaseTrust {
  /** PEM certificates trusted for the server's certificate, in place of Node's roots. */
  readonly ca?: string | undefined;
  /** The file they came from, for libpq's `sslrootcert`. */
  readonly caFile?: string | undefined;
}

/**
 * Adds the ready {@link DatabaseCredentials.connectionString} and {@link DatabaseCredentials.pg}
 * to a secret. TLS trusts what the rotation trusts: `trust` (`DB_TLS_CA_FILE`) when given, else,
 * for an RDS database (an RDS endpoint as host, or `dbInstanceIdentifier` /
 * `dbClusterIdentifier`), the RDS bundle shipped with the package.
 * @throws {RdsCaBundleError} when an RDS database's bundle cannot be read: nothing connects unverified.
 * @throws {InvalidSecretValueError} when a field cannot be written in a libpq URL (e.g. an invalid IPv6 host).
 */
export function databaseCredentials(secret: PostgresSecret, trust: DatabaseTrust = {}): DatabaseCredentials {
  const { ca, caFile } = trustFor(secret, trust);
  return {
    ...secret,
    connectionString: writePostgresUrl(secret, { base: secret.connectionString, caFile }),
    pg: {
      host: secret.host,
      port: secret.port,
      database: secret.database,
      user: secret.username,
      password: secret.password,
      // The rotation's own TLS rules (connection.ts): never a fallback to plaintext.
      ssl: tlsOptions(secret.sslmode, ca),
    },
  };
}

/**
 * The trust of `createPostgresConnector` (shared/postgres/connection.ts): the configured CA,
 * else the RDS bundle and Node's roots for an RDS database. libpq's `sslrootcert` names the
 * bundle's file (Node's roots have none).
 */
function trustFor(
  secret: PostgresSecret,
  trust: DatabaseTrust,
): { ca: string | readonly string[] | undefined; caFile: string | undefined } {
  if (trust.ca !== undefined || secret.sslmode === 'disable') return { ca: trust.ca, caFile: trust.caFile };
  if (!secret.rds && !isRdsHost(secret.host)) return { ca: undefined, caFile: undefined };
  // rdsTrustedCertificates reads the bundle at this path (tls.ts): the function's root, else the working directory.
  const root = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
  return { ca: rdsTrustedCertificates(secret.sslmode, root), caFile: join(root, RDS_CA_BUNDLE_FILE) };
}
