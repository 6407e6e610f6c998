/**
 * Finding: a NOINHERIT original's clone cannot connect to a database whose CONNECT is
 * granted to the original.
 *
 * syncAttributes (shared/postgres/roles.ts ATTRIBUTES) copies NOINHERIT to the clone. The
 * clone then reaches the original's privileges only through its `role` setting, which
 * PostgreSQL applies after the login's CONNECT check (made for the login itself, with its
 * own inheritance). `REVOKE CONNECT … FROM PUBLIC; GRANT CONNECT … TO app` is the usual
 * hardening: the clone is refused, testSecret fails at every retry, and the rotation is
 * stuck with AWSPENDING set. (Database-level CONNECT is one of the points.)
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  captureOutput,
  createRotatingSecret,
  findLeaks,
  runSteps,
  seedDatabaseSecret,
  uniqueName,
  valueAt,
} from '../support/bed.js';
import { roleName, sql } from '../support/databases.js';
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

describe('alternating users, database-level CONNECT', () => {
  it('rotates a NOINHERIT user of a database whose CONNECT is granted to that user only', async () => {
    // Prepare: the application's own database, CONNECT granted to the application's role only.
    const master = await masterSecret(seen);
    const app = await loginRole('app', seen);
    const db = roleName('appdb');
    await sql(
      `CREATE DATABASE ${db}`,
      `REVOKE CONNECT ON DATABASE ${db} FROM PUBLIC`,
      `GRANT CONNECT ON DATABASE ${db} TO ${app.name}`,
      `ALTER ROLE ${app.name} NOINHERIT`,
    );
    const value: Record<string, unknown> = {
      ...seedDatabaseSecret({ username: app.name, password: app.password, extra: { masterarn: master.arn } }),
      database: db,
    };
    delete value.connection_string;
    const { arn, token } = await createRotatingSecret(sm, uniqueName('production/database/app'), value);

    // Act
    const error = await runSteps(handler(), arn, token).catch((e: unknown) => e);
    seen.push((await valueAt(sm, arn, 'AWSPENDING'))?.password ?? '');

    // Assess: the rotation completes; the clone is AWSCURRENT.
    expect(error instanceof Error ? `${error.name}: ${error.message}` : 'completed').toBe('completed');
    expect((await valueAt(sm, arn, 'AWSCURRENT'))?.username).toBe(`${app.name}_clone`);
  });
});
