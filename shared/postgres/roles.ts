import type { PostgresSession } from './connection.js';
import { DatabaseError } from './errors.js';
import { nameLiteral, quoteIdentifier, quoteLiteral, scramSha256Verifier } from './sql.js';

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
 * like the clone that this product did not create for this secret, and that is not AWS's
 * template's clone of this secret (a member of the original whose password a version of this
 * secret holds); a missing original; or an original that is not a login (NOLOGIN).
 */
export class ForeignRoleError extends DatabaseError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ForeignRoleError';
  }
}

/**
 * Thrown when the clone owns objects (tables it created before it was adopted, or in a session
 * that did not run as the original) and the master cannot give them to the original: its
 * sessions, running as the original, could not use them. The message says what to run.
 */
export class CloneOwnershipError extends DatabaseError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CloneOwnershipError';
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

/**
 * Role attributes copied from the original to the clone. LOGIN and INHERIT are always on for
 * the clone: checks made for the login itself, before its session runs as the original
 * (CONNECT on a database), then see the original's privileges, through its membership in the
 * original alone, whatever the original's own INHERIT says.
 */
const ATTRIBUTES = [
  ['rolsuper', 'SUPERUSER'],
  ['rolcreaterole', 'CREATEROLE'],
  ['rolcreatedb', 'CREATEDB'],
  ['rolreplication', 'REPLICATION'],
  ['rolbypassrls', 'BYPASSRLS'],
] as const;

interface RoleRow {
  readonly oid: number;
  readonly rolname: string;
  readonly rolcanlogin: boolean;
  readonly rolinherit: boolean;
  readonly rolconnlimit: number;
  readonly valid_until: string | null;
  readonly comment: string | null;
  readonly [attribute: string]: unknown;
}

/** One per-role setting: `ALTER ROLE … [IN DATABASE d] SET name = value`, as the catalog stores it. */
interface Setting {
  readonly database: string;
  readonly name: string;
  /** The catalog's text (`pg_db_role_setting`), e.g. `"$user", app, public`. */
  readonly value: string;
}

/** What a sync changed, for the log: counts and names, never a value. */
export interface SyncReport {
  readonly created: boolean;
  readonly adopted: boolean;
  /** Objects the clone owned, given to the original (REASSIGN OWNED), in all databases. */
  readonly objectsReassigned: number;
  readonly membershipsGranted: readonly string[];
  readonly membershipsRevoked: readonly string[];
  readonly attributesChanged: readonly string[];
  readonly settingsChanged: readonly string[];
  readonly settingsReset: readonly string[];
  /** Privileges granted to the clone itself, which its sessions (running as the original) never use. */
  readonly directGrantsOnClone: number;
}

/** What {@link syncClone} needs beyond the master's session. */
export interface CloneEvidence {
  /**
   * True when a version of this secret (AWSCURRENT or AWSPREVIOUS) logs in as the clone: its
   * password is one this secret holds. Asked only before adopting a clone.
   */
  cloneLogsIn(): Promise<boolean>;
  /** Opens a master session on another database of the server (to give the clone's objects there to the original). */
  connectTo(database: string): Promise<PostgresSession>;
}

/**
 * Makes the clone a login alias of the original, inside the caller's transaction, with the
 * master's session (whose search path is the catalog alone: every name below is qualified):
 * - the original must exist and be a login (a NOLOGIN group role is refused);
 * - creates the clone when missing (marked with {@link cloneMarker}). An existing one must
 *   carry this secret's marker, or be AWS's template's clone of this secret: a member of the
 *   original whose password a version of this secret holds (then adopted). Anything else is
 *   someone else's role and stops the step ({@link ForeignRoleError}), changing nothing;
 * - objects the clone owns, in any database (tables an AWS template's clone created), are
 *   given to the original (`REASSIGN OWNED`), since the clone's sessions run as the original;
 * - membership: in the original alone, without admin option (the clone thereby belongs to
 *   every role the original belongs to, with the original's privileges); any other is revoked;
 * - attributes (SUPERUSER, CREATEROLE, CREATEDB, REPLICATION, BYPASSRLS, CONNECTION LIMIT,
 *   VALID UNTIL): the original's, only those that differ being altered; LOGIN and INHERIT on;
 * - per-role settings, in every database: the original's, written from the catalog's text
 *   (never applied in the master's session), and `role` set to the role the original's
 *   sessions run as (the original itself unless it sets `role`), so that the clone's sessions
 *   act as the original: everything either login creates has one owner; settings the
 *   original lacks are reset.
 * Run at every rotation, whichever login is pending, so privileges follow each time.
 */
