/**
 * Finding: moving from AWS's multi-user template locks AWSCURRENT out of its own tables.
 *
 * AWS's template makes `<user>_clone` a member of `<user>`; while the clone is current, what
 * the application creates belongs to the clone (the ownership complaint the issue quotes,
 * #56). syncClone (shared/postgres/roles.ts) adopts such a clone and sets `role = <user>` on
 * it, so from setSecret on, every new session of AWSCURRENT (the clone) runs as `<user>`,
 * which is not a member of the clone: "permission denied" on the clone's own tables. After
 * the flip, the original is denied too. Nothing moves the ownership or warns.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  captureOutput,
  createRole,
  createRotatingSecret,
  findLeaks,
  hostilePassword,
  runSteps,
  seedDatabaseSecret,
  uniqueName,
  valueAt,
} from '../support/bed.js';
import { queryAs, sql } from '../support/databases.js';
import { handler, loginRole, masterSecret, sm } from './helpers.js';

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

/** Runs `statement` as `user`; the error message when it fails. */
const attempt = (user: string, password: string, statement: string) =>
  queryAs(user, password, statement).then(
    (rows) => rows,
    (error: Error) => error.message,
  );

describe("alternating users, a clone adopted from AWS's template", () => {
  it('keeps AWSCURRENT (the clone) and then the original able to use the tables the clone owns', async () => {
    // Prepare: the state AWS's template leaves after a flip: the clone is AWSCURRENT and owns a table.
    const master = await masterSecret(seen);
    const app = await loginRole('app', seen);
    const clone = `${app.name}_clone`;
    const clonePassword = hostilePassword();
    seen.push(clonePassword);
    await createRole(clone, clonePassword);
    await sql(`GRANT ${app.name} TO ${clone}`, `GRANT CREATE ON SCHEMA public TO ${app.name}`);
    await queryAs(
      clone,
      clonePassword,
      `CREATE TABLE public.${clone}_orders (id int); INSERT INTO ${clone}_orders VALUES (1)`,
    );
    const table = `public.${clone}_orders`;
    const count = `SELECT count(*)::int AS n FROM ${table}`;
    expect(await attempt(clone, clonePassword, count)).toEqual([{ n: 1 }]);
    const { arn, token } = await createRotatingSecret(
      sm,
      uniqueName('production/database/app'),
      seedDatabaseSecret({ username: clone, password: clonePassword, extra: { masterarn: master.arn } }),
    );

    // Act 1: createSecret and setSecret (the pending login is the original).
    await runSteps(handler(), arn, token, ['createSecret', 'setSecret']);
    const pending = await valueAt(sm, arn, 'AWSPENDING');
    seen.push(pending?.password ?? '');

    // Assess 1: AWSCURRENT's applications still read their table (the issue: the current user keeps working).
    expect.soft(await attempt(clone, clonePassword, count), 'AWSCURRENT after setSecret').toEqual([{ n: 1 }]);

    // Act 2: the rotation completes; the original is AWSCURRENT.
    await runSteps(handler(), arn, token, ['testSecret', 'finishSecret']);

    // Assess 2: the original uses the table too.
    expect(await attempt(app.name, pending?.password ?? '', count), 'the original after the flip').toEqual([
      { n: 1 },
    ]);
  });
});
