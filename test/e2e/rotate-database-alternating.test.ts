import { Logger } from '@aws-lambda-powertools/logger';
import { CreateDBInstanceCommand, type RDSClient } from '@aws-sdk/client-rds';
import { CreateSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildRotateDatabaseHandler } from '../../functions/rotate-database/handler.js';
import { loadDatabaseRotationConfig } from '../../shared/config/index.js';
import type { PostgresConnector } from '../../shared/postgres/index.js';
import type { StepName } from '../../shared/rotation/index.js';
import {
  canLogin,
  captureOutput,
  createRole,
  createRotatingSecret,
  findLeaks,
  hostilePassword,
  runSteps,
  STEPS,
  secretsManager,
  seedDatabaseSecret,
  stack,
  stagesOf,
  startRotation,
  uniqueName,
  valueAt,
} from '../support/bed.js';
import {
  createMasterRole,
  createMasterSecret,
  openSession,
  queryAs,
  rdsClient,
  recordingConnector,
  roleName,
  rootTrustingTestBed,
  routedConnector,
  sql,
} from '../support/databases.js';
import { startPasswordCatcher } from '../support/pg-catcher.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const sm = secretsManager();
let output: ReturnType<typeof captureOutput>;
let seen: string[];
let proxy: TcpProxy;

function handler(options: { connector?: PostgresConnector; rds?: RDSClient } = {}) {
  return buildRotateDatabaseHandler({
    config: loadDatabaseRotationConfig({}),
    secretsManager: sm,
    rds: options.rds ?? rdsClient(),
    ...(options.connector ? { connector: options.connector } : {}),
    logger: new Logger({ serviceName: 'rotation-alternating', logLevel: 'DEBUG' }),
  });
}

/** A master login and its secret (`createMasterSecret`), its password among those scanned for. */
async function masterSecret(port?: number) {
  const master = await createMasterSecret(sm, port);
  seen.push(master.password);
  return master;
}

/**
 * An RDS instance on moto, at `port`, whose master password RDS manages
 * (ManageMasterUserPassword); its `rds!db-…` secret, tagged as RDS tags it, holds a real
 * master login of the local PostgreSQL.
 */
async function managedMaster(rds: RDSClient, port: number) {
  const master = await createMasterRole();
  seen.push(master.password);
  const id = uniqueName('production-db');
  const created = await rds.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: id,
      Engine: 'postgres',
      DBInstanceClass: 'db.t3.micro',
      MasterUsername: master.username,
      ManageMasterUserPassword: true,
      AllocatedStorage: 20,
      Port: port,
    }),
  );
  const managed = await sm.send(
    new CreateSecretCommand({
      Name: `rds!db-${uniqueName('x')}`,
      SecretString: JSON.stringify(master),
      Tags: [{ Key: 'aws:rds:primaryDBInstanceArn', Value: created.DBInstance?.DBInstanceArn ?? '' }],
    }),
  );
  return { master, id, endpoint: created.DBInstance?.Endpoint?.Address ?? '', managedArn: managed.ARN ?? '' };
}

/**
 * A master secret and an application role with privileges to copy, and its alternating-users
 * secret with a rotation started. `secretPassword` is what the secret holds (the role's own
 * password by default).
 */
async function alternatingSecret(
  options: { username?: string; port?: number; masterPort?: number; secretPassword?: string } = {},
) {
  const { arn: masterArn, username: masterUser } = await masterSecret(options.masterPort);
  const original = options.username ?? roleName('app');
  const password = hostilePassword();
  seen.push(password);
  await createRole(original, password);
  const schema = roleName('sch');
  const group = roleName('grp');
  await sql(
    `ALTER ROLE ${original} CREATEDB CONNECTION LIMIT 7 VALID UNTIL '2099-01-01 00:00:00+00'`,
    `ALTER ROLE ${original} SET search_path = "$user", ${schema}, public`,
    `ALTER ROLE ${original} SET statement_timeout = '5s'`,
    `ALTER ROLE ${original} IN DATABASE postgres SET work_mem = '8MB'`,
    `CREATE ROLE ${group} NOLOGIN`,
    `GRANT ${group} TO ${original}`,
    `CREATE SCHEMA ${schema} AUTHORIZATION ${original}`,
    `CREATE TABLE ${schema}.granted (id int)`,
    `GRANT SELECT, INSERT ON ${schema}.granted TO ${original}`,
  );
  const name = uniqueName('production/database/alternating');
  const value = seedDatabaseSecret({
    username: original,
    password: options.secretPassword ?? password,
    port: options.port,
    extra: { masterarn: masterArn },
  });
  const { arn, token } = await createRotatingSecret(sm, name, value);
  return {
    original,
    clone: `${original}_clone`,
    password,
    schema,
    group,
    name,
    arn,
    token,
    masterArn,
    masterUser,
  };
}

/**
 * What a role is and may do, as the catalog says: attributes, settings, the roles it belongs
 * to (directly or not) with the privileges and admin option that gives it, effective privileges.
 * The pair's own two roles are left out of the memberships (the clone belongs to the original).
 */
