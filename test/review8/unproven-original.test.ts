/**
 * Finding: alternating users acts on whatever role a secret names, without proof the secret
 * holds it.
 *
 * setSecret (shared/postgres/alternating.ts setPending) never checks that AWSCURRENT's
 * credentials log in (AWS's own multi-user template does, as proof). Anyone who can write a
 * secret under production/database/ names another team's role as `username` with any
 * password and the platform's master secret as `masterarn`: the master creates
 * `<role>_clone`, a login that runs as that role, and stores its password in the writer's
 * secret. The next rotation sets the other team's own password, locking them out.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canLogin, captureOutput, findLeaks, runSteps, startRotation, valueAt } from '../support/bed.js';
import { queryAs, roleName, sql } from '../support/databases.js';
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

describe('alternating users, the role a secret names', () => {
  it("refuses a role whose AWSCURRENT password does not log in, creating no clone of another team's role", async () => {
    // Prepare: another team's role, with data of its own; a secret someone else wrote naming it.
    const master = await masterSecret(seen);
    const victim = await loginRole('payments', seen);
    const schema = roleName('pay');
    await sql(
      `CREATE SCHEMA ${schema} AUTHORIZATION ${victim.name}`,
      `CREATE TABLE ${schema}.cards (pan text)`,
      `ALTER TABLE ${schema}.cards OWNER TO ${victim.name}`,
      `INSERT INTO ${schema}.cards VALUES ('4111111111111111')`,
    );
    const s = await alternatingSecret(victim.name, 'not-their-password-at-all', master.arn);

    // Act: the writer of that secret rotates it (twice: the second flips back to the role itself).
    const first = await runSteps(handler(), s.arn, s.token).catch((e: unknown) => e);
    const stolen = await valueAt(sm, s.arn, 'AWSCURRENT');
    seen.push(stolen?.password ?? '');

    // Assess: the step fails, nothing is created, and the writer got no way in.
    expect.soft(first, 'setSecret completed for a role the secret cannot log in as').toBeInstanceOf(Error);
    expect.soft(await sql(`SELECT rolname FROM pg_roles WHERE rolname = '${victim.name}_clone'`)).toEqual([]);
    if (stolen?.username === `${victim.name}_clone`) {
      const rows = await queryAs(stolen.username, stolen.password ?? '', `SELECT pan FROM ${schema}.cards`);
      expect.soft(rows, "the secret's writer reads the other team's data").toEqual([]);

      const second = await startRotation(sm, s.arn);
      await runSteps(handler(), s.arn, second).catch(() => undefined);
      seen.push((await valueAt(sm, s.arn, 'AWSCURRENT'))?.password ?? '');
    }
    expect(await canLogin(victim.name, victim.password), "the other team's own password still works").toBe(
      true,
    );
  });
});
