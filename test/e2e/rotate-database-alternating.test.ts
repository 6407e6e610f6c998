import { Logger } from '@aws-lambda-powertools/logger';
import { CreateSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildRotateDatabaseHandler } from '../../functions/rotate-database/handler.js';
import { loadDatabaseRotationConfig } from '../../shared/config/index.js';
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
import { createMasterRole, openSession, queryAs, rdsClient, roleName, sql } from '../support/databases.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const sm = secretsManager();
let output: ReturnType<typeof captureOutput>;
let seen: string[];
let proxy: TcpProxy;

function handler() {
  return buildRotateDatabaseHandler({
    config: loadDatabaseRotationConfig({}),
    secretsManager: sm,
    rds: rdsClient(),
    logger: new Logger({ serviceName: 'rotation-alternating', logLevel: 'DEBUG' }),
  });
}

/** A master secret (a CREATEROLE login, as RDS's master) and an application role with privileges to copy. */
async function alternatingSecret(options: { username?: string; port?: number; masterPort?: number } = {}) {
  const master = await createMasterRole();
  seen.push(master.password);
  const { arn: masterArn } = await createRotatingSecret(
    sm,
    uniqueName('production/database/master'),
    seedDatabaseSecret({ ...master, port: options.masterPort }),
    { rotate: false },
  );
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
    password,
    port: options.port,
    extra: { masterarn: masterArn },
  });
  const { arn, token } = await createRotatingSecret(sm, name, value);
  return { original, clone: `${original}_clone`, password, schema, group, name, arn, token, masterArn };
}

/** What a role is and may do, as the catalog says: attributes, settings, memberships, effective privileges. */
async function profile(role: string, schema: string, exceptMemberOf?: string) {
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
    `SELECT g.rolname, m.admin_option FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
      WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = '${role}') AND g.rolname <> '${exceptMemberOf ?? ''}' ORDER BY 1`,
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
    expect(await profile(s.clone, s.schema, s.original)).toEqual(await profile(s.original, s.schema));
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
    expect(await profile(s.clone, s.schema, s.original)).not.toEqual(await profile(s.original, s.schema));

    const token = await startRotation(sm, s.arn);
    await rotate(s.arn, token, async () => undefined);

    expect(await profile(s.clone, s.schema, s.original)).toEqual(await profile(s.original, s.schema));
    const memberships = await sql(
      `SELECT m.admin_option FROM pg_auth_members m WHERE m.roleid = '${extra}'::regrole AND m.member = '${s.clone}'::regrole`,
    );
    expect(memberships).toEqual([{ admin_option: true }]);
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

  it("refuses a clone it cannot prove is this secret's, and adopts one AWS's template made", async () => {
    // Prepare: someone else's role with the clone's name.
    const s = await alternatingSecret();
    await createRole(s.clone, hostilePassword());
    await runSteps(handler(), s.arn, s.token, ['createSecret']);
    seen.push((await valueAt(sm, s.arn, 'AWSPENDING'))?.password ?? '');
    const before = await sql(`SELECT rolpassword FROM pg_authid WHERE rolname = '${s.clone}'`);

    const error = await runSteps(handler(), s.arn, s.token, ['setSecret']).catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'ForeignRoleError' });
    expect((error as Error).message).toContain('nothing proves it belongs to this secret');
    expect(await sql(`SELECT rolpassword FROM pg_authid WHERE rolname = '${s.clone}'`)).toEqual(before);
    expect(await sql(`SELECT 1 FROM pg_auth_members WHERE member = '${s.clone}'::regrole`)).toEqual([]);

    // AWS's template makes its clone a member of the original: that role is adopted.
    await sql(`GRANT ${s.original} TO ${s.clone}`);
    await runSteps(handler(), s.arn, s.token, ['setSecret', 'testSecret', 'finishSecret']);
    const current = await valueAt(sm, s.arn, 'AWSCURRENT');
    expect(await canLogin(s.clone, current?.password ?? '')).toBe(true);
    const [comment] = await sql(`SELECT shobj_description('${s.clone}'::regrole, 'pg_authid') AS c`);
    expect(comment?.c).toContain(s.arn);
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

  it('uses an RDS-managed master secret, with host and port from DescribeDBInstances, and refuses to rotate that secret itself', async () => {
    // Prepare: an RDS instance whose master password RDS manages; its secret holds our master login.
    const rds = rdsClient();
    const master = await createMasterRole();
    seen.push(master.password);
    const id = uniqueName('production-db');
    const { port } = stack().postgres;
    const { CreateDBInstanceCommand } = await import('@aws-sdk/client-rds');
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
    const endpoint = created.DBInstance?.Endpoint?.Address ?? '';
    const managed = await sm.send(
      new CreateSecretCommand({
        Name: `rds!db-${uniqueName('x')}`,
        SecretString: JSON.stringify(master),
        Tags: [{ Key: 'aws:rds:primaryDBInstanceArn', Value: created.DBInstance?.DBInstanceArn ?? '' }],
      }),
    );
    const original = roleName('app');
    const password = hostilePassword();
    seen.push(password);
    await createRole(original, password);
    const value = {
      ...seedDatabaseSecret({ username: original, password }),
      host: endpoint,
      masterarn: managed.ARN,
    };
    delete (value as { connection_string?: string }).connection_string;
    const { arn, token } = await createRotatingSecret(sm, uniqueName('production/database/app'), value);
    const { routedConnector } = await import('../support/databases.js');
    const connector = routedConnector(
      { [endpoint.toLowerCase()]: { host: stack().postgres.host, port } },
      loadDatabaseRotationConfig({}).database,
    );
    const routed = buildRotateDatabaseHandler({
      config: loadDatabaseRotationConfig({}),
      secretsManager: sm,
      rds,
      connector,
      logger: new Logger({ serviceName: 'rotation-alternating', logLevel: 'DEBUG' }),
    });

    // Act
    await runSteps(routed, arn, token);

    // Assess: the clone was made by the master from the managed secret, at the instance's endpoint.
    const current = await valueAt(sm, arn, 'AWSCURRENT');
    seen.push(current?.password ?? '');
    expect(current?.username).toBe(`${original}_clone`);
    expect(await canLogin(`${original}_clone`, current?.password ?? '')).toBe(true);
    expect(connector.connected.every((host) => host === endpoint)).toBe(true);

    // A rotation aimed at the managed secret itself is refused, saying RDS manages it.
    await sm.send(new PutSecretValueCommand({ SecretId: managed.ARN, SecretString: JSON.stringify(master) }));
    const managedToken = await startRotation(sm, managed.ARN ?? '');
    const error = await runSteps(routed, managed.ARN ?? '', managedToken, ['createSecret']).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ name: 'RdsManagedSecretError' });
    expect((error as Error).message).toContain(`is managed by RDS for RDS instance ${id}`);
    expect(await valueAt(sm, managed.ARN ?? '', 'AWSPENDING')).toBeUndefined();
    expect(await canLogin(master.username, master.password)).toBe(true);
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