async function profile(role: string, s: { original: string; clone: string; schema: string }) {
  const { schema } = s;
  const [attributes] = await sql(
    `SELECT rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls, rolconnlimit, rolvaliduntil
       FROM pg_roles WHERE rolname = '${role}'`,
  );
  const settings = await sql(
    `SELECT coalesce(d.datname, '') AS db, c AS setting FROM pg_db_role_setting s
       LEFT JOIN pg_database d ON d.oid = s.setdatabase CROSS JOIN LATERAL unnest(s.setconfig) c
      WHERE s.setrole = (SELECT oid FROM pg_roles WHERE rolname = '${role}') AND c NOT LIKE 'role=%' ORDER BY 1, 2`,
  );
  const memberships = await sql(
    `SELECT g.rolname, pg_has_role('${role}', g.oid, 'USAGE') AS usage, pg_has_role('${role}', g.oid, 'MEMBER WITH ADMIN OPTION') AS admin
       FROM pg_roles g
      WHERE g.rolname NOT IN ('${s.original}', '${s.clone}') AND pg_has_role('${role}', g.oid, 'MEMBER') ORDER BY 1`,
  );
  const privileges = await sql(
    `SELECT c.relname, p, has_table_privilege('${role}', c.oid, p) AS granted
       FROM pg_class c CROSS JOIN unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE','REFERENCES','TRIGGER']) p
      WHERE c.relnamespace = '${schema}'::regnamespace ORDER BY 1, 2`,
  );
  const schemaPrivileges = await sql(
    `SELECT has_schema_privilege('${role}', '${schema}', 'CREATE') AS "create", has_schema_privilege('${role}', '${schema}', 'USAGE') AS usage,
            has_database_privilege('${role}', 'postgres', 'CREATE') AS db_create`,
  );
  return { attributes, settings, memberships, privileges, schemaPrivileges };
}

beforeAll(async () => {
  proxy = await startTcpProxy({ host: stack().postgres.host, port: stack().postgres.port });
});
afterAll(async () => proxy.close());
beforeEach(() => {
  seen = [];
  output = captureOutput();
});
afterEach(() => {
  output.stop();
  vi.unstubAllEnvs();
  expect(findLeaks(output.text(), seen), 'secret values in captured output').toEqual([]);
});

/** AWSCURRENT's value after a rotation. */
type CurrentValue = Record<string, string> & {
  username: string;
  password: string;
  connection_string: string;
};

/** Runs one rotation step by step; after each step, `check` runs. */
async function rotate(arn: string, token: string, check: (after: StepName) => Promise<void>) {
  const h = handler();
  for (const step of STEPS) {
    await runSteps(h, arn, token, [step]);
    await check(step);
  }
  const current = await valueAt(sm, arn, 'AWSCURRENT');
  seen.push(current?.password ?? '');
  return current as CurrentValue;
}

