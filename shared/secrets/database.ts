import type { ClientConfig } from 'pg';
import { tlsOptions } from '../postgres/connection.js';
import type { PostgresSecret } from '../postgres/secret.js';

/** A database secret ready to connect with. */
export interface DatabaseCredentials extends PostgresSecret {
  /**
   * A libpq URL (psql, psycopg, most drivers) built from the secret's fields, carrying its
   * `sslmode` (and `sslrootcert` when `DB_TLS_CA_FILE` is set) and any other parameter of the
   * secret's own `connection_string`. node-postgres reads `sslmode` differently from libpq:
   * in Node, connect with {@link pg} instead.
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

/** Adds the ready {@link DatabaseCredentials.connectionString} and {@link DatabaseCredentials.pg} to a secret. */
export function databaseCredentials(secret: PostgresSecret, trust: DatabaseTrust = {}): DatabaseCredentials {
  return {
    ...secret,
    connectionString: connectionStringOf(secret, trust.caFile),
    pg: {
      host: secret.host,
      port: secret.port,
      database: secret.database,
      user: secret.username,
      password: secret.password,
      // The rotation's own TLS rules (connection.ts): never a fallback to plaintext.
      ssl: tlsOptions(secret.sslmode, trust.ca),
    },
  };
}

function connectionStringOf(secret: PostgresSecret, caFile: string | undefined): string {
  // The schema has checked that a connection_string is a postgresql:// URL.
  const url = new URL(secret.connectionString ?? 'postgresql://localhost');
  url.hostname = secret.host.includes(':') ? `[${secret.host}]` : secret.host;
  url.port = String(secret.port);
  url.pathname = `/${encodeURIComponent(secret.database)}`;
  url.username = encodeURIComponent(secret.username);
  url.password = encodeURIComponent(secret.password);
  url.searchParams.set('sslmode', secret.sslmode);
  if (caFile && secret.sslmode.startsWith('verify-')) url.searchParams.set('sslrootcert', caFile);
  return url.toString();
}
