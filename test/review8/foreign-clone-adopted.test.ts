/**
 * Finding: an existing `<user>_clone` is taken over on the strength of one membership.
 *
 * syncClone (shared/postgres/roles.ts, the adoption branch) adopts any role named like the
 * clone that is a member of the original, and then rewrites it: other memberships revoked,
 * attributes and settings replaced, password set. Being a member of `app` proves nothing
 * about whose role it is (a person's or another tool's login, granted `app` to work on it).
 * What would prove it is this secret's: its password is one a version of this secret holds
 * (AWS's template leaves the clone's password in AWSCURRENT or AWSPREVIOUS).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  canLogin,
  captureOutput,
  createRole,
  findLeaks,
  hostilePassword,
  runSteps,
  valueAt,
} from '../support/bed.js';
import { roleName, sql } from '../support/databases.js';
import { alternatingSecret, handler, loginRole, masterSecret, sm } from './helpers.js';

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

describe('alternating users, a role already named like the clone', () => {
  it('leaves alone a member of the original whose password no version of this secret holds', async () => {
    // Prepare: an operator's login that happens to be named app_clone: a member of app, and of ops.
    const master = await masterSecret(seen);
    const app = await loginRole('app', seen);
    const clone = `${app.name}_clone`;
    const theirs = hostilePassword();
    seen.push(theirs);
    await createRole(clone, theirs);
    const ops = roleName('ops');
    await sql(`CREATE ROLE ${ops} NOLOGIN`, `GRANT ${app.name} TO ${clone}`, `GRANT ${ops} TO ${clone}`);
    const s = await alternatingSecret(app.name, app.password, master.arn);

    // Act
    const error = await runSteps(handler(), s.arn, s.token, ['createSecret', 'setSecret']).catch(
      (e: unknown) => e,
    );
    seen.push((await valueAt(sm, s.arn, 'AWSPENDING'))?.password ?? '');

    // Assess: refused as foreign; the login keeps its password and memberships.
    expect.soft(error, 'setSecret adopted a role it cannot prove is this secret’s').toMatchObject({
      name: 'ForeignRoleError',
    });
    expect.soft(await canLogin(clone, theirs), "the operator's password still works").toBe(true);
    expect(
      await sql(
        `SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = '${clone}'::regrole AND g.rolname = '${ops}'`,
      ),
      'its other membership is kept',
    ).toEqual([{ rolname: ops }]);
  });
});