describe('rotateDatabase, alternating users (masterarn), on moto and PostgreSQL', () => {
  it('keeps an application on the old credentials working through a rotation, and one on the new through the rotation that flips back', async () => {
    // Prepare: an application logged in with AWSCURRENT, holding its credentials.
    const s = await alternatingSecret();
    const app = await openSession(s.original, s.password);
    const stillWorks = async (user: string, password: string, session: pg.Client) => {
      expect(await canLogin(user, password), `${user} logs in`).toBe(true);
      expect((await session.query('SELECT 1 AS one')).rows[0]?.one).toBe(1);
    };

    // Act 1: the first rotation, checked after every step.
    const first = await rotate(s.arn, s.token, () => stillWorks(s.original, s.password, app));

    // Assess 1: the clone is current; the original's password is unchanged.
    expect(first.username).toBe(s.clone);
    expect(await valueAt(sm, s.arn, 'AWSPREVIOUS')).toMatchObject({
      username: s.original,
      password: s.password,
    });
    const cloneApp = await openSession(s.clone, first.password);
    expect((await cloneApp.query('SELECT session_user AS login, current_user AS acting')).rows[0]).toEqual({
      login: s.clone,
      acting: s.original,
    });

    // Act 2: the second rotation flips back to the original; the clone's application keeps working.
    const token = await startRotation(sm, s.arn);
    const second = await rotate(s.arn, token, () => stillWorks(s.clone, first.password, cloneApp));

    // Assess 2
    expect(second.username).toBe(s.original);
    expect(second.password).not.toBe(s.password);
    expect(await canLogin(s.original, second.password)).toBe(true);
    expect(await canLogin(s.original, s.password)).toBe(false);
    expect(new URL(second.connection_string).username).toBe(s.original);
    expect(decodeURIComponent(new URL(first.connection_string).username)).toBe(s.clone);
    expect(second.masterarn).toBe(s.masterArn);
    await Promise.all([app.end(), cloneApp.end()]);
  });

  it("gives the clone exactly the original's attributes, settings, memberships and privileges, and carries changes to the original at the next rotation", async () => {
    const s = await alternatingSecret();
    const first = await rotate(s.arn, s.token, async () => undefined);
    expect(await profile(s.clone, s)).toEqual(await profile(s.original, s));
    // The clone belongs to the original alone: it reaches the original's groups through it.
    expect(
      await sql(
        `SELECT roleid::regrole::text AS role FROM pg_auth_members WHERE member = '${s.clone}'::regrole`,
      ),
    ).toEqual([{ role: s.original }]);
    const [cloneSettings] = await sql(
      `SELECT setconfig FROM pg_db_role_setting WHERE setdatabase = 0 AND setrole = '${s.clone}'::regrole`,
    );
    expect(cloneSettings?.setconfig).toContain(`role=${s.original}`);

    // Between rotations the original gains a table grant, a membership and a setting.
    const extra = roleName('grp_extra');
    await sql(
      `CREATE TABLE ${s.schema}.later (id int)`,
      `GRANT SELECT ON ${s.schema}.later TO ${s.original}`,
      `CREATE ROLE ${extra} NOLOGIN`,
      `GRANT ${extra} TO ${s.original} WITH ADMIN OPTION`,
      `ALTER ROLE ${s.original} SET lock_timeout = '3s'`,
      `ALTER ROLE ${s.original} RESET statement_timeout`,
    );
    // The clone's sessions act as the original: the new grant already works for them.
    expect(
      await queryAs(s.clone, first.password, `SELECT count(*)::int AS n FROM ${s.schema}.later`),
    ).toEqual([{ n: 0 }]);
    expect(await profile(s.clone, s)).not.toEqual(await profile(s.original, s));

    const token = await startRotation(sm, s.arn);
    await rotate(s.arn, token, async () => undefined);

    expect(await profile(s.clone, s)).toEqual(await profile(s.original, s));
    const [admin] = await sql(
      `SELECT pg_has_role('${s.clone}', '${extra}', 'MEMBER WITH ADMIN OPTION') AS a`,
    );
    expect(admin?.a).toBe(true);
  });

  it('makes what either login creates usable by the other, across two flips', async () => {
    const s = await alternatingSecret();
    const ownerOf = async (table: string) =>
      (
        await sql(
          `SELECT tableowner FROM pg_tables WHERE schemaname = '${s.schema}' AND tablename = '${table}'`,
        )
      )[0]?.tableowner;

    // Flip 1: the clone is current and creates a table; the original (AWSPREVIOUS) uses it.
    const first = await rotate(s.arn, s.token, async () => undefined);
    await queryAs(
      s.clone,
      first.password,
      `CREATE TABLE ${s.schema}.by_clone (id int); INSERT INTO by_clone VALUES (1)`,
    );
    expect(await ownerOf('by_clone')).toBe(s.original);
    await queryAs(
      s.original,
      s.password,
      `INSERT INTO ${s.schema}.by_clone VALUES (2); ALTER TABLE by_clone ADD note text`,
    );

    // Flip 2: the original is current and creates a table; the clone (AWSPREVIOUS) uses both.
    const second = await rotate(s.arn, await startRotation(sm, s.arn), async () => undefined);
    await queryAs(
      s.original,
      second.password,
      `CREATE TABLE ${s.schema}.by_original (id int); INSERT INTO by_original VALUES (3)`,
    );
    expect(await ownerOf('by_original')).toBe(s.original);
    expect(
      await queryAs(
        s.clone,
        first.password,
        `INSERT INTO by_original VALUES (4); DELETE FROM by_clone WHERE id = 1; SELECT (SELECT count(*) FROM by_original)::int AS a, (SELECT count(*) FROM by_clone)::int AS b`,
      ),
    ).toEqual([{ a: 2, b: 1 }]);

    // Flip 3: the clone again; the original's table is its own.
    const third = await rotate(s.arn, await startRotation(sm, s.arn), async () => undefined);
    expect(third.username).toBe(s.clone);
    expect(await queryAs(s.clone, third.password, `DROP TABLE by_original; SELECT 1 AS ok`)).toEqual([
      { ok: 1 },
    ]);
    expect(await queryAs(s.original, second.password, 'SELECT count(*)::int AS n FROM by_clone')).toEqual([
      { n: 1 },
    ]);
  });

  it('refuses a username whose clone would pass 63 bytes, at createSecret, changing nothing', async () => {
    const long = `${roleName('x')}_${'l'.repeat(63)}`.slice(0, 60);
    const s = await alternatingSecret({ username: long });

    const error = await runSteps(handler(), s.arn, s.token, ['createSecret']).catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'RoleNameTooLongError' });
    expect((error as Error).message).toContain('66 bytes');
    expect((error as Error).message).toContain("PostgreSQL's limit is 63");
    expect(await valueAt(sm, s.arn, 'AWSPENDING')).toBeUndefined();
    expect(await sql(`SELECT 1 FROM pg_roles WHERE rolname LIKE '${long.slice(0, 40)}%_clone%'`)).toEqual([]);
  });

  it("refuses a role named like the clone that it cannot prove is this secret's: not a member of the original, or a member whose password no version of the secret holds", async () => {
    // Prepare: someone else's login named like the clone, with a membership of its own.
    const s = await alternatingSecret();
    const theirs = hostilePassword();
    seen.push(theirs);
    await createRole(s.clone, theirs);
    const ops = roleName('ops');
    await sql(`CREATE ROLE ${ops} NOLOGIN`, `GRANT ${ops} TO ${s.clone}`);
    await runSteps(handler(), s.arn, s.token, ['createSecret']);
    seen.push((await valueAt(sm, s.arn, 'AWSPENDING'))?.password ?? '');
    const before = await sql(`SELECT rolpassword FROM pg_authid WHERE rolname = '${s.clone}'`);
    const memberships = `SELECT roleid::regrole::text AS role FROM pg_auth_members WHERE member = '${s.clone}'::regrole ORDER BY 1`;

    // Act 1: not a member of the original.
    const notMember = await runSteps(handler(), s.arn, s.token, ['setSecret']).catch((e: unknown) => e);
    // Act 2: a member of the original (as a person's login granted it to work on it), whose password the secret does not hold.
    await sql(`GRANT ${s.original} TO ${s.clone}`);
    const member = await runSteps(handler(), s.arn, s.token, ['setSecret']).catch((e: unknown) => e);

    // Assess: both refused as foreign; the login keeps its password and memberships.
    expect(notMember).toMatchObject({ name: 'ForeignRoleError' });
    expect((notMember as Error).message).toContain(`it is not a member of "${s.original}"`);
    expect(member).toMatchObject({ name: 'ForeignRoleError' });
    expect((member as Error).message).toContain(
      'no version of this secret (AWSCURRENT, AWSPREVIOUS) holds its password',
    );
    expect(await sql(`SELECT rolpassword FROM pg_authid WHERE rolname = '${s.clone}'`)).toEqual(before);
    expect(await canLogin(s.clone, theirs)).toBe(true);
    expect((await sql(memberships)).map((row) => row.role).sort()).toEqual([ops, s.original].sort());
  });

  it("adopts AWS's template's clone, proven by the password AWSPREVIOUS holds, keeping AWSCURRENT's login working", async () => {
    // Prepare: the state AWS's template leaves: AWSPREVIOUS is the clone (a member of the original), AWSCURRENT the original.
    const s = await alternatingSecret();
    const clonePassword = hostilePassword();
    seen.push(clonePassword);
    await createRole(s.clone, clonePassword);
    await sql(`GRANT ${s.original} TO ${s.clone}`);
    const previous = seedDatabaseSecret({
      username: s.clone,
      password: clonePassword,
      extra: { masterarn: s.masterArn },
    });
    const current = await valueAt(sm, s.arn, 'AWSCURRENT');
    await sm.send(new PutSecretValueCommand({ SecretId: s.arn, SecretString: JSON.stringify(previous) }));
    await sm.send(new PutSecretValueCommand({ SecretId: s.arn, SecretString: JSON.stringify(current) }));

    // Act
    await runSteps(handler(), s.arn, s.token);

    // Assess: the clone is this secret's now, with the pending password; the original's still works.
    const after = await valueAt(sm, s.arn, 'AWSCURRENT');
    seen.push(after?.password ?? '');
    expect(after?.username).toBe(s.clone);
    expect(await canLogin(s.clone, after?.password ?? '')).toBe(true);
    expect(await canLogin(s.original, s.password)).toBe(true);
    const [comment] = await sql(`SELECT shobj_description('${s.clone}'::regrole, 'pg_authid') AS c`);
    expect(comment?.c).toContain(s.arn);
    expect(output.text()).toMatch(/"message":"clone kept in step with the original".*"adopted":true/);
  });

  it('aborts before any connection when the master secret points at another database', async () => {
    // Prepare: the user secret reaches PostgreSQL through a counting proxy; the master names another port.
    const s = await alternatingSecret({ port: proxy.port });
    await runSteps(handler(), s.arn, s.token, ['createSecret']);
    seen.push((await valueAt(sm, s.arn, 'AWSPENDING'))?.password ?? '');
    const before = proxy.connections;

    const error = await runSteps(handler(), s.arn, s.token, ['setSecret']).catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'EndpointMismatchError' });
    expect((error as Error).message).toContain('master and user must point at the same database');
    expect(proxy.connections - before).toBe(0);
    expect(await sql(`SELECT 1 FROM pg_roles WHERE rolname = '${s.clone}'`)).toEqual([]);
  });

  it('uses an RDS-managed master secret, with host and port from DescribeDBInstances and its login verified against the RDS bundle, and refuses to rotate that secret itself', async () => {
    // Prepare: an RDS instance whose master password RDS manages; the function's RDS bundle signs the test bed's server.
    const bundle = await rootTrustingTestBed();
    vi.stubEnv('LAMBDA_TASK_ROOT', bundle.root);
    const rds = rdsClient();
    const { master, id, endpoint, managedArn } = await managedMaster(rds, stack().postgres.port);
    const original = roleName('app');
    const password = hostilePassword();
    seen.push(password);
    await createRole(original, password);
    const value = {
      ...seedDatabaseSecret({ username: original, password }),
      host: endpoint,
      masterarn: managedArn,
    };
    delete (value as { connection_string?: string }).connection_string;
    const { arn, token } = await createRotatingSecret(sm, uniqueName('production/database/app'), value);
    const connector = routedConnector(
      { [endpoint.toLowerCase()]: { host: stack().postgres.host, port: stack().postgres.port } },
      loadDatabaseRotationConfig({}).database,
    );
    const routed = handler({ rds, connector });

    // Act
    await runSteps(routed, arn, token);

    // Assess: the clone was made by the master from the managed secret, at the instance's endpoint, over verified TLS.
    const current = await valueAt(sm, arn, 'AWSCURRENT');
    seen.push(current?.password ?? '');
    expect(current?.username).toBe(`${original}_clone`);
    expect(await canLogin(`${original}_clone`, current?.password ?? '')).toBe(true);
    expect(connector.connected.every((host) => host === endpoint)).toBe(true);
    expect(output.text()).toMatch(
      /"message":"the master's login TLS".*"verification":"full".*"decidedBy":"rds-managed-master"/,
    );

    // A rotation aimed at the managed secret itself is refused, saying RDS manages it.
    await sm.send(new PutSecretValueCommand({ SecretId: managedArn, SecretString: JSON.stringify(master) }));
    const managedToken = await startRotation(sm, managedArn);
    const error = await runSteps(routed, managedArn, managedToken, ['createSecret']).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'RdsManagedSecretError' });
    expect((error as Error).message).toContain(`is managed by RDS for RDS instance ${id}`);
    expect(await valueAt(sm, managedArn, 'AWSPENDING')).toBeUndefined();
    expect(await canLogin(master.username, master.password)).toBe(true);
    await bundle.remove();
  });

  it('sends an RDS-managed master\'s password only over TLS verified against the RDS bundle, whatever the user secret\'s "ssl": false says', async () => {
    // Prepare: the endpoint answers (as a spoofed address would) with a server without TLS that takes any cleartext password.
    const catcher = await startPasswordCatcher({ accept: true });
    const rds = rdsClient();
    const { master, endpoint, managedArn } = await managedMaster(rds, catcher.port);
    const password = hostilePassword();
    seen.push(password);
    const { arn, token } = await createRotatingSecret(sm, uniqueName('production/database/app'), {
      engine: 'postgres',
      host: endpoint,
      port: catcher.port,
      username: roleName('app'),
      password,
      dbname: 'postgres',
      ssl: false,
      masterarn: managedArn,
    });
    const connector = routedConnector(
      { [endpoint.toLowerCase()]: { host: '127.0.0.1', port: catcher.port } },
      loadDatabaseRotationConfig({}).database,
    );

    // Act
    await runSteps(handler({ rds, connector }), arn, token, ['createSecret']);
    seen.push((await valueAt(sm, arn, 'AWSPENDING'))?.password ?? '');
    const error = await runSteps(handler({ rds, connector }), arn, token, ['setSecret']).catch(
      (e: unknown) => e,
    );
    await catcher.close();

    // Assess: the user's own logins went without TLS, as its secret says; the master's asked for TLS and stopped there.
    expect(catcher.passwords, "the user secret's cleartext logins reached the server").toContain(password);
    expect(catcher.tlsRequests(), "the master's login asked for TLS").toBeGreaterThan(0);
    expect(catcher.passwords).not.toContain(master.password);
    expect(error).toMatchObject({ name: 'TlsRefusedError' });
    expect((error as Error).message).toContain('the master secret is RDS-managed');
    expect(output.text()).toMatch(/"message":"the master's login TLS".*"verification":"full"/);
  });

  it('keeps every field of the secret, and a second rotation of the flipped secret still connects the same way', async () => {
    const s = await alternatingSecret();
    const before = await valueAt(sm, s.arn, 'AWSCURRENT');
    const after = await rotate(s.arn, s.token, async () => undefined);
    expect(Object.keys(after).sort()).toEqual(Object.keys(before ?? {}).sort());
    const stages = await stagesOf(sm, s.arn);
    expect(stages[s.token]).toEqual(['AWSCURRENT']);
  });
});

