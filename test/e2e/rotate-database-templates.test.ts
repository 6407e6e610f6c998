/**
 * Secrets in the shape AWS's Python rotation templates write (`engine`, `host`, numeric
 * `port`, `username`, `password`, `dbname`, `ssl`), and TLS: against a PostgreSQL without TLS
 * (as many a template user's database is) and the test bed's TLS PostgreSQL.
 */
import { execFile, execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildRotateDatabaseHandler } from '../../functions/rotate-database/handler.js';
import { loadDatabaseRotationConfig } from '../../shared/config/index.js';
import { RDS_CA_BUNDLE_FILE } from '../../shared/postgres/index.js';
import {
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
  startRotation,
  uniqueName,
  valueAt,
} from '../support/bed.js';
import { rdsClient, roleName, routedConnector } from '../support/databases.js';
import { type LocalPostgres, startPostgres } from '../support/local-stack.js';

const ROOT = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);
const sm = secretsManager();
let output: ReturnType<typeof captureOutput>;
let seen: string[];
let plain: LocalPostgres & { stop(): Promise<void> };

beforeAll(async () => {
  plain = await startPostgres({});
});
afterAll(async () => plain?.stop());
beforeEach(() => {
  seen = [];
  output = captureOutput();
});
afterEach(() => {
  output.stop();
  vi.unstubAllEnvs();
  expect(findLeaks(output.text(), seen), 'secret values in captured output').toEqual([]);
});

function handler(env: Record<string, string> = {}, connector?: ReturnType<typeof routedConnector>) {
  return buildRotateDatabaseHandler({
    config: loadDatabaseRotationConfig(env),
    secretsManager: sm,
    rds: rdsClient(),
    logger: new Logger({ serviceName: 'rotation-templates', logLevel: 'DEBUG' }),
    ...(connector ? { connector } : {}),
  });
}