export async function syncClone(
  session: PostgresSession,
  pair: RolePair,
  secretArn: string,
  evidence: CloneEvidence,
): Promise<SyncReport> {
  const roles = await readRoles(session, pair);
  const original = roles.get(pair.original);
  if (!original) {
    throw new ForeignRoleError(
      `role ${JSON.stringify(pair.original)} does not exist: alternating users keeps ${JSON.stringify(pair.clone)} in step with it, so it must exist. Nothing was changed`,
    );
  }
  if (!original.rolcanlogin) {
    throw new ForeignRoleError(
      `role ${JSON.stringify(pair.original)} cannot log in (NOLOGIN): it is a group role, not an application's login, and alternating users would make a login of it and of ${JSON.stringify(pair.clone)}. Nothing was changed. Name the application's own login in the secret's username`,
    );
  }
  let clone = roles.get(pair.clone);
  const marker = cloneMarker(pair, secretArn);
  let created = false;
  let adopted = false;
  if (!clone) {
    await session.query(`CREATE ROLE ${quoteIdentifier(pair.clone)} WITH LOGIN INHERIT`);
    await session.query(`COMMENT ON ROLE ${quoteIdentifier(pair.clone)} IS ${quoteLiteral(marker)}`);
    created = true;
    clone = (await readRoles(session, pair)).get(pair.clone);
    if (!clone) {
      throw new DatabaseError(`role ${JSON.stringify(pair.clone)} could not be read back after CREATE ROLE`);
    }
  } else if (clone.comment !== marker) {
    if (clone.comment?.startsWith('secrets-rotation:')) {
      throw new ForeignRoleError(
        `role ${JSON.stringify(pair.clone)} is the clone of another secret (its comment names it), not of this one: two secrets must not rotate the same logins. Nothing was changed`,
      );
    }
    // AWS's template's clone: a member of the original, logging in with a password this secret holds.
    const memberOfOriginal = await isMember(session, pair.clone, pair.original);
    if (!memberOfOriginal || !(await evidence.cloneLogsIn())) {
      throw new ForeignRoleError(
        `role ${JSON.stringify(pair.clone)} exists, but nothing proves it belongs to this secret: it was not created by this rotation, and ${memberOfOriginal ? `no version of this secret (AWSCURRENT, AWSPREVIOUS) holds its password` : `it is not a member of ${JSON.stringify(pair.original)}`}, as AWS's template leaves its clone. Nothing was changed. If it is someone else's, rename this secret's login; if it is unused, drop it; if it is this secret's clone, put its working password in AWSCURRENT${memberOfOriginal ? '' : ` and make it a member: GRANT ${quoteIdentifier(pair.original)} TO ${quoteIdentifier(pair.clone)}`}`,
      );
    }
    adopted = true;
  }

  const objectsReassigned = await reassignCloneObjects(session, pair, evidence);
  if (adopted) {
    await session.query(`COMMENT ON ROLE ${quoteIdentifier(pair.clone)} IS ${quoteLiteral(marker)}`);
  }
  const memberships = await syncMemberships(session, pair);
  const attributesChanged = await syncAttributes(session, pair.clone, original, clone);
  const settings = await syncSettings(session, pair);
  const direct = await session.query(
    `SELECT pg_catalog.count(*)::pg_catalog.int4 AS n FROM (${aclEntriesSql()}) AS acl WHERE acl.grantee = ${Number(clone.oid)}::pg_catalog.oid`,
  );
  return {
    created,
    adopted,
    objectsReassigned,
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
    `ALTER ROLE ${quoteIdentifier(role)} WITH PASSWORD ${quoteLiteral(scramSha256Verifier(password))}`,
  );
}

