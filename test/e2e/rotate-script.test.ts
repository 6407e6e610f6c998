import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import {
  canLogin,
  createRole,
  createRotatingSecret,
  findLeaks,
  hostilePassword,
  secretsManager,
  seedDatabaseSecret,
  stack,
  stagesOf,
  startRotation,
  uniqueName,
  valueAt,
} from '../support/bed.js';
import { createAlternatingSecret } from '../support/databases.js';

/** `npm run rotate` as a person runs it: a child process against the test's moto and PostgreSQL. */

const sm = secretsManager();
const root = new URL('../..', import.meta.url).pathname;

async function rotate(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      'node_modules/.bin/tsx',
      ['scripts/rotate.ts', ...args],
      {
        cwd: root,
        timeout: 60_000,
        env: {
          PATH: process.env.PATH,
          AWS_ENDPOINT_URL: stack().awsEndpoint,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
        },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

async function databaseSecret() {
  const username = uniqueName('script_user');
  const password = hostilePassword();
  await createRole(username, password);
  const name = uniqueName('production/database/primary');
  const { arn, token } = await createRotatingSecret(sm, name, seedDatabaseSecret({ username, password }));
  await sm.send(
    new UpdateSecretVersionStageCommand({
      SecretId: arn,
      VersionStage: 'AWSPENDING',
      RemoveFromVersionId: token,
    }),
  );
  return { username, password, name, arn, short: name.replace(/^production\//, '') };
}

describe('npm run rotate', () => {
  it('says first that it drives the steps in process, then rotates the secret and prints no value', async () => {
    const { username, password, arn, short } = await databaseSecret();

    const run = await rotate(short);

    const current = await valueAt(sm, arn, 'AWSCURRENT');
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe(
      `rotate: running the rotation steps through the real handlers in this process (moto cannot invoke a Lambda), against AWS_ENDPOINT_URL=${stack().awsEndpoint}`,
    );
    expect(run.stdout).toMatch(
      new RegExp(`rotated production/${short}: version [0-9a-f-]{36} is AWSCURRENT, rotated_at \\d{4}-`),
    );
    expect(await canLogin(username, current?.password ?? '')).toBe(true);
    expect(findLeaks(run.stdout + run.stderr, [password, current?.password ?? ''])).toEqual([]);
  });

  it('with --repair clears a stuck rotation first', async () => {
    const { arn, short } = await databaseSecret();
    await rotate(short);
    const stuck = await startRotation(sm, arn);

    const run = await rotate(short, '--repair');

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('"repair":{"status":"repaired","action":"unlabel-placeholder"');
    expect((await stagesOf(sm, arn))[stuck]).toEqual([]);
  });

  it('with --rollback refuses a single-user database, exits 1 and changes nothing', async () => {
    const { arn, short } = await databaseSecret();
    await rotate(short);
    const before = await stagesOf(sm, arn);

    const run = await rotate(short, '--rollback');

    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n').at(-1)).toMatch(
      /^RollbackRefusedError: .*AWSPREVIOUS password no longer logs in/,
    );
    expect(await stagesOf(sm, arn)).toEqual(before);
  });

  it("with --rollback makes an alternating-users secret's previous login current again through the deployed wiring, printing no value", async () => {
    // Prepare: a master login and its secret; an application role's alternating-users secret, rotated once.
    const { master, username, password, name, arn } = await createAlternatingSecret(sm, 'script_app');
    const short = name.replace(/^production\//, '');
    await rotate(short);
    const clone = await valueAt(sm, arn, 'AWSCURRENT');
    expect(clone?.username).toBe(`${username}_clone`);

    // Act
    const run = await rotate(short, '--rollback');

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`is AWSCURRENT again (the AWSPREVIOUS login "${username}" logs in to`);
    expect(await valueAt(sm, arn, 'AWSCURRENT')).toMatchObject({ username, password });
    expect(await canLogin(username, password)).toBe(true);
    expect(findLeaks(run.stdout + run.stderr, [password, master.password, clone?.password ?? ''])).toEqual(
      [],
    );
  });

  it('prints its usage and exits 2 on a bad option', async () => {
    const run = await rotate('database/primary', '--rollbak');

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown option --rollbak');
    expect(run.stderr).toContain('usage: npm run rotate -- <secret>');
  });
});
