/**
 * The documented `npx serverless invoke local` path, run as a person runs it (osls and
 * serverless-esbuild build the function, then call its handler): a configuration error ends
 * the invocation promptly with the ConfigurationError (it used to hang until killed), the
 * event is never logged, and rotateDatabase's four steps complete against the moto server and
 * PostgreSQL; the policy enforcer's dry run and run, and its worker starting the queued rotation.
 *
 * Each invocation builds the function first, so this file runs its invocations one after the
 * other (they share `.esbuild/`) and keeps their number small.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DescribeSecretCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { rotationToken } from '../../shared/enforcement/index.js';
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
  uniqueName,
  valueAt,
} from '../support/bed.js';
import { queueArn, queueUrlOf, receiveAll, sqsClient, sqsEvent } from '../support/enforcement.js';
import { createSeedSecret, uniqueEnvironment } from '../support/fleet.js';

/** Long enough for a build on a busy machine; a hang is killed here and fails the test. */
const INVOKE_TIMEOUT_MS = 60_000;

interface Invocation {
  /** Exit status; null when it was killed at the timeout. */
  readonly status: number | null;
  readonly output: string;
  readonly ms: number;
}

/**
 * Runs `serverless invoke local -f <fn> --data <event>` with extra `-e NAME=value` settings
 * and extra CLI options (e.g. `--param=…`).
 */
function invokeLocal(
  fn: string,
  event: object,
  env: Record<string, string> = {},
  options: readonly string[] = [],
): Promise<Invocation> {
  const args = ['serverless', 'invoke', 'local', '-f', fn, '--data', JSON.stringify(event), ...options];
  for (const [name, value] of Object.entries(env)) args.push('-e', `${name}=${value}`);
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      'npx',
      args,
      {
        timeout: INVOKE_TIMEOUT_MS,
        killSignal: 'SIGKILL',
        env: {
          ...process.env,
          // The README's local default: the SDK pointed at the moto server, with moto's dummy keys.
          AWS_ENDPOINT_URL: stack().awsEndpoint,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
        },
      },
      (error, stdout, stderr) => {
        const status = error ? (error.killed ? null : typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ status, output: `${stdout}\n${stderr}`, ms: Date.now() - started });
      },
    );
  });
}

const event = (Step: string, SecretId = 'production/database/primary', token = '') => ({
  SecretId,
  ClientRequestToken: token || '11111111-1111-4111-8111-111111111111',
  Step,
});

describe('serverless invoke local', () => {
  it.each([
    [
      'rotateDatabase',
      { PASSWORD_LENGTH: '8' },
      'environment variable PASSWORD_LENGTH must be an integer from 16 to 4096',
    ],
    [
      'rotateApiKey',
      { ROTATION_GRACE_PERIOD_SECONDS: 'soon' },
      'environment variable ROTATION_GRACE_PERIOD_SECONDS must be an integer',
    ],
    [
      'rotateNow',
      { ROTATE_NOW_SETTLE_SECONDS: 'soon' },
      'environment variable ROTATE_NOW_SETTLE_SECONDS must be an integer',
    ],
    [
      'complianceReport',
      { POLICY_MAX_AGE_DAYS: 'ninety' },
      'environment variable POLICY_MAX_AGE_DAYS must be an integer',
    ],
    [
      'rotationEvents',
      { ALERT_TOPIC_ARN: 'alerts' },
      'environment variable ALERT_TOPIC_ARN must be an SNS topic ARN',
    ],
    [
      'enforceRotationPolicy',
      { ENFORCE_SPREAD_SECONDS: 'soon' },
      'environment variable ENFORCE_SPREAD_SECONDS must be an integer',
    ],
    [
      'enforceRotationPolicyWorker',
      { ENFORCE_SPREAD_SECONDS: 'soon' },
      'environment variable ENFORCE_SPREAD_SECONDS must be an integer',
    ],
  ])('ends %s promptly with the ConfigurationError when a setting is invalid', async (fn, env, message) => {
    // Act
    const result = await invokeLocal(
      fn,
      fn === 'rotateNow' ? { secret: 'database/primary' } : event('createSecret'),
      env,
    );

    // Assess: it exits (not killed at the timeout), with the error as the invocation's result.
    expect(result.status, `exit status (null: killed after ${INVOKE_TIMEOUT_MS} ms)`).toBe(1);
    expect(result.output).toContain('"errorType": "ConfigurationError"');
    expect(result.output).toContain(message);
    expect(result.output).toContain('"message":"invocation failed"');
  });

  it('never logs the event, even with POWERTOOLS_LOGGER_LOG_EVENT=true', async () => {
    // Prepare: a rotation event carrying a RotationToken, for a secret that does not exist (the
    // invocation fails at once, after the logger has seen the event).
    const rotationToken = `rt-${uniqueName('token')}`;
    const probe = uniqueName('log-event-probe');

    // Act
    const result = await invokeLocal(
      'rotateApiKey',
      { ...event('createSecret', uniqueName('production/api-keys/resend')), RotationToken: rotationToken },
      { POWERTOOLS_LOGGER_LOG_EVENT: 'true', POWERTOOLS_SERVICE_NAME: probe },
    );

    // Assess: the settings reached the function's logger (its lines carry the service name set
    // beside the variable), it logged the failure, and no line holds the event.
    expect(result.status, result.output.slice(-2000)).toBe(1);
    expect(result.output).toContain(`"service":"${probe}"`);
    expect(result.output).toContain('"message":"invocation failed"');
    expect(result.output).not.toContain(rotationToken);
  });

  it("completes rotateDatabase's four steps against the moto server", async () => {
    // Prepare
    const sm = secretsManager();
    const username = uniqueName('invoke_local');
    const password = hostilePassword();
    await createRole(username, password);
    const { arn, token } = await createRotatingSecret(
      sm,
      uniqueName('production/database/invoke-local'),
      seedDatabaseSecret({ username, password }),
    );

    // Act
    const outcomes: string[] = [];
    for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) {
      const result = await invokeLocal('rotateDatabase', event(step, arn, token));
      expect(result.status, result.output.slice(-2000)).toBe(0);
      outcomes.push(/"outcome": "([\w-]+)"/.exec(result.output)?.[1] ?? 'none');
      expect(result.output).not.toContain(password);
    }

    // Assess
    expect(outcomes).toEqual(['done', 'done', 'done', 'done']);
    const after = await valueAt(sm, arn, 'AWSCURRENT');
    expect((await stagesOf(sm, arn))[token]).toEqual(['AWSCURRENT']);
    expect(await canLogin(username, after?.password ?? '')).toBe(true);
    expect(await canLogin(username, password)).toBe(false);
  });
});

