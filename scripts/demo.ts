/**
 * The main job on a local default, with no AWS account: starts a moto server and a
 * throwaway PostgreSQL 15 (TLS on), creates the seed's `production/database/primary`
 * secret for a real database user, rotates it through the real `rotateDatabase` handler
 * (the four steps, as Secrets Manager drives them), proves the new password logs in and
 * the old one is refused, then stops everything. Prints no secret value.
 */
import { randomBytes } from 'node:crypto';
import type { Context } from 'aws-lambda';
import pg from 'pg';
import {
  checkLocalPrerequisites,
  LocalStackUnavailableError,
  startLocalStack,
} from '../test/support/local-stack.js';

const SECRET_NAME = 'production/database/primary';
const DB_USER = 'muejam_user';
const STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;

const say = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  try {
    await checkLocalPrerequisites();
  } catch (error) {
    if (error instanceof LocalStackUnavailableError) {
      process.stderr.write(`demo cannot start: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  say('starting moto server and PostgreSQL 15 (TLS, scram-sha-256)…');
  const stack = await startLocalStack({ tls: true });
  try {
    const { host, port, superuser, superuserPassword, caFile } = stack.postgres;
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: stack.awsEndpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      DB_TLS_CA_FILE: caFile,
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
    });
    // Imported once the environment is set: the handler reads it at cold start, as on Lambda.
    const {
      SecretsManagerClient,
      CreateSecretCommand,
      RotateSecretCommand,
      DescribeSecretCommand,
      GetSecretValueCommand,
    } = await import('@aws-sdk/client-secrets-manager');
    const { handler } = await import('../functions/rotate-database/handler.js');
    const sm = new SecretsManagerClient({});

    const initialPassword = randomBytes(18).toString('base64url');
    const admin = new pg.Client({
      host,
      port,
      user: superuser,
      password: superuserPassword,
      database: 'postgres',
    });
    await admin.connect();
    await admin.query(`CREATE ROLE ${DB_USER} LOGIN PASSWORD '${initialPassword}'`);
    await admin.end();
    say(`database user ${DB_USER} created on ${host}:${port}`);

    const value = {
      connection_string: `postgresql://${DB_USER}:${initialPassword}@localhost:${port}/postgres`,
      host: 'localhost',
      port: String(port),
      database: 'postgres',
      username: DB_USER,
      password: initialPassword,
      rotated_at: '2024-01-01T00:00:00Z',
    };
    const { ARN: arn } = await sm.send(
      new CreateSecretCommand({
        Name: SECRET_NAME,
        Description: 'Primary database connection',
        SecretString: JSON.stringify(value),
      }),
    );
    say(`secret ${SECRET_NAME} created (seed shape; TLS verify-full by default)`);

    // RotateSecret records the rotation and stages an empty AWSPENDING version; moto cannot
    // invoke the function (it answers 404), so the four steps are driven here, as Secrets Manager does.
    await sm
      .send(
        new RotateSecretCommand({
          SecretId: arn,
          RotationLambdaARN:
            'arn:aws:lambda:us-east-1:123456789012:function:secrets-rotation-production-rotateDatabase',
          RotationRules: { AutomaticallyAfterDays: 90 },
        }),
      )
      .catch((error: Error) => {
        if (error.name !== 'ResourceNotFoundException') throw error;
      });
    const described = await sm.send(new DescribeSecretCommand({ SecretId: arn }));
    const token = Object.entries(described.VersionIdsToStages ?? {}).find(([, s]) =>
      s?.includes('AWSPENDING'),
    )?.[0];
    if (!arn || !token) throw new Error('RotateSecret did not stage a pending version');

    const context = {
      functionName: 'rotateDatabase',
      awsRequestId: 'demo',
      getRemainingTimeInMillis: () => 60_000,
    } as Context;
    for (const Step of STEPS) {
      const started = performance.now();
      const result = (await handler({ SecretId: arn, ClientRequestToken: token, Step }, context)) as {
        outcome: string;
      };
      say(`  ${Step.padEnd(12)} ${result.outcome.padEnd(16)} ${(performance.now() - started).toFixed(0)} ms`);
    }

    const current = JSON.parse(
      (await sm.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: 'AWSCURRENT' })))
        .SecretString ?? '{}',
    ) as Record<string, string>;
    const login = async (password: string) => {
      const client = new pg.Client({
        host: 'localhost',
        port,
        user: DB_USER,
        password,
        database: 'postgres',
        ssl: {
          ca: caFile ? await import('node:fs').then((fs) => fs.readFileSync(caFile, 'utf8')) : undefined,
        },
      });
      try {
        await client.connect();
        return true;
      } catch {
        return false;
      } finally {
        await client.end().catch(() => undefined);
      }
    };
    const newWorks = await login(current.password ?? '');
    const oldWorks = await login(initialPassword);
    say(`new AWSCURRENT password logs in: ${newWorks ? 'yes' : 'NO'}`);
    say(`old password refused:            ${oldWorks ? 'NO' : 'yes'}`);
    say(`rotated_at: ${current.rotated_at}`);
    if (!newWorks || oldWorks) {
      process.exitCode = 1;
      say('demo FAILED');
    } else {
      say('demo passed: the database password was rotated end to end');
    }
  } finally {
    await stack.stop();
    say('local stack stopped');
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `demo failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`,
  );
  process.exit(1);
});