/** How many objects a role owns, by database (`''` for shared objects: databases, tablespaces). */
export async function objectsOwnedBy(
  session: PostgresSession,
  role: string,
): Promise<{ database: string; objects: number }[]> {
  const rows = await session.query(
    `SELECT COALESCE(d.datname::pg_catalog.text, ''::pg_catalog.text) AS database, pg_catalog.count(*)::pg_catalog.int4 AS objects
       FROM pg_catalog.pg_shdepend s
       LEFT JOIN pg_catalog.pg_database d ON d.oid = s.dbid
      WHERE s.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass
        AND s.refobjid = (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = ${nameLiteral(role)})
        AND s.deptype = 'o'::pg_catalog."char"
      GROUP BY 1 ORDER BY 1`,
  );
  return rows.map((row) => ({ database: String(row.database), objects: Number(row.objects) }));
}

/** What a role owns, for messages: "3 objects in app, 1 in reports". */
export function describeOwned(owned: readonly { database: string; objects: number }[]): string {
  return owned
    .map(({ database, objects }, i) => {
      const what = i === 0 ? `${objects} object${objects === 1 ? '' : 's'}` : String(objects);
      return database
        ? `${what} in database ${JSON.stringify(database)}`
        : `${what} shared (a database or tablespace)`;
    })
    .join(', ');
}

/**
 * Gives everything the clone owns to the original, in every database (`REASSIGN OWNED`), so
 * that its sessions, which run as the original, can use it. The other databases are done
 * first, each in its own committed transaction (a retry finds nothing left there); this
 * session's database and shared objects in the caller's transaction.
 */
async function reassignCloneObjects(
  session: PostgresSession,
  pair: RolePair,
  evidence: CloneEvidence,
): Promise<number> {
  const owned = await objectsOwnedBy(session, pair.clone);
  if (owned.length === 0) return 0;
  const [here] = await session.query('SELECT pg_catalog.current_database()::pg_catalog.text AS database');
  const current = String(here?.database);
  const stop = (reason: string, cause?: unknown) =>
    new CloneOwnershipError(
      `role ${JSON.stringify(pair.clone)} owns ${describeOwned(owned)}, which its sessions, running as ${JSON.stringify(pair.original)}, could not use, and the master could not give them to ${JSON.stringify(pair.original)}: ${reason}. No password was changed. As a role with the privileges of both, run in each of those databases: REASSIGN OWNED BY ${quoteIdentifier(pair.clone)} TO ${quoteIdentifier(pair.original)}; then rotate again`,
      cause === undefined ? undefined : { cause },
    );
  for (const { database } of owned) {
    if (database === '' || database === current) continue;
    let other: PostgresSession;
    try {
      other = await evidence.connectTo(database);
    } catch (error) {
      throw stop(`the master cannot log in to database ${JSON.stringify(database)}`, error);
    }
    try {
      await other.query('BEGIN');
      await reassignOwned(other, pair, stop);
      await other.query('COMMIT');
    } catch (error) {
      await other.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      await other.close();
    }
  }
  if (owned.some(({ database }) => database === '' || database === current)) {
    await reassignOwned(session, pair, stop);
  }
  return owned.reduce((sum, { objects }) => sum + objects, 0);
}

/**
 * `REASSIGN OWNED BY clone TO original` in the session's transaction. PostgreSQL asks for the
 * privileges of both roles: the master takes a membership it lacks for the statement alone
 * and gives it back in the same transaction (a failure rolls both back).
 */