describe('serverless invoke local: the policy enforcer and its worker', () => {
  it('reports a dry run, queues the overdue start, and the worker starts it, on the local default', {
    timeout: 240_000,
  }, async () => {
    // Prepare: an overdue Resend key in the seed's shape, rotation off, under an environment of its own.
    const sm = secretsManager();
    const sqs = sqsClient();
    const environment = uniqueEnvironment();
    const settings = { ENVIRONMENT: environment, ENFORCE_QUEUE_NAME: uniqueName('enforce') };
    const { arn, secrets } = await createSeedSecret(sm, `${environment}/api-keys/resend`, 'resend', {
      rotatedDaysAgo: 200,
    });
    const token = rotationToken(arn, new Date().toISOString().slice(0, 10));

    // Act: the dry run, then the run.
    const dry = await invokeLocal('enforceRotationPolicy', { dryRun: true }, settings);
    const queueAfterDryRun = await queueUrlOf(sqs, settings.ENFORCE_QUEUE_NAME);
    const run = await invokeLocal('enforceRotationPolicy', {}, settings);

    // Assess
    expect(dry.status, dry.output.slice(-2000)).toBe(0);
    expect(dry.output).toContain('"dryRun": true');
    expect(dry.output).toContain(`"versionId": "${token}"`);
    expect(queueAfterDryRun).toBeUndefined();
    expect(run.status, run.output.slice(-2000)).toBe(0);
    expect(run.output).toMatch(/"status": "queued"/);

    // Act: the worker, with the queue's message as the SQS event Lambda would deliver.
    const url = (await queueUrlOf(sqs, settings.ENFORCE_QUEUE_NAME)) ?? '';
    const messages = await receiveAll(sqs, url);
    const worker = await invokeLocal(
      'enforceRotationPolicyWorker',
      sqsEvent(messages, await queueArn(sqs, url)),
      settings,
    );

    // Assess: started with its settings set in the same call (moto's own answer to RotateSecret).
    expect(messages).toHaveLength(1);
    expect(worker.status, worker.output.slice(-2000)).toBe(0);
    expect(worker.output).toContain('"batchItemFailures": []');
    expect((await stagesOf(sm, arn))[token]).toEqual(['AWSPENDING']);
    expect(await sm.send(new DescribeSecretCommand({ SecretId: arn }))).toMatchObject({
      RotationEnabled: true,
      RotationLambdaARN:
        'arn:aws:lambda:us-east-1:123456789012:function:secrets-rotation-production-rotateApiKey',
    });
    for (const output of [dry.output, run.output, worker.output])
      for (const value of secrets) expect(output).not.toContain(value);
  });
});

/**
 * Where each function's run on the local default, to a result, is specified. A function added
 * to serverless.yml fails the first test below until it gets one.
 */
