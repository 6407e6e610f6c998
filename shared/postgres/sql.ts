import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

/**
 * Quotes an SQL identifier (a role name): wrapped in double quotes, inner quotes doubled.
 * The name keeps its exact case and characters.
 */
export function quoteIdentifier(name: string): string {
  if (name.includes('\0')) throw new TypeError('an SQL identifier cannot contain a NUL character');
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Quotes an SQL string literal as a standard-conforming string: single quotes doubled.
 * Backslashes are literal in standard strings; an `E''` string is never produced.
 */
export function quoteLiteral(value: string): string {
  if (value.includes('\0')) throw new TypeError('an SQL literal cannot contain a NUL character');
  return `'${value.replaceAll("'", "''")}'`;
}

const SCRAM_ITERATIONS = 4096;

/**
 * Computes PostgreSQL's SCRAM-SHA-256 verifier for a password, as `\password` in psql does,
 * so that `ALTER ROLE … PASSWORD` carries a hash and never the password itself (statement
 * logs, `pg_stat_statements`). Only printable ASCII passwords are accepted: SASLprep leaves
 * them unchanged, so the verifier is exactly what the server would compute.
 */
export function scramSha256Verifier(password: string, salt: Buffer = randomBytes(16)): string {
  if (!/^[\x21-\x7e]+$/.test(password)) {
    throw new TypeError('only printable ASCII passwords without spaces can be pre-hashed');
  }
  const salted = pbkdf2Sync(password, salt, SCRAM_ITERATIONS, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${SCRAM_ITERATIONS}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** The statement that sets a role's password to `password` (sent pre-hashed). */
export function alterRolePasswordSql(role: string, password: string): string {
  return `ALTER ROLE ${quoteIdentifier(role)} WITH PASSWORD ${quoteLiteral(scramSha256Verifier(password))}`;
}

/**
 * A string literal cast to `pg_catalog.name` (role and database names compared with catalog
 * columns): the type is explicit, so no user-defined function or operator is a better match.
 */
export function nameLiteral(value: string): string {
  return `${quoteLiteral(value)}::pg_catalog.name`;
}
