import type { PostgresSession } from './connection.js';
import { DatabaseError } from './errors.js';
import { quoteIdentifier, quoteLiteral, scramSha256Verifier } from './sql.js';

/** The suffix of the second login of alternating-users rotation, as in AWS's templates. */
export const CLONE_SUFFIX = '_clone';

/** PostgreSQL's longest identifier, in bytes (NAMEDATALEN - 1): longer names are truncated. */
export const MAX_ROLE_NAME_BYTES = 63;

/**
 * Thrown when alternating users cannot apply to a role name: its `_clone` would pass
 * PostgreSQL's 63-byte limit (and be silently truncated into another name).
 */
export class RoleNameTooLongError extends DatabaseError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RoleNameTooLongError';
  }
}

/**
 * Thrown when a role the rotation would change is not provably this secret's: a role named
 * like the clone that this product did not create for this secret (and that is not a member
 * of the original, as AWS's template makes its clones), or a missing original.
 */
export class ForeignRoleError extends DatabaseError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ForeignRoleError';
  }
}

/** The two logins of an alternating-users secret. */
export interface RolePair {
  /** The original role: it owns everything either login creates, and holds the privileges. */
  readonly original: string;
  /** `<original>_clone`: a login whose sessions run as the original. */
  readonly clone: string;
}

/** The pair a secret's username belongs to (`app` and `app_clone`, from either name). */
export function rolePairOf(username: string): RolePair {
  const original = username.endsWith(CLONE_SUFFIX) ? username.slice(0, -CLONE_SUFFIX.length) : username;
  const clone = `${original}${CLONE_SUFFIX}`;
  if (Buffer.byteLength(clone) > MAX_ROLE_NAME_BYTES) {
    throw new RoleNameTooLongError(
      `alternating users needs a second login named ${JSON.stringify(clone)}, which is ${Buffer.byteLength(clone)} bytes: PostgreSQL's limit is ${MAX_ROLE_NAME_BYTES} and would truncate it. Nothing was changed; use a username of at most ${MAX_ROLE_NAME_BYTES - CLONE_SUFFIX.length} bytes, or rotate it as a single user (remove masterarn)`,
    );
  }
  if (original.length === 0) {
    throw new RoleNameTooLongError(`the username ${JSON.stringify(username)} is only the clone suffix`);
  }
  return { original, clone };
}

/** The other login of the pair: the one the next rotation sets a password for. */
export function otherLogin(username: string): string {
  const pair = rolePairOf(username);
  return username === pair.clone ? pair.original : pair.clone;
}

/** The comment that marks a clone this product created (or adopted) for one secret. */
export function cloneMarker(pair: RolePair, secretArn: string): string {
  return `secrets-rotation: login alias of role ${JSON.stringify(pair.original)} for secret ${secretArn}; its sessions run as that role. Do not grant to it: grant to ${JSON.stringify(pair.original)}`;
}

/** Role attributes copied from the original to the clone (LOGIN is always on for the clone). */
const ATTRIBUTES = [
  ['rolsuper', 'SUPERUSER'],
  ['rolinherit', 'INHERIT'],
  ['rolcreaterole', 'CREATEROLE'],
  ['rolcreatedb', 'CREATEDB'],
  ['rolreplication', 'REPLICATION'],
  ['rolbypassrls', 'BYPASSRLS'],
] as const;

interface RoleRow {
  readonly rolname: string;
  readonly rolcanlogin: boolean;
  readonly rolconnlimit: number;
  readonly valid_until: string | null;
  readonly comment: string | null;
  readonly [attribute: string]: unknown;
}

/** One per-role setting: `ALTER ROLE … [IN DATABASE d] SET name = value`. */
interface Setting {
  readonly database: string;
  readonly name: string;
  readonly value: string;
}

/** What a sync changed, for the log: counts and names, never a value. */
export interface SyncReport {
  readonly created: boolean;
  readonly adopted: boolean;
  readonly membershipsGranted: readonly string[];
  readonly membershipsRevoked: readonly string[];
  readonly attributesChanged: readonly string[];
  readonly settingsChanged: readonly string[];
  readonly settingsReset: readonly string[];
  /** Privileges granted to the clone itself, which its sessions (running as the original) never use. */
  readonly directGrantsOnClone: number;
}

