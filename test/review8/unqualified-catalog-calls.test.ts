/**
 * Finding: any database user who can create a function in a schema on the master's
 * search_path runs code as the master at every alternating-users rotation.
 *
 * syncClone's SQL (shared/postgres/roles.ts readRoles, isMember, membershipsOf, …) calls
 * catalog functions unqualified, with untyped literals, in the master's session and its
 * default search_path (`"$user", public`): `shobj_description(r.oid, 'pg_authid')`. A
 * `public.shobj_description(oid, text)` is a better match for the unknown literal than
 * pg_catalog's `(oid, name)`, so PostgreSQL calls it (the CVE-2018-1058 pattern). `public`
 * is writable by every user in databases created before PostgreSQL 15 and upgraded (most RDS
 * databases), or wherever CREATE on it was granted. The connector sets no search_path.
 *
 * The function here behaves like pg_catalog's for everyone else (other tests share the server)
 * and acts only for this test's master.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { captureOutput, findLeaks, runSteps } from '../support/bed.js';
import { queryAs, sql } from '../support/databases.js';
import { alternatingSecret, handler, loginRole, masterSecret } from './helpers.js';

let output: ReturnType<typeof captureOutput>;
let seen: string[];
let cleanup: string[] = [];
beforeEach(() => {
  seen = [];
  cleanup = [];
  output = captureOutput();
});
afterEach(async () => {
  output.stop();
  if (cleanup.length > 0) await sql(...cleanup);
  expect(findLeaks(output.text(), seen)).toEqual([]);
});

describe('alternating users, the SQL the master runs', () => {
  it('runs no function of another user as the master, whatever that user may create in public', async () => {
    // Prepare: an unrelated user who may create in public (as every user may in a pre-15 database).
    const master = await masterSecret(seen);
    const app = await loginRole('app', seen);
    const mallory = await loginRole('mallory', seen);
    await sql(`GRANT CREATE ON SCHEMA public TO ${mallory.name}`);
    cleanup.push(
      'DROP FUNCTION IF EXISTS public.shobj_description(oid, text)',
      `REVOKE CREATE ON SCHEMA public FROM ${mallory.name}`,
    );
    await queryAs(
      mallory.name,
      mallory.password,
      `CREATE FUNCTION public.shobj_description(oid, text) RETURNS text LANGUAGE plpgsql AS $f$
       BEGIN
         IF current_user = '${master.username}' THEN
           EXECUTE format('ALTER ROLE %I CREATEROLE', '${mallory.name}');
         END IF;
         RETURN pg_catalog.shobj_description($1, $2::name);
       END $f$`,
    );
    const s = await alternatingSecret(app.name, app.password, master.arn);

    // Act: an ordinary rotation of an unrelated application's secret.
    await runSteps(handler(), s.arn, s.token, ['createSecret', 'setSecret']).catch(() => undefined);

    // Assess
    const [after] = await sql(`SELECT rolcreaterole FROM pg_roles WHERE rolname = '${mallory.name}'`);
    expect(after?.rolcreaterole, 'mallory gave herself CREATEROLE through the master').toBe(false);
  });
});