/** Logs in to the PostgreSQL without TLS; true when the server accepts the password. */
async function plainLogin(user: string, password: string): Promise<boolean> {
  const client = new pg.Client({
    host: plain.host,
    port: plain.port,
    user,
    password,
    database: 'postgres',
    ssl: false,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === '28P01') return false;
    throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A role on the PostgreSQL without TLS, and a secret in the templates' shape for it. */
async function templateSecret(ssl: unknown) {
  const username = roleName('tpl');
  const password = hostilePassword();
  seen.push(password);
  const admin = new pg.Client({
    host: plain.host,
    port: plain.port,
    user: plain.superuser,
    password: plain.superuserPassword,
    database: 'postgres',
  });
  await admin.connect();
  const { rows } = await admin.query<{ sql: string }>(
    "SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', $1::text, $2::text) AS sql",
    [username, password],
  );
  await admin.query(rows[0]?.sql ?? '');
  await admin.end();
  const value = {
    engine: 'postgres',
    host: plain.host,
    port: plain.port,
    username,
    password,
    dbname: 'postgres',
    ...(ssl === undefined ? {} : { ssl }),
  };
  const { arn, token } = await createRotatingSecret(sm, uniqueName('production/database/template'), value);
  return { username, password, value, arn, token };
}

describe("rotateDatabase, secrets in the shape of AWS's templates", () => {
  it.each([false, 'false', 'FALSE'])(
    'rotates "ssl": %j against a database without TLS, keeps every field, and logs that TLS is off',
    async (ssl) => {
      const s = await templateSecret(ssl);

      await runSteps(handler(), s.arn, s.token);

      const current = await valueAt(sm, s.arn, 'AWSCURRENT');
      seen.push(current?.password ?? '');
      expect(await plainLogin(s.username, current?.password ?? '')).toBe(true);
      expect(await plainLogin(s.username, s.password)).toBe(false);
      expect(Object.keys(current ?? {}).sort()).toEqual([...Object.keys(s.value), 'rotated_at'].sort());
      expect(current).toMatchObject({ ssl, port: plain.port, dbname: 'postgres', engine: 'postgres' });
      expect(output.text()).toMatch(
        /"message":"TLS is off for this database, as the secret says".*"decidedBy":"ssl"/,
      );
    },
  );

  it.each([
    [true, '"ssl" field asks for TLS; set "ssl": false'],
    ['true', '"ssl" field asks for TLS; set "ssl": false'],
    [
      undefined,
      'the secret names neither "sslmode" nor "ssl", so TLS is required (verify-full); set "ssl": false',
    ],
  ])(
    'refuses "ssl": %j against a database without TLS, naming the field, with nothing changed',
    async (ssl, hint) => {
      const s = await templateSecret(ssl);
      await runSteps(handler(), s.arn, s.token, ['createSecret']);
      const pending = (await valueAt(sm, s.arn, 'AWSPENDING'))?.password ?? '';
      seen.push(pending);

      const error = await runSteps(handler(), s.arn, s.token, ['setSecret']).catch((e: unknown) => e);

      expect(error).toMatchObject({ name: 'TlsRefusedError' });
      expect((error as Error).message).toContain('The server does not support SSL connections');
      expect((error as Error).message).toContain(hint);
      expect(await plainLogin(s.username, s.password)).toBe(true);
      expect(await plainLogin(s.username, pending)).toBe(false);
      expect((await valueAt(sm, s.arn, 'AWSCURRENT'))?.password).toBe(s.password);
    },
  );

  it('refuses an ssl field that contradicts sslmode, or is not a boolean, naming the field', async () => {
    const s = await templateSecret('yes');
    const error = await runSteps(handler(), s.arn, s.token, ['createSecret']).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'MalformedSecretError', fields: ['ssl'] });
    expect((error as Error).message).toContain('ssl: must be true or false (or "true" or "false")');

    const c = await templateSecret(false);
    const { arn, token } = await createRotatingSecret(sm, uniqueName('production/database/contradiction'), {
      ...c.value,
      sslmode: 'verify-full',
    });
    const contradiction = await runSteps(handler(), arn, token, ['createSecret']).catch((e: unknown) => e);
    expect((contradiction as Error).message).toContain('ssl: is false but sslmode is verify-full');
  });

  const pygresql = (() => {
    try {
      return (
        execFileSync(
          'python3',
          ['-c', "import sys; sys.path.append('/usr/lib/python3/dist-packages'); import pg, pgdb, boto3"],
          { stdio: 'ignore' },
        ) !== undefined
      );
    } catch {
      return false;
    }
  })();

  it.skipIf(!pygresql)(
    "round-trips with AWS's own Python template: template, then this function, then the template again",
    { timeout: 120_000 },
    async () => {
      const s = await templateSecret(false);
      const template = async () => {
        const { stdout } = await run(
          'python3',
          [
            join(ROOT, 'bench/reference/run_template.py'),
            '--endpoint',
            stack().awsEndpoint,
            '--region',
            'us-east-1',
            '--verify',
            s.arn,
          ],
          {
            cwd: ROOT,
            env: { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
          },
        );
        return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
          verified?: number;
          failed_rotations?: number;
        };
      };

      // The template rotates the secret first (its own token, its own staging).
      expect(await template()).toMatchObject({ verified: 1 });
      const afterTemplate = await valueAt(sm, s.arn, 'AWSCURRENT');
      seen.push(afterTemplate?.password ?? '');

      // This function rotates it, unedited.
      await runSteps(handler(), s.arn, await startRotation(sm, s.arn), STEPS);
      const afterUs = await valueAt(sm, s.arn, 'AWSCURRENT');
      seen.push(afterUs?.password ?? '');
      expect(await plainLogin(s.username, afterUs?.password ?? '')).toBe(true);
      expect(afterUs).toMatchObject({ ssl: false, port: plain.port, dbname: 'postgres' });

      // And the template rotates it again.
      expect(await template()).toMatchObject({ verified: 1 });
      const final = await valueAt(sm, s.arn, 'AWSCURRENT');
      seen.push(final?.password ?? '');
      expect(await plainLogin(s.username, final?.password ?? '')).toBe(true);
      expect(await plainLogin(s.username, afterUs?.password ?? '')).toBe(false);
    },
  );
});