/**
 * Function calls and catalog names in a statement that are not qualified with `pg_catalog.`
 * (string literals and quoted identifiers left out): what a user's own object could stand in for.
 */
function unqualified(statement: string): string[] {
  const bare = statement.replace(/'(?:[^']|'')*'/g, "''").replace(/"(?:[^"]|"")*"/g, '""');
  const calls = [...bare.matchAll(/(AS\s+)?\b([A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*)?)\s*\(/g)]
    .filter(([, alias, name = '']) => !alias && !name.startsWith('pg_catalog.'))
    .map(([, , name = '']) => name)
    .filter(
      (name) =>
        ![
          'IN',
          'EXISTS',
          'COALESCE',
          'FROM',
          'JOIN',
          'LATERAL',
          'SELECT',
          'ALL',
          'AND',
          'OR',
          'NOT',
          'ON',
        ].includes(name.toUpperCase()),
    );
  const catalogs = [...bare.matchAll(/(?<!pg_catalog\.)\bpg_(?!catalog\b)\w+/g)].map(([name]) => name);
  return [...calls, ...catalogs];
}

describe('rotateDatabase, alternating users, the SQL the master runs', () => {
  it('never runs, as the master, a function an application put on its own search_path, and copies that search_path as the catalog holds it', async () => {
    // Prepare: everything below is done by the application itself, with its own password.
    const s = await alternatingSecret();
    await queryAs(
      s.original,
      s.password,
      [
        `CREATE TABLE ${s.schema}.ran_as (session_login text, acting text)`,
        `GRANT USAGE ON SCHEMA ${s.schema} TO PUBLIC`,
        `GRANT INSERT ON ${s.schema}.ran_as TO PUBLIC`,
        `CREATE FUNCTION ${s.schema}.aclexplode(aclitem[])
           RETURNS TABLE (grantor oid, grantee oid, privilege_type text, is_grantable boolean)
           LANGUAGE plpgsql AS $f$
           BEGIN
             INSERT INTO ${s.schema}.ran_as VALUES (session_user, current_user);
             EXECUTE format('ALTER ROLE %I CREATEROLE', '${s.original}');
             RETURN;
           END $f$`,
        // Operators resolve through the search path even when every function name is qualified.
        ...['name', 'oid'].flatMap((type) => [
          `CREATE FUNCTION ${s.schema}.eq(${type}, ${type}) RETURNS boolean LANGUAGE plpgsql AS $f$
           BEGIN
             INSERT INTO ${s.schema}.ran_as VALUES (session_user, current_user);
             RETURN $1 OPERATOR(pg_catalog.=) $2;
           END $f$`,
          `CREATE OPERATOR ${s.schema}.= (LEFTARG = ${type}, RIGHTARG = ${type}, FUNCTION = ${s.schema}.eq)`,
        ]),
        `ALTER ROLE ${s.original} SET search_path = ${s.schema}, pg_catalog`,
      ].join('; '),
    );

    // Act: one ordinary rotation.
    await rotate(s.arn, s.token, async () => undefined);

    // Assess: nothing the application wrote ran, it gained nothing, and the clone has its exact setting.
    expect(await sql(`SELECT DISTINCT session_login, acting FROM ${s.schema}.ran_as`)).toEqual([]);
    const [role] = await sql(`SELECT rolcreaterole FROM pg_roles WHERE rolname = '${s.original}'`);
    expect(role?.rolcreaterole).toBe(false);
    const [clone] = await sql(
      `SELECT setconfig FROM pg_db_role_setting WHERE setdatabase = 0 AND setrole = '${s.clone}'::regrole`,
    );
    expect(clone?.setconfig).toContain(`search_path=${s.schema}, pg_catalog`);
  });

  it('runs no function another user created in public as the master, and names every catalog function and table by its pg_catalog name', async () => {
    // Prepare: an unrelated user who may create in public (as every user may in a database made before PostgreSQL 15).
    const s = await alternatingSecret();
    const mallory = roleName('mallory');
    const malloryPassword = hostilePassword();
    seen.push(malloryPassword);
    await createRole(mallory, malloryPassword);
    await sql(`GRANT CREATE ON SCHEMA public TO ${mallory}`);
    const connector = recordingConnector(loadDatabaseRotationConfig({}).database);
    try {
      // A better match than pg_catalog's shobj_description(oid, name) for an untyped literal; harmless to other tests.
      await queryAs(
        mallory,
        malloryPassword,
        `CREATE FUNCTION public.shobj_description(oid, text) RETURNS text LANGUAGE plpgsql AS $f$
         BEGIN
           IF current_user = '${s.masterUser}' THEN
             EXECUTE format('ALTER ROLE %I CREATEROLE', '${mallory}');
           END IF;
           RETURN pg_catalog.shobj_description($1, $2::name);
         END $f$`,
      );

      // Act: an ordinary rotation of an unrelated application's secret.
      await runSteps(handler({ connector }), s.arn, s.token);
    } finally {
      await sql(
        'DROP FUNCTION IF EXISTS public.shobj_description(oid, text)',
        `REVOKE CREATE ON SCHEMA public FROM ${mallory}`,
      );
    }
    seen.push((await valueAt(sm, s.arn, 'AWSCURRENT'))?.password ?? '');

    // Assess: mallory gained nothing, and no statement of the rotation leaves a catalog name to the search path.
    const [after] = await sql(`SELECT rolcreaterole FROM pg_roles WHERE rolname = '${mallory}'`);
    expect(after?.rolcreaterole).toBe(false);
    expect(connector.statements.filter(({ username }) => username === s.masterUser).length).toBeGreaterThan(
      10,
    );
    expect(
      connector.statements.flatMap(({ sql: statement }) =>
        unqualified(statement).map((name) => `${name}: ${statement}`),
      ),
    ).toEqual([]);
  });
});