const LOCAL_DEFAULT_RUNS: Readonly<Record<string, string>> = {
  rotateDatabase: "this file: completes rotateDatabase's four steps against the moto server",
  rotateApiKey: "serverless.test.ts: rotates the seed's production/api-keys/aws through the four steps",
  rotateNow: "this file: rotates a database secret and waits, as the README's local command does",
  rotationEvents: 'this file: logs a failed rotation from the sample event',
  complianceReport: 'this file: writes the report of a manual invocation',
  enforceRotationPolicy: 'this file: reports a dry run, queues the overdue start',
  enforceRotationPolicyWorker: 'this file: the worker starts the queued rotation',
};

/** The functions serverless.yml declares (the keys under its top-level `functions:`). */
async function declaredFunctions(): Promise<string[]> {
  const yml = await readFile(join(import.meta.dirname, '..', '..', 'serverless.yml'), 'utf8');
  const section = yml.split(/^functions:\n/m)[1]?.split(/^\S/m)[0] ?? '';
  return [...section.matchAll(/^ {2}(\w+):\s*$/gm)].map((match) => match[1] ?? '');
}

describe('serverless invoke local: every function on the local default', () => {
  it('has a run to a result specified for every function of serverless.yml', async () => {
    const declared = await declaredFunctions();
    expect(declared.length).toBeGreaterThan(0);
    expect([...declared].sort()).toEqual(Object.keys(LOCAL_DEFAULT_RUNS).sort());
  });

  it("rotates a database secret and waits, as the README's local command does (ROTATION_STEP_RUNNER=in-process), printing no value", {
    timeout: 120_000,
  }, async () => {
    // Prepare: a database secret in the seed's shape, rotated once and idle (no AWSPENDING).
    const sm = secretsManager();
    const username = uniqueName('invoke_now');
    const password = hostilePassword();
    await createRole(username, password);
    const { arn, token: first } = await createRotatingSecret(
      sm,
      uniqueName('production/database/invoke-now'),
      seedDatabaseSecret({ username, password }),
    );
    await sm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: arn,
        VersionStage: 'AWSPENDING',
        RemoveFromVersionId: first,
      }),
    );

    // Act: the README's command, on the secret's full name.
    const result = await invokeLocal(
      'rotateNow',
      { secret: arn, wait: true },
      { ROTATION_STEP_RUNNER: 'in-process' },
      ['--param=rotateNowSettleSeconds=0', '--param=rotateNowRepairMinAgeSeconds=0'],
    );

    // Assess: succeeded through the steps it ran, the new password logs in, no value printed.
    expect(result.status, result.output.slice(-3000)).toBe(0);
    expect(result.output).toContain('"status": "succeeded"');
    expect(result.output).toContain('"ranBy": "rotate-now"');
    const versionId = /"versionId": "([0-9a-f-]{36})"/.exec(result.output)?.[1] ?? '';
    expect((await stagesOf(sm, arn))[versionId]).toEqual(['AWSCURRENT']);
    const after = await valueAt(sm, arn, 'AWSCURRENT');
    expect(await canLogin(username, after?.password ?? '')).toBe(true);
    expect(findLeaks(result.output, [password, after?.password ?? ''])).toEqual([]);
  });

  it('logs a failed rotation from the sample event, and says the alert was only logged (no function ARN to find the topic by)', {
    timeout: 120_000,
  }, async () => {
    // Act
    const result = await invokeLocal(
      'rotationEvents',
      JSON.parse(
        await readFile(
          join(import.meta.dirname, '..', '..', 'functions/events/rotation-failed.json'),
          'utf8',
        ),
      ),
    );

    // Assess
    expect(result.status, result.output.slice(-2000)).toBe(0);
    expect(result.output).toContain('"outcome": "failed"');
    expect(result.output).toContain('"secret": "production/database/primary"');
    expect(result.output).toContain('"alerted": false');
  });

  it('writes the report of a manual invocation to the local bucket', { timeout: 120_000 }, async () => {
    // Prepare: an environment of its own, with one overdue secret.
    const sm = secretsManager();
    const environment = uniqueEnvironment();
    const { secrets } = await createSeedSecret(sm, `${environment}/api-keys/resend`, 'resend', {
      rotatedDaysAgo: 200,
    });

    // Act
    const result = await invokeLocal('complianceReport', {}, { ENVIRONMENT: environment });

    // Assess
    expect(result.status, result.output.slice(-2000)).toBe(0);
    expect(result.output).toMatch(/"overdue": 1/);
    expect(result.output).toMatch(/"json": "s3:\/\/[^"]+\.json"/);
    expect(findLeaks(result.output, secrets)).toEqual([]);
  });
});