/**
 * Makes the clone a login alias of the original, inside the caller's transaction, with the
 * master's session:
 * - creates it when missing (marked with {@link cloneMarker}); an existing one must carry this
 *   secret's marker, or be a member of the original (AWS's template's clone, then adopted);
 *   anything else is someone else's role and stops the step ({@link ForeignRoleError});
 * - memberships: the original's, each with its admin option, plus the original itself; any
 *   other membership of the clone is revoked;
 * - attributes (SUPERUSER, INHERIT, CREATEROLE, CREATEDB, REPLICATION, BYPASSRLS,
 *   CONNECTION LIMIT, VALID UNTIL): the original's, only those that differ being altered;
 * - per-role settings, in every database: the original's, and `role` set to the role the
 *   original's sessions run as (the original itself unless it sets `role`), so that the
 *   clone's sessions act as the original: everything either login creates has one owner;
 *   settings the original lacks are reset.
 * Run at every rotation, whichever login is pending, so privileges follow each time.
 */
export async function syncClone(
  session: PostgresSession,
  pair: RolePair,
  secretArn: string,
): Promise<SyncReport> {
  const roles = await readRoles(session, pair);
  const original = roles.get(pair.original);
  if (!original) {
    throw new ForeignRoleError(
      `role ${JSON.stringify(pair.original)} does not exist: alternating users keeps ${JSON.stringify(pair.clone)} in step with it, so it must exist. Nothing was changed`,
    );
  }
  let clone = roles.get(pair.clone);
  const marker = cloneMarker(pair, secretArn);
  let created = false;
  let adopted = false;
  if (!clone) {
    await session.query(`CREATE ROLE ${quoteIdentifier(pair.clone)} WITH LOGIN`);
    await session.query(`COMMENT ON ROLE ${quoteIdentifier(pair.clone)} IS ${quoteLiteral(marker)}`);
    created = true;
  } else if (clone.comment !== marker) {
    const memberOfOriginal = await isMember(session, pair.clone, pair.original);
    if (clone.comment?.startsWith('secrets-rotation:') || !memberOfOriginal) {
      throw new ForeignRoleError(
        clone.comment?.startsWith('secrets-rotation:')
          ? `role ${JSON.stringify(pair.clone)} is the clone of another secret (its comment names it), not of this one: two secrets must not rotate the same logins. Nothing was changed`
          : `role ${JSON.stringify(pair.clone)} exists, but nothing proves it belongs to this secret: it was not created by this rotation and is not a member of ${JSON.stringify(pair.original)} (as AWS's template makes its clones). Nothing was changed. If it is unused, drop it; if it is this secret's clone, make it so: GRANT ${quoteIdentifier(pair.original)} TO ${quoteIdentifier(pair.clone)}`,
      );
    }
    await session.query(`COMMENT ON ROLE ${quoteIdentifier(pair.clone)} IS ${quoteLiteral(marker)}`);
    adopted = true;
  }
  if (created) clone = (await readRoles(session, pair)).get(pair.clone);
  if (!clone)
    throw new DatabaseError(`role ${JSON.stringify(pair.clone)} could not be read back after CREATE ROLE`);

  const memberships = await syncMemberships(session, pair);
  const attributesChanged = await syncAttributes(session, pair.clone, original, clone);
  const settings = await syncSettings(session, pair);
  const direct = await session.query(
    `SELECT count(*)::int AS n FROM (${aclEntriesSql()}) AS acl WHERE acl.grantee = (SELECT oid FROM pg_roles WHERE rolname = ${quoteLiteral(pair.clone)})`,
  );
  return {
    created,
    adopted,
    ...memberships,
    attributesChanged,
    ...settings,
    directGrantsOnClone: Number(direct[0]?.n ?? 0),
  };
}