describe('rotateDatabase, alternating users, acts only for a secret that proves it holds the login', () => {
  it("refuses a role whose AWSCURRENT password does not log in, before the master connects: no clone, and the role's own password still works", async () => {
    // Prepare: another team's role, with data of its own; a secret someone else wrote naming it.
    const master = await masterSecret();
    const victim = roleName('payments');
    const victimPassword = hostilePassword();
    const guess = hostilePassword();
    seen.push(victimPassword, guess);
    await createRole(victim, victimPassword);
    await sql(`CREATE TABLE ${victim}_cards (pan text)`, `ALTER TABLE ${victim}_cards OWNER TO ${victim}`);
    const { arn, token } = await createRotatingSecret(
      sm,
      uniqueName('production/database/app'),
      seedDatabaseSecret({ username: victim, password: guess, extra: { masterarn: master.arn } }),
    );
    const connector = recordingConnector(loadDatabaseRotationConfig({}).database);
    await runSteps(handler({ connector }), arn, token, ['createSecret']);
    seen.push((await valueAt(sm, arn, 'AWSPENDING'))?.password ?? '');

    // Act
    const error = await runSteps(handler({ connector }), arn, token, ['setSecret']).catch((e: unknown) => e);

    // Assess
    expect(error).toMatchObject({ name: 'NoWorkingCredentialError' });
    expect((error as Error).message).toContain('nothing proves this secret holds the login it names');
    expect(connector.logins).not.toContain(master.username);
    expect(await sql(`SELECT rolname FROM pg_roles WHERE rolname = '${victim}_clone'`)).toEqual([]);
    expect(await canLogin(victim, victimPassword)).toBe(true);
  });

  it("takes AWSPREVIOUS's login as the proof when AWSCURRENT's password was changed outside rotation", async () => {
    // Prepare: after one rotation (the clone is AWSCURRENT), the clone's password is changed by hand.
    const s = await alternatingSecret();
    await rotate(s.arn, s.token, async () => undefined);
    const byHand = hostilePassword();
    seen.push(byHand);
    await sql(
      `DO $$ BEGIN EXECUTE format('ALTER ROLE %I PASSWORD %L', '${s.clone}', $q$${byHand}$q$); END $$`,
    );

    // Act: the next rotation sets the original's password.
    const second = await rotate(s.arn, await startRotation(sm, s.arn), async () => undefined);

    // Assess
    expect(second.username).toBe(s.original);
    expect(await canLogin(s.original, second.password)).toBe(true);
    expect(output.text()).toMatch(
      /"message":"clone kept in step with the original".*"provenBy":"AWSPREVIOUS"/,
    );
  });

  it('refuses an original that cannot log in (a group role) named through its clone, changing nothing', async () => {
    // Prepare: a login named like a group role's clone, a member of it, whose secret names the master.
    const master = await masterSecret();
    const group = roleName('payments_admin');
    const login = `${group}_clone`;
    const password = hostilePassword();
    seen.push(password);
    await sql(`CREATE ROLE ${group} NOLOGIN`);
    await createRole(login, password);
    await sql(`GRANT ${group} TO ${login}`);
    const { arn, token } = await createRotatingSecret(
      sm,
      uniqueName('production/database/app'),
      seedDatabaseSecret({ username: login, password, extra: { masterarn: master.arn } }),
    );

    // Act
    const error = await runSteps(handler(), arn, token, ['createSecret', 'setSecret']).catch(
      (e: unknown) => e,
    );
    seen.push((await valueAt(sm, arn, 'AWSPENDING'))?.password ?? '');

    // Assess: the group role is still no login, and has no password.
    expect(error).toMatchObject({ name: 'ForeignRoleError' });
    expect((error as Error).message).toContain('cannot log in (NOLOGIN)');
    expect(await sql(`SELECT rolcanlogin, rolpassword FROM pg_authid WHERE rolname = '${group}'`)).toEqual([
      { rolcanlogin: false, rolpassword: null },
    ]);
  });
});