describe('rotateDatabase TLS to RDS', () => {
  /** A secret whose host is an RDS endpoint name, routed to the test bed's TLS PostgreSQL. */
  async function rdsNamedSecret(extra: object = {}) {
    const username = roleName('rds_tls');
    const password = hostilePassword();
    seen.push(password);
    await createRole(username, password);
    const host = `${uniqueName('app')}.abcdefghijkl.us-east-1.rds.amazonaws.com`;
    const {
      sslmode: _none,
      connection_string: _c,
      ...value
    } = { ...seedDatabaseSecret({ username, password }), host, ...extra };
    const { arn, token } = await createRotatingSecret(sm, uniqueName('production/database/rds-tls'), value);
    const connector = routedConnector(
      { [host]: { host: stack().postgres.host, port: stack().postgres.port } },
      loadDatabaseRotationConfig({}).database,
    );
    return { username, password, arn, token, connector };
  }

  it('verifies an RDS server against the shipped RDS bundle by default, and refuses one it does not sign', async () => {
    const s = await rdsNamedSecret();
    await runSteps(handler({}, s.connector), s.arn, s.token, ['createSecret']);
    seen.push((await valueAt(sm, s.arn, 'AWSPENDING'))?.password ?? '');

    const error = await runSteps(handler({}, s.connector), s.arn, s.token, ['setSecret']).catch(
      (e: unknown) => e,
    );

    expect(error).toMatchObject({ name: 'TlsNotTrustedError' });
    expect((error as Error).message).toContain(
      'RDS databases are checked against the RDS bundle shipped with the function',
    );
  });

  it('reads the bundle from RDS_CA_BUNDLE_FILE under the function root: a CA the test bed made in its place verifies the server', async () => {
    // Prepare: a function root whose bundle is the test bed's CA.
    const root = await mkdtemp(join(tmpdir(), 'function-root-'));
    await mkdir(join(root, RDS_CA_BUNDLE_FILE, '..'), { recursive: true });
    await copyFile(stack().postgres.caFile, join(root, RDS_CA_BUNDLE_FILE));
    vi.stubEnv('LAMBDA_TASK_ROOT', root);
    const s = await rdsNamedSecret();

    await runSteps(handler({}, s.connector), s.arn, s.token);

    const current = await valueAt(sm, s.arn, 'AWSCURRENT');
    seen.push(current?.password ?? '');
    expect(current?.password).not.toBe(s.password);
    await rm(root, { recursive: true, force: true });
  });

  it('verifies the CA with sslmode=require when a CA is configured (as libpq with a root certificate), and logs when nothing is verified', async () => {
    const username = roleName('req');
    const password = hostilePassword();
    seen.push(password);
    await createRole(username, password);
    const value = { ...seedDatabaseSecret({ username, password }), sslmode: 'require' };
    const { arn, token } = await createRotatingSecret(sm, uniqueName('production/database/require'), value);
    await runSteps(handler(), arn, token, ['createSecret']);
    seen.push((await valueAt(sm, arn, 'AWSPENDING'))?.password ?? '');

    // A CA that did not sign the server's certificate: require refuses it.
    const untrusted = await runSteps(
      handler({ DB_TLS_CA_FILE: join(ROOT, RDS_CA_BUNDLE_FILE) }),
      arn,
      token,
      ['setSecret'],
    ).catch((e: unknown) => e);
    expect(untrusted).toMatchObject({ name: 'TlsNotTrustedError' });

    // Without a CA, require encrypts without verifying, and the log says so.
    await runSteps(handler(), arn, token, ['setSecret', 'testSecret', 'finishSecret']);
    expect(output.text()).toMatch(
      /"message":"TLS without certificate verification, as the secret's sslmode says/,
    );
  });
});