/** Sets a role's password (sent as a SCRAM verifier: the password is never in the statement). */
export async function setRolePassword(
  session: PostgresSession,
  role: string,
  password: string,
): Promise<void> {
  await session.query(
    `ALTER ROLE ${quoteIdentifier(role)} WITH LOGIN PASSWORD ${quoteLiteral(scramSha256Verifier(password))}`,
  );
}

async function readRoles(session: PostgresSession, pair: RolePair): Promise<Map<string, RoleRow>> {
  const rows = await session.query(
    `SELECT r.rolname, r.rolcanlogin, r.rolconnlimit, ${ATTRIBUTES.map(([column]) => `r.${column}`).join(', ')},
            CASE WHEN r.rolvaliduntil IS NULL OR r.rolvaliduntil = 'infinity' THEN NULL ELSE r.rolvaliduntil::text END AS valid_until,
            shobj_description(r.oid, 'pg_authid') AS comment
       FROM pg_roles r
      WHERE r.rolname IN (${quoteLiteral(pair.original)}, ${quoteLiteral(pair.clone)})`,
  );
  return new Map(rows.map((row) => [String(row.rolname), row as unknown as RoleRow]));
}

async function isMember(session: PostgresSession, member: string, group: string): Promise<boolean> {
  const rows = await session.query(
    `SELECT 1 FROM pg_auth_members m
       JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles r ON r.oid = m.member
      WHERE g.rolname = ${quoteLiteral(group)} AND r.rolname = ${quoteLiteral(member)}`,
  );
  return rows.length > 0;
}

async function membershipsOf(session: PostgresSession, role: string): Promise<Map<string, boolean>> {
  const rows = await session.query(
    `SELECT g.rolname AS role, m.admin_option FROM pg_auth_members m
       JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles r ON r.oid = m.member
      WHERE r.rolname = ${quoteLiteral(role)}`,
  );
  return new Map(rows.map((row) => [String(row.role), row.admin_option === true]));
}

async function syncMemberships(
  session: PostgresSession,
  pair: RolePair,
): Promise<{ membershipsGranted: string[]; membershipsRevoked: string[] }> {
  const wanted = await membershipsOf(session, pair.original);
  wanted.set(pair.original, wanted.get(pair.original) ?? false);
  const held = await membershipsOf(session, pair.clone);
  const granted: string[] = [];
  const revoked: string[] = [];
  const clone = quoteIdentifier(pair.clone);
  for (const [group, admin] of wanted) {
    const has = held.get(group);
    if (has === undefined || (admin && !has)) {
      await session.query(`GRANT ${quoteIdentifier(group)} TO ${clone}${admin ? ' WITH ADMIN OPTION' : ''}`);
      granted.push(group);
    } else if (has && !admin) {
      await session.query(`REVOKE ADMIN OPTION FOR ${quoteIdentifier(group)} FROM ${clone}`);
      granted.push(group);
    }
  }
  for (const group of held.keys()) {
    if (wanted.has(group)) continue;
    await session.query(`REVOKE ${quoteIdentifier(group)} FROM ${clone}`);
    revoked.push(group);
  }
  return { membershipsGranted: granted, membershipsRevoked: revoked };
}

async function syncAttributes(
  session: PostgresSession,
  clone: string,
  original: RoleRow,
  current: RoleRow,
): Promise<string[]> {
  const clauses: string[] = [];
  for (const [column, keyword] of ATTRIBUTES) {
    if (original[column] !== current[column])
      clauses.push(original[column] === true ? keyword : `NO${keyword}`);
  }
  if (!current.rolcanlogin) clauses.push('LOGIN');
  if (original.rolconnlimit !== current.rolconnlimit) {
    clauses.push(`CONNECTION LIMIT ${Number(original.rolconnlimit)}`);
  }
  if (original.valid_until !== current.valid_until) {
    clauses.push(`VALID UNTIL ${quoteLiteral(original.valid_until ?? 'infinity')}`);
  }
  if (clauses.length > 0)
    await session.query(`ALTER ROLE ${quoteIdentifier(clone)} WITH ${clauses.join(' ')}`);
  return clauses.map((clause) => clause.split(' ')[0] ?? clause);
}

