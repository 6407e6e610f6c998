/**
 * Finding: an application role can make the master run its own SQL during setSecret.
 *
 * syncSettings (shared/postgres/roles.ts) copies each per-role setting of the original with
 * `SELECT set_config(name, value, true)` in the MASTER's transaction, then keeps running
 * unqualified SQL in that transaction (`aclexplode`, `count`, `pg_class`, … in syncClone).
 * Any role may `ALTER ROLE itself SET search_path`, so the application puts a schema it owns
 * ahead of pg_catalog and defines `aclexplode` there: the master executes it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { captureOutput, findLeaks, runSteps } from '../support/bed.js';
import { queryAs, roleName, sql } from '../support/databases.js';
import { alternatingSecret, handler, loginRole, masterSecret } from './helpers.js';

let output: ReturnType<typeof captureOutput>;
let seen: string[];
beforeEach(() => {
  seen = [];
  output = captureOutput();
});
afterEach(() => {
  output.stop();
  expect(findLeaks(output.text(), seen)).toEqual([]);
});

describe('alternating users, per-role settings copied through the master session', () => {
  it("never runs an application's own function as the master (search_path set by the application itself)", async () => {
    // Prepare: an ordinary application role with a schema of its own, in the master's database.
    const master = await masterSecret(seen);
    const app = await loginRole('app', seen);
    const evil = roleName('evil');
    await sql(`CREATE SCHEMA ${evil} AUTHORIZATION ${app.name}`);
    // Everything below is done by the application itself, with its own password.
    await queryAs(
      app.name,
      app.password,
      [
        `CREATE TABLE ${evil}.ran_as (session_login text, acting text)`,
        `GRANT USAGE ON SCHEMA ${evil} TO PUBLIC`,
        `GRANT INSERT ON ${evil}.ran_as TO PUBLIC`,
        `CREATE FUNCTION ${evil}.aclexplode(aclitem[])
           RETURNS TABLE (grantor oid, grantee oid, privilege_type text, is_grantable boolean)
           LANGUAGE plpgsql AS $f$
           BEGIN
             INSERT INTO ${evil}.ran_as VALUES (session_user, current_user);
             EXECUTE format('ALTER ROLE %I CREATEROLE', '${app.name}');
             RETURN;
           END $f$`,
        `ALTER ROLE ${app.name} SET search_path = ${evil}, pg_catalog`,
      ].join('; '),
    );
    const [before] = await sql(`SELECT rolcreaterole FROM pg_roles WHERE rolname = '${app.name}'`);
    expect(before?.rolcreaterole).toBe(false);
    const s = await alternatingSecret(app.name, app.password, master.arn);

    // Act: one ordinary rotation.
    await runSteps(handler(), s.arn, s.token, ['createSecret', 'setSecret']).catch(() => undefined);

    // Assess: nothing the application wrote ran as the master, and it gained nothing.
    expect.soft(await sql(`SELECT DISTINCT session_login, acting FROM ${evil}.ran_as`)).toEqual([]);
    const [after] = await sql(`SELECT rolcreaterole FROM pg_roles WHERE rolname = '${app.name}'`);
    expect(after?.rolcreaterole, 'the application role gave itself CREATEROLE through the master').toBe(
      false,
    );
  });
});