async function reassignOwned(
  session: PostgresSession,
  pair: RolePair,
  stop: (reason: string, cause?: unknown) => CloneOwnershipError,
): Promise<void> {
  const borrowed: string[] = [];
  for (const role of [pair.clone, pair.original]) {
    const [row] = await session.query(
      `SELECT pg_catalog.pg_has_role(r.oid, 'USAGE'::pg_catalog.text) AS usage,
              EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m
                       WHERE m.roleid = r.oid
                         AND m.member = (SELECT u.oid FROM pg_catalog.pg_roles u WHERE u.rolname = CURRENT_USER)) AS member
         FROM pg_catalog.pg_roles r WHERE r.rolname = ${nameLiteral(role)}`,
    );
    if (row?.usage === true) continue;
    if (row?.member === true) {
      throw stop(
        `it is a member of ${JSON.stringify(role)} without inheriting its privileges (a NOINHERIT master, or, from PostgreSQL 16, the INHERIT FALSE grant a CREATEROLE role gets on the roles it creates), and it does not change an existing membership`,
      );
    }
    try {
      await session.query(`GRANT ${quoteIdentifier(role)} TO CURRENT_USER`);
    } catch (error) {
      throw stop(`it may not take the privileges of ${JSON.stringify(role)} (${errorText(error)})`, error);
    }
    borrowed.push(role);
  }
  try {
    await session.query(
      `REASSIGN OWNED BY ${quoteIdentifier(pair.clone)} TO ${quoteIdentifier(pair.original)}`,
    );
  } catch (error) {
    throw stop(errorText(error), error);
  }
  for (const role of borrowed) await session.query(`REVOKE ${quoteIdentifier(role)} FROM CURRENT_USER`);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function readRoles(session: PostgresSession, pair: RolePair): Promise<Map<string, RoleRow>> {
  const rows = await session.query(
    `SELECT r.oid::pg_catalog.int8 AS oid, r.rolname::pg_catalog.text AS rolname, r.rolcanlogin, r.rolinherit, r.rolconnlimit,
            ${ATTRIBUTES.map(([column]) => `r.${column}`).join(', ')},
            CASE WHEN r.rolvaliduntil IS NULL OR r.rolvaliduntil = 'infinity'::pg_catalog.timestamptz THEN NULL
                 ELSE r.rolvaliduntil::pg_catalog.text END AS valid_until,
            pg_catalog.shobj_description(r.oid, 'pg_authid'::pg_catalog.name) AS comment
       FROM pg_catalog.pg_roles r
      WHERE r.rolname IN (${nameLiteral(pair.original)}, ${nameLiteral(pair.clone)})`,
  );
  return new Map(rows.map((row) => [String(row.rolname), row as unknown as RoleRow]));
}

async function isMember(session: PostgresSession, member: string, group: string): Promise<boolean> {
  const rows = await session.query(
    `SELECT 1 FROM pg_catalog.pg_auth_members m
       JOIN pg_catalog.pg_roles g ON g.oid = m.roleid JOIN pg_catalog.pg_roles r ON r.oid = m.member
      WHERE g.rolname = ${nameLiteral(group)} AND r.rolname = ${nameLiteral(member)}`,
  );
  return rows.length > 0;
}

async function membershipsOf(session: PostgresSession, role: string): Promise<Map<string, boolean>> {
  const rows = await session.query(
    `SELECT g.rolname::pg_catalog.text AS role, m.admin_option FROM pg_catalog.pg_auth_members m
       JOIN pg_catalog.pg_roles g ON g.oid = m.roleid JOIN pg_catalog.pg_roles r ON r.oid = m.member
      WHERE r.rolname = ${nameLiteral(role)}`,
  );
  return new Map(rows.map((row) => [String(row.role), row.admin_option === true]));
}

/** The clone is a member of the original alone, without admin option. */
async function syncMemberships(
  session: PostgresSession,
  pair: RolePair,
): Promise<{ membershipsGranted: string[]; membershipsRevoked: string[] }> {
  const held = await membershipsOf(session, pair.clone);
  const granted: string[] = [];
  const revoked: string[] = [];
  const clone = quoteIdentifier(pair.clone);
  const original = quoteIdentifier(pair.original);
  const admin = held.get(pair.original);
  if (admin === undefined) {
    await session.query(`GRANT ${original} TO ${clone}`);
    granted.push(pair.original);
  } else if (admin) {
    await session.query(`REVOKE ADMIN OPTION FOR ${original} FROM ${clone}`);
    granted.push(pair.original);
  }
  for (const group of held.keys()) {
    if (group === pair.original) continue;
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
  if (!current.rolinherit) clauses.push('INHERIT');
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
    `SELECT COALESCE(d.datname::pg_catalog.text, ''::pg_catalog.text) AS database, c.setting
       FROM pg_catalog.pg_db_role_setting s
       LEFT JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase
       CROSS JOIN LATERAL pg_catalog.unnest(s.setconfig) AS c(setting)
      WHERE s.setrole = (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = ${nameLiteral(role)})`,
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
    await session.query(
      `ALTER ROLE ${clone}${scope(setting.database)} SET ${quoteIdentifier(setting.name)} = ${settingValueSql(setting)}`,
    );
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
 * Settings whose list elements the server stores quoted as identifiers (GUC_LIST_QUOTE), as
 * pg_dump knows them (`variable_is_guc_list_quote`).
 */
const LIST_QUOTE_SETTINGS = new Set([
  'local_preload_libraries',
  'search_path',
  'session_preload_libraries',
  'shared_preload_libraries',
  'temp_tablespaces',
  'unix_socket_directories',
]);

/**
 * The value of `ALTER ROLE … SET name = <value>` that stores exactly the catalog's text, as
 * pg_dump writes it: one string literal, or, for a list the server quotes itself
 * (`search_path`), one literal per element (the server re-quotes each as it stored it).
 */
export function settingValueSql(setting: Pick<Setting, 'name' | 'value'>): string {
  if (!LIST_QUOTE_SETTINGS.has(setting.name.toLowerCase())) return quoteLiteral(setting.value);
  const elements = splitSettingList(setting.value);
  if (!elements || elements.length === 0) {
    throw new DatabaseError(
      `the per-role setting ${setting.name} of the original cannot be read as a list, so it is not copied to the clone. Nothing was changed`,
    );
  }
  return elements.map(quoteLiteral).join(', ');
}

/**
 * Splits a list setting's stored text into its elements as the server does (SplitGUCList):
 * comma-separated, surrounding spaces dropped, `"…"` quoted with `""` for a quote, unquoted
 * elements taken as they are. Undefined when the text is not such a list.
 */
export function splitSettingList(text: string): string[] | undefined {
  const elements: string[] = [];
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i] ?? '')) i++;
  };
  skipSpace();
  if (i === text.length) return elements;
  for (;;) {
    let element = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        const end = text.indexOf('"', i);
        if (end < 0) return undefined;
        element += text.slice(i, end);
        i = end + 1;
        if (text[i] !== '"') break;
        element += '"';
        i++;
      }
    } else {
      const start = i;
      while (i < text.length && text[i] !== ',' && !/\s/.test(text[i] ?? '')) i++;
      if (i === start) return undefined;
      element = text.slice(start, i);
    }
    elements.push(element);
    skipSpace();
    if (i === text.length) return elements;
    if (text[i] !== ',') return undefined;
    i++;
    skipSpace();
  }
}

/**
 * Every ACL entry of the current database's objects and of the cluster's databases,
 * tablespaces and parameters (`grantee` an oid): used to count what is granted to the clone
 * itself.
 */
function aclEntriesSql(): string {
  return [
    ['relacl', 'pg_class'],
    ['attacl', 'pg_attribute'],
    ['nspacl', 'pg_namespace'],
    ['proacl', 'pg_proc'],
    ['typacl', 'pg_type'],
    ['datacl', 'pg_database'],
    ['spcacl', 'pg_tablespace'],
  ]
    .map(
      ([column, table]) =>
        `SELECT (pg_catalog.aclexplode(${column})).grantee FROM pg_catalog.${table} WHERE ${column} IS NOT NULL`,
    )
    .join(' UNION ALL ');
}
