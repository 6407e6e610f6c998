import type { PostgresTarget } from './connection.js';
import { ConnectionMismatchError } from './errors.js';
import type { PostgresSecret } from './secret.js';

/** Where and how a secret logs in (no password). */
export function targetOf(secret: PostgresSecret): PostgresTarget {
  const { host, port, database, username, sslmode } = secret;
  return {
    host,
    port,
    database,
    username,
    sslmode,
    sslmodeFrom: secret.sslmodeFrom ?? 'default',
    ...(secret.rds ? { rds: secret.rds } : {}),
  };
}

/** The two commands that abandon a rotation's pending version and start a new one. */
export function startOverAdvice(secretName: string, token: string): string {
  return `Start over: remove AWSPENDING from the pending version (aws secretsmanager update-secret-version-stage --secret-id ${secretName} --version-stage AWSPENDING --remove-from-version-id ${token}), then rotate again (aws secretsmanager rotate-secret --secret-id ${secretName}); the new rotation copies AWSCURRENT's settings`;
}

/** A field that says where, how or through whom to connect, in the secret's own words. */
const CONNECTION_FIELDS = [
  ['host', (s: PostgresSecret) => s.host],
  ['port', (s: PostgresSecret) => s.port],
  ['database', (s: PostgresSecret) => s.database],
  ['username', (s: PostgresSecret) => s.username],
  ['sslmode', (s: PostgresSecret) => s.sslmode],
  ['masterarn', (s: PostgresSecret) => s.masterArn],
  [
    'dbInstanceIdentifier',
    (s: PostgresSecret) => (s.rds?.kind === 'instance' ? s.rds.identifier : undefined),
  ],
  ['dbClusterIdentifier', (s: PostgresSecret) => (s.rds?.kind === 'cluster' ? s.rds.identifier : undefined)],
] as const;

/**
 * Refuses a pending version that connects differently from AWSCURRENT (sslmode compared as
 * it takes effect, including one given in `connection_string` or `ssl`), so that setSecret
 * and testSecret reach the same database the same way. `except` lists fields that differ
 * by design (the login, for alternating users).
 */
export function assertSameConnection(
  current: PostgresSecret,
  pending: PostgresSecret,
  secretName: string,
  token: string,
  except: readonly string[] = [],
): void {
  const fields = CONNECTION_FIELDS.filter(
    ([field, read]) => !except.includes(field) && read(current) !== read(pending),
  ).map(([field]) => field);
  if (fields.length === 0) return;
  throw new ConnectionMismatchError(
    `setSecret refuses version ${token} of secret ${secretName}: AWSCURRENT and the pending version connect to the database differently (${fields.join(', ')}), so setSecret and testSecret would not reach it the same way. Nothing was changed. ${startOverAdvice(secretName, token)}`,
    fields,
  );
}