describe('rotateDatabase, alternating users, what the clone owns and may reach', () => {
  it('gives what an adopted template clone owns, in every database, to the original: AWSCURRENT (the clone), then the original after the flip, keep using it', async () => {
    // Prepare: the state AWS's template leaves after a flip: the clone is AWSCURRENT and owns tables in two databases.
    const master = await masterSecret();
    const app = roleName('app');
    const appPassword = hostilePassword();
    const clone = `${app}_clone`;
    const clonePassword = hostilePassword();
    seen.push(appPassword, clonePassword);
    await createRole(app, appPassword);
    await createRole(clone, clonePassword);
    const other = roleName('appdb');
    await sql(
      `GRANT ${app} TO ${clone}`,
      `GRANT CREATE ON SCHEMA public TO ${app}`,
      `CREATE DATABASE ${other}`,
      `GRANT CREATE ON DATABASE ${other} TO ${app}`,
    );
    await queryAs(
      clone,
      clonePassword,
      `CREATE TABLE public.${clone}_orders (id int); INSERT INTO ${clone}_orders VALUES (1)`,
    );
    await queryAs(
      clone,
      clonePassword,
      `CREATE SCHEMA s; CREATE TABLE s.items (id int); INSERT INTO s.items VALUES (1)`,
      other,
    );
    const here = `SELECT count(*)::int AS n FROM public.${clone}_orders`;
    const there = 'SELECT count(*)::int AS n FROM s.items';
    const { arn, token } = await createRotatingSecret(
      sm,
      uniqueName('production/database/app'),
      seedDatabaseSecret({ username: clone, password: clonePassword, extra: { masterarn: master.arn } }),
    );

    // Act 1: createSecret and setSecret (the pending login is the original).
    await runSteps(handler(), arn, token, ['createSecret', 'setSecret']);
    const pending = (await valueAt(sm, arn, 'AWSPENDING'))?.password ?? '';
    seen.push(pending);

    // Assess 1: the original owns it all; AWSCURRENT's new sessions (running as the original) still use it.
    expect(await queryAs(clone, clonePassword, here)).toEqual([{ n: 1 }]);
    expect(await queryAs(clone, clonePassword, there, other)).toEqual([{ n: 1 }]);
    expect(
      await queryAs(
        clone,
        clonePassword,
        `SELECT tableowner FROM pg_tables WHERE tablename = 'items'`,
        other,
      ),
    ).toEqual([{ tableowner: app }]);
    // The master borrowed no membership for good.
    expect(await sql(`SELECT 1 FROM pg_auth_members WHERE member = '${master.username}'::regrole`)).toEqual(
      [],
    );

    // Act 2: the rotation completes; the original is AWSCURRENT.
    await runSteps(handler(), arn, token, ['testSecret', 'finishSecret']);

    // Assess 2
    expect(await queryAs(app, pending, here)).toEqual([{ n: 1 }]);
    expect(await queryAs(app, pending, there, other)).toEqual([{ n: 1 }]);
  });

  it("fails testSecret while the clone owns an object, saying what to run, and setSecret's retry gives it to the original", async () => {
    // Prepare: the clone's session leaves the original's role (SET ROLE NONE) and creates a table between setSecret and testSecret.
    const s = await alternatingSecret();
    await runSteps(handler(), s.arn, s.token, ['createSecret', 'setSecret']);
    const pending = (await valueAt(sm, s.arn, 'AWSPENDING'))?.password ?? '';
    seen.push(pending);
    await queryAs(s.clone, pending, `SET ROLE NONE; CREATE TABLE ${s.schema}.stray (id int)`);

    // Act
    const error = await runSteps(handler(), s.arn, s.token, ['testSecret']).catch((e: unknown) => e);
    await runSteps(handler(), s.arn, s.token, ['setSecret', 'testSecret', 'finishSecret']);

    // Assess
    expect(error).toMatchObject({ name: 'PendingTestFailedError' });
    expect((error as Error).message).toContain(`role "${s.clone}" owns 1 object in database "postgres"`);
    expect((error as Error).message).toContain(`REASSIGN OWNED BY "${s.clone}" TO "${s.original}"`);
    const [owner] = await sql(
      `SELECT tableowner FROM pg_tables WHERE schemaname = '${s.schema}' AND tablename = 'stray'`,
    );
    expect(owner?.tableowner).toBe(s.original);
  });

  it('rotates a NOINHERIT user of a database whose CONNECT is granted to that user alone', async () => {
    // Prepare: the application's own database, CONNECT granted to the application's role only.
    const master = await masterSecret();
    const app = roleName('app');
    const password = hostilePassword();
    seen.push(password);
    await createRole(app, password);
    const db = roleName('appdb');
    await sql(
      `CREATE DATABASE ${db}`,
      `REVOKE CONNECT ON DATABASE ${db} FROM PUBLIC`,
      `GRANT CONNECT ON DATABASE ${db} TO ${app}`,
      `ALTER ROLE ${app} NOINHERIT`,
    );
    const { connection_string: _none, ...value } = {
      ...seedDatabaseSecret({ username: app, password, extra: { masterarn: master.arn } }),
      database: db,
    };
    const { arn, token } = await createRotatingSecret(sm, uniqueName('production/database/app'), value);

    // Act
    await runSteps(handler(), arn, token);

    // Assess: the clone is AWSCURRENT, logs in to the database, and runs as the original.
    const current = await valueAt(sm, arn, 'AWSCURRENT');
    seen.push(current?.password ?? '');
    expect(current?.username).toBe(`${app}_clone`);
    expect(
      await queryAs(`${app}_clone`, current?.password ?? '', 'SELECT current_user AS acting', db),
    ).toEqual([{ acting: app }]);
  });
});