async function settingsOf(session: PostgresSession, role: string): Promise<Setting[]> {
  const rows = await session.query(
    `SELECT coalesce(d.datname, '') AS database, c.setting
       FROM pg_db_role_setting s
       LEFT JOIN pg_database d ON d.oid = s.setdatabase
       CROSS JOIN LATERAL unnest(s.setconfig) AS c(setting)
      WHERE s.setrole = (SELECT oid FROM pg_roles WHERE rolname = ${quoteLiteral(role)})`,
  );
  return rows.map((row) => {
    const text = String(row.setting);
    const at = text.indexOf('=');
    return { database: String(row.database), name: text.slice(0, at), value: text.slice(at + 1) };
  });
}

const key = (s: Pick<Setting, 'database' | 'name'>) => `${s.database}\n${s.name}`;

async function syncSettings(
  session: PostgresSession,
  pair: RolePair,
): Promise<{ settingsChanged: string[]; settingsReset: string[] }> {
  const wanted = new Map((await settingsOf(session, pair.original)).map((s) => [key(s), s]));
  // The clone's sessions run as the role the original's sessions run as.
  const runAs = wanted.get(key({ database: '', name: 'role' }))?.value ?? pair.original;
  wanted.set(key({ database: '', name: 'role' }), { database: '', name: 'role', value: runAs });
  const held = new Map((await settingsOf(session, pair.clone)).map((s) => [key(s), s]));
  const clone = quoteIdentifier(pair.clone);
  const scope = (database: string) => (database ? ` IN DATABASE ${quoteIdentifier(database)}` : '');
  const changed: string[] = [];
  const reset: string[] = [];
  for (const [k, setting] of wanted) {
    if (held.get(k)?.value === setting.value) continue;
    if (setting.name === 'role') {
      await session.query(
        `ALTER ROLE ${clone}${scope(setting.database)} SET role = ${quoteLiteral(setting.value)}`,
      );
    } else {
      // The stored text is parsed as the server parses it (lists such as search_path
      // included), then stored from the transaction's own value: no quoting of ours.
      await session.query(
        `SELECT set_config(${quoteLiteral(setting.name)}, ${quoteLiteral(setting.value)}, true)`,
      );
      await session.query(
        `ALTER ROLE ${clone}${scope(setting.database)} SET ${quoteIdentifier(setting.name)} FROM CURRENT`,
      );
    }
    changed.push(setting.database ? `${setting.name} (in ${setting.database})` : setting.name);
  }
  for (const [k, setting] of held) {
    if (wanted.has(k)) continue;
    await session.query(
      `ALTER ROLE ${clone}${scope(setting.database)} RESET ${quoteIdentifier(setting.name)}`,
    );
    reset.push(setting.database ? `${setting.name} (in ${setting.database})` : setting.name);
  }
  return { settingsChanged: changed, settingsReset: reset };
}

/**
 * Every ACL entry of the current database's objects and of the cluster's databases,
 * tablespaces and parameters (`grantee` an oid): used to count what is granted to the clone
 * itself.
 */
function aclEntriesSql(): string {
  return [
    `SELECT (aclexplode(relacl)).grantee FROM pg_class WHERE relacl IS NOT NULL`,
    `SELECT (aclexplode(attacl)).grantee FROM pg_attribute WHERE attacl IS NOT NULL`,
    `SELECT (aclexplode(nspacl)).grantee FROM pg_namespace WHERE nspacl IS NOT NULL`,
    `SELECT (aclexplode(proacl)).grantee FROM pg_proc WHERE proacl IS NOT NULL`,
    `SELECT (aclexplode(typacl)).grantee FROM pg_type WHERE typacl IS NOT NULL`,
    `SELECT (aclexplode(datacl)).grantee FROM pg_database WHERE datacl IS NOT NULL`,
    `SELECT (aclexplode(spcacl)).grantee FROM pg_tablespace WHERE spcacl IS NOT NULL`,
  ].join(' UNION ALL ');
}
