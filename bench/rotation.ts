/**
 * Rotation benchmark: rotates BENCH_N (default 20) database secrets through the
 * `rotateDatabase` handler in process, as Lambda calls it, against a local moto server and
 * PostgreSQL 15 (scram-sha-256, no TLS, like the reference run). Time is per full four-step
 * rotation; Secrets Manager calls are counted by SDK middleware and logins by wrapping the
 * connector, both only during the four steps.
 *
 * When Python and PyGreSQL are available (bench/reference/setup.sh), AWS's own Python
 * single-user template rotates BENCH_N other secrets on the same servers in the same run.
 * The last line printed is one JSON object.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import pg from 'pg';
import { buildRotateDatabaseHandler } from '../functions/rotate-database/handler.js';
import { loadDatabaseRotationConfig } from '../shared/config/index.js';
import { createPostgresConnector, type PostgresConnector } from '../shared/postgres/index.js';
import { startLocalStack } from '../test/support/local-stack.js';

const run = promisify(execFile);
const N = Number(process.env.BENCH_N ?? 20);
const STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
const context = {
  functionName: 'rotateDatabase',
  awsRequestId: 'bench',
  getRemainingTimeInMillis: () => 60_000,
} as Context;
const log = (line: string) => process.stderr.write(`${line}\n`);

const stats = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  const round = (v: number) => Math.round(v * 10) / 10;
  return { median_ms: round(median), min_ms: round(sorted[0] ?? 0), max_ms: round(sorted.at(-1) ?? 0) };
};

function countingClient(endpoint: string, counter: { calls: number }) {
  const client = new SecretsManagerClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  client.middlewareStack.add(
    (next) => async (args) => {
      counter.calls++;
      return next(args);
    },
    { step: 'initialize', name: 'countCalls' },
  );
  return client;
}

async function main() {
  const stack = await startLocalStack();
  try {
    const { host, port, superuser, superuserPassword } = stack.postgres;
    const admin = new pg.Client({
      host,
      port,
      user: superuser,
      password: superuserPassword,
      database: 'postgres',
    });
    await admin.connect();
    const setup = countingClient(stack.awsEndpoint, { calls: 0 });

    async function fixture(prefix: string, shape: 'seed' | 'rds', extra: object = {}) {
      const user = `${prefix}_${randomBytes(4).toString('hex')}`;
      const password = randomBytes(18).toString('base64url');
      await admin.query(`CREATE ROLE ${user} LOGIN PASSWORD '${password}'`);
      const value =
        shape === 'seed'
          ? {
              connection_string: `postgresql://${user}:${password}@${host}:${port}/postgres`,
              host,
              port: String(port),
              database: 'postgres',
              username: user,
              password,
              sslmode: 'disable',
              rotated_at: '2024-01-01T00:00:00Z',
            }
          : { engine: 'postgres', host, port, username: user, password, dbname: 'postgres', ssl: false };
      const out = await setup.send(
        new CreateSecretCommand({
          Name: `bench/database/${user}`,
          SecretString: JSON.stringify({ ...value, ...extra }),
        }),
      );
      return out.ARN ?? '';
    }

    async function startRotation(arn: string) {
      await setup
        .send(
          new RotateSecretCommand({
            SecretId: arn,
            RotationLambdaARN: 'arn:aws:lambda:us-east-1:123456789012:function:bench',
            RotationRules: { AutomaticallyAfterDays: 90 },
          }),
        )
        .catch((error: Error) => {
          if (error.name !== 'ResourceNotFoundException') throw error;
        });
      const d = await setup.send(new DescribeSecretCommand({ SecretId: arn }));
      return Object.entries(d.VersionIdsToStages ?? {}).find(([, s]) => s?.includes('AWSPENDING'))?.[0] ?? '';
    }

    const counter = { calls: 0, logins: 0 };
    const real = createPostgresConnector(loadDatabaseRotationConfig({}).database);
    const connector: PostgresConnector = {
      connect: (target, password) => {
        counter.logins++;
        return real.connect(target, password);
      },
    };
    const build = () =>
      buildRotateDatabaseHandler({
        config: loadDatabaseRotationConfig({}),
        secretsManager: countingClient(stack.awsEndpoint, counter),
        logger: new Logger({ serviceName: 'bench', logLevel: 'ERROR' }),
        connector,
      });

    // Warm container: one handler for every rotation, as a warm Lambda serves them.
    const warm = build();
    const times: number[] = [];
    const calls: number[] = [];
    const logins: number[] = [];
    const stepTimes: Record<string, number[]> = Object.fromEntries(STEPS.map((step) => [step, []]));
    for (let i = 0; i < N; i++) {
      const arn = await fixture('bench', 'seed');
      const token = await startRotation(arn);
      counter.calls = 0;
      counter.logins = 0;
      const started = performance.now();
      for (const Step of STEPS) {
        const stepStarted = performance.now();
        await warm({ SecretId: arn, ClientRequestToken: token, Step }, context);
        stepTimes[Step]?.push(performance.now() - stepStarted);
      }
      times.push(performance.now() - started);
      calls.push(counter.calls);
      logins.push(counter.logins);
    }

    // Cold containers: a new handler for every step, so nothing is cached between steps.
    const coldCalls: number[] = [];
    const coldTimes: number[] = [];
    for (let i = 0; i < Math.min(N, 5); i++) {
      const arn = await fixture('cold', 'seed');
      const token = await startRotation(arn);
      const handlers = STEPS.map(() => build());
      counter.calls = 0;
      const started = performance.now();
      for (const [k, Step] of STEPS.entries())
        await handlers[k]?.({ SecretId: arn, ClientRequestToken: token, Step }, context);
      coldTimes.push(performance.now() - started);
      coldCalls.push(counter.calls);
    }

    // Alternating users: a master login (CREATEROLE, as on RDS) sets the clone's password, in
    // one transaction that also keeps the clone in step with the original (first rotation:
    // the clone is created).
    const masterArn = await fixture('bench_master', 'seed');
    const masterName = (await setup.send(new DescribeSecretCommand({ SecretId: masterArn }))).Name ?? '';
    await admin.query(`ALTER ROLE ${masterName.split('/').at(-1)} CREATEROLE`);
    const alternatingTimes: number[] = [];
    const alternatingCalls: number[] = [];
    const alternatingLogins: number[] = [];
    for (let i = 0; i < N; i++) {
      const arn = await fixture('alt', 'seed', { masterarn: masterArn });
      const token = await startRotation(arn);
      counter.calls = 0;
      counter.logins = 0;
      const started = performance.now();
      for (const Step of STEPS) await warm({ SecretId: arn, ClientRequestToken: token, Step }, context);
      alternatingTimes.push(performance.now() - started);
      alternatingCalls.push(counter.calls);
      alternatingLogins.push(counter.logins);
    }

    const mean = (values: number[]) =>
      Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 100) / 100;
    const result: Record<string, unknown> = {
      rotations: N,
      ...stats(times),
      secretsmanager_calls_per_rotation: mean(calls),
      db_logins_per_rotation: mean(logins),
      step_median_ms: Object.fromEntries(STEPS.map((step) => [step, stats(stepTimes[step] ?? []).median_ms])),
      alternating_users: {
        rotations: alternatingTimes.length,
        ...stats(alternatingTimes),
        secretsmanager_calls_per_rotation: mean(alternatingCalls),
        db_logins_per_rotation: mean(alternatingLogins),
      },
      cold_container: {
        rotations: coldTimes.length,
        ...stats(coldTimes),
        secretsmanager_calls_per_rotation: mean(coldCalls),
      },
    };

    try {
      const { stdout: setupOut } = await run('bash', ['bench/reference/setup.sh']);
      const python = /^python: (.+)$/m.exec(setupOut)?.[1]?.trim() ?? 'python3';
      const arns: string[] = [];
      for (let i = 0; i < N; i++) arns.push(await fixture('ref', 'rds'));
      const { stdout } = await run(
        python,
        ['bench/reference/run_template.py', '--endpoint', stack.awsEndpoint, ...arns],
        {
          maxBuffer: 16 * 1024 * 1024,
        },
      );
      const reference = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
      result.reference = {
        name: 'AWS SecretsManagerRDSPostgreSQLRotationSingleUser (Python)',
        rotations: reference.rotations,
        median_ms: reference.median_ms,
        min_ms: reference.min_ms,
        max_ms: reference.max_ms,
        secretsmanager_calls_per_rotation: reference.secretsmanager_calls_per_rotation,
        db_logins_per_rotation: reference.db_logins_per_rotation,
      };
      result.time_vs_reference =
        Math.round(((result.median_ms as number) / (reference.median_ms as number)) * 100) / 100;
    } catch (error) {
      log(`reference not run: ${(error as Error).message.split('\n')[0]}`);
      result.reference = null;
    }
    await admin.end();
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  log(`bench failed: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});
