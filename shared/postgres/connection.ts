import pg from 'pg';
import {
  DatabaseAuthenticationError,
  DatabaseError,
  DatabaseUnavailableError,
  TlsNotTrustedError,
  TlsRefusedError,
} from './errors.js';
import { type PostgresSecret, tlsOffHint } from './secret.js';
import {
  isRdsHost,
  rdsBundleCertificates,
  rdsTrustedCertificates,
  type TlsVerification,
  tlsOptions,
  tlsVerification,
} from './tls.js';

export { tlsOptions } from './tls.js';

/**
 * Where and as whom to log in: a secret's fields without the password. `sslmodeFrom` names
 * the field that decided TLS in messages; `rds` marks a database known to be RDS (its
 * certificate is then checked against the RDS bundle, whatever its host name);
 * `rdsBundleOnly` trusts the RDS bundle alone, whatever `DB_TLS_CA_FILE` says (the login of
 * an RDS-managed master secret).
 */
export type PostgresTarget = Pick<PostgresSecret, 'host' | 'port' | 'database' | 'username' | 'sslmode'> &
  Partial<Pick<PostgresSecret, 'sslmodeFrom' | 'rds'>> & { readonly rdsBundleOnly?: boolean };

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
  /** How the server's certificate is checked for `target` (for the log line that says so). */
  verification?(target: PostgresTarget): TlsVerification;
}

/** Options of {@link createPostgresConnector}. */
export interface PostgresConnectorOptions {
  /** PEM certificates trusted for the server's certificate, in place of Node's default roots. */
  readonly ca?: string;
  readonly connectTimeoutMs: number;
  readonly queryTimeoutMs: number;
}

/**
 * Every session starts with only the system catalog on its search path: whatever a role's or
 * a database's own settings say (a client's startup options override them), no function,
 * operator or table a user created can stand in for a catalog one in the SQL sent here (the
 * CVE-2018-1058 pattern). The SQL qualifies catalog names as well.
 */
export const SESSION_OPTIONS = '-c search_path=pg_catalog,pg_temp';

/** SQLSTATEs of a refused login: invalid_password, invalid_authorization_specification. */
const AUTH_FAILURE_CODES = new Set(['28P01', '28000']);

/** TLS errors Node reports when a certificate is not trusted or names another host. */
const UNTRUSTED_CERTIFICATE =
  /^(SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_(VERIFY_LEAF_SIGNATURE|GET_ISSUER_CERT(_LOCALLY)?)|CERT_(HAS_EXPIRED|NOT_YET_VALID|UNTRUSTED|REJECTED)|ERR_TLS_CERT_ALTNAME_INVALID)$/;

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

/** The reason a connection failed, as the error to throw (no password: the statement never carries one). */
function connectFailure(target: PostgresTarget, error: unknown): DatabaseError {
  const code = sqlState(error);
  if (code && AUTH_FAILURE_CODES.has(code)) {
    return new DatabaseAuthenticationError(`login refused to ${describeTarget(target)}: ${reason(error)}`, {
      cause: error,
    });
  }
  const text = reason(error);
  const managedMaster = target.sslmodeFrom === 'rds-managed-master';
  if (/does not support SSL/i.test(text)) {
    return new TlsRefusedError(
      `could not connect to ${describeTarget(target)}: ${text}. Nothing was changed: ${tlsOffHint(target)}`,
      { cause: error },
    );
  }
  if (code && UNTRUSTED_CERTIFICATE.test(code) && managedMaster) {
    return new TlsNotTrustedError(
      `could not connect to ${describeTarget(target)}: ${text}. Nothing was changed: the master secret is RDS-managed, and its password is sent only to a server whose certificate chains to the RDS bundle shipped with the function and names the endpoint (verify-full), whatever the user secret says`,
      { cause: error },
    );
  }
  if (code && UNTRUSTED_CERTIFICATE.test(code)) {
    return new TlsNotTrustedError(
      `could not connect to ${describeTarget(target)}: ${text}. Nothing was changed: the server's certificate is not trusted. Set DB_TLS_CA_FILE to the CA that signed it (RDS databases are checked against the RDS bundle shipped with the function; RDS Proxy, whose certificate comes from a public CA, needs "sslmode": "verify-full"), or, knowingly, relax the secret's "sslmode" to "verify-ca" (no host name check) or "require"`,
      { cause: error },
    );
  }
  return new DatabaseUnavailableError(`could not connect to ${describeTarget(target)}: ${text}`, {
    cause: error,
  });
}

/** Creates the connector the rotation functions use, backed by node-postgres. */
export function createPostgresConnector(options: PostgresConnectorOptions): PostgresConnector {
  const isRds = (target: PostgresTarget) => target.rds !== undefined || isRdsHost(target.host);
  /**
   * The CA trusted for a target: the RDS bundle alone for an RDS-managed master's login;
   * else DB_TLS_CA_FILE; else, for an RDS database, the RDS bundle (with public roots only
   * where the host name is checked, see {@link rdsTrustedCertificates}).
   */
  const trustFor = (target: PostgresTarget): string | readonly string[] | undefined => {
    if (target.rdsBundleOnly) return rdsBundleCertificates();
    if (options.ca !== undefined) return options.ca;
    return isRds(target) ? rdsTrustedCertificates(target.sslmode) : undefined;
  };
  return {
    verification: (target) =>
      tlsVerification(
        target.sslmode,
        target.rdsBundleOnly === true || options.ca !== undefined || isRds(target),
      ),
    async connect(target, password) {
      const client = new pg.Client({
        host: target.host,
        port: target.port,
        database: target.database,
        user: target.username,
        password,
        ssl: target.sslmode === 'disable' ? false : tlsOptions(target.sslmode, trustFor(target)),
        connectionTimeoutMillis: options.connectTimeoutMs,
        query_timeout: options.queryTimeoutMs,
        statement_timeout: options.queryTimeoutMs,
        application_name: 'secrets-rotation',
        options: SESSION_OPTIONS,
      });
      // A connection dropped while idle must not crash the process; the next query fails instead.
      client.on('error', () => undefined);
      try {
        await client.connect();
      } catch (error) {
        await client.end().catch(() => undefined);
        throw connectFailure(target, error);
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
