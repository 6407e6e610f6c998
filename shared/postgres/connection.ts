import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';
import { DatabaseAuthenticationError, DatabaseError, DatabaseUnavailableError } from './errors.js';
import type { PostgresSecret, SslMode } from './secret.js';

/** Where and as whom to log in: a secret's fields without the password. */
export type PostgresTarget = Pick<PostgresSecret, 'host' | 'port' | 'database' | 'username' | 'sslmode'>;

/** An open, logged-in connection. */
export interface PostgresSession {
  /** Runs one statement without parameters and returns its rows. */
  query(sql: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

/** Opens sessions; the strategy's only way to the database, so tests can wrap it. */
export interface PostgresConnector {
  /**
   * Logs in to `target` with `password`.
   * @throws {DatabaseAuthenticationError} when the server refuses the credentials.
   * @throws {DatabaseUnavailableError} when it cannot be reached, times out or refuses TLS.
   */
  connect(target: PostgresTarget, password: string): Promise<PostgresSession>;
}

/** Options of {@link createPostgresConnector}. */
export interface PostgresConnectorOptions {
  /** PEM certificates trusted for the server's certificate, in place of Node's default roots. */
  readonly ca?: string;
  readonly connectTimeoutMs: number;
  readonly queryTimeoutMs: number;
}

/** SQLSTATEs of a refused login: invalid_password, invalid_authorization_specification. */
const AUTH_FAILURE_CODES = new Set(['28P01', '28000']);

/** Builds the TLS options for a libpq sslmode. Never falls back to plaintext. */
export function tlsOptions(mode: SslMode, ca: string | undefined): false | ConnectionOptions {
  switch (mode) {
    case 'disable':
      return false;
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify-ca':
      return { rejectUnauthorized: true, checkServerIdentity: () => undefined, ...(ca ? { ca } : {}) };
    case 'verify-full':
      return { rejectUnauthorized: true, ...(ca ? { ca } : {}) };
    default: {
      const unknown: never = mode;
      throw new TypeError(`unknown sslmode ${String(unknown)}`);
    }
  }
}

/** Describes a target for messages: no password. */
export function describeTarget(target: PostgresTarget): string {
  return `${target.host}:${target.port}/${target.database} as ${JSON.stringify(target.username)} (sslmode ${target.sslmode})`;
}

function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Creates the connector the rotation functions use, backed by node-postgres. */
export function createPostgresConnector(options: PostgresConnectorOptions): PostgresConnector {
  return {
    async connect(target, password) {
      const client = new pg.Client({
        host: target.host,
        port: target.port,
        database: target.database,
        user: target.username,
        password,
        ssl: tlsOptions(target.sslmode, options.ca),
        connectionTimeoutMillis: options.connectTimeoutMs,
        query_timeout: options.queryTimeoutMs,
        statement_timeout: options.queryTimeoutMs,
        application_name: 'secrets-rotation',
      });
      // A connection dropped while idle must not crash the process; the next query fails instead.
      client.on('error', () => undefined);
      try {
        await client.connect();
      } catch (error) {
        await client.end().catch(() => undefined);
        const code = sqlState(error);
        if (code && AUTH_FAILURE_CODES.has(code)) {
          throw new DatabaseAuthenticationError(
            `login refused to ${describeTarget(target)}: ${reason(error)}`,
            {
              cause: error,
            },
          );
        }
        throw new DatabaseUnavailableError(
          `could not connect to ${describeTarget(target)}: ${reason(error)}`,
          {
            cause: error,
          },
        );
      }
      return {
        async query(sql) {
          try {
            return (await client.query(sql)).rows;
          } catch (error) {
            // The statement may carry a password hash: report the server's message and SQLSTATE only.
            throw new DatabaseError(
              `statement failed on ${describeTarget(target)}: ${reason(error)}${sqlState(error) ? ` (SQLSTATE ${sqlState(error)})` : ''}`,
            );
          }
        },
        async close() {
          // Terminate is sent at once; waiting for the server to drop the socket gains nothing.
          client.end().catch(() => undefined);
        },
      };
    },
  };
}
