import { inspect } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  IAMClient,
  ListAccessKeysCommand,
  UntagUserCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { CreateDBInstanceCommand, type RDSClient } from '@aws-sdk/client-rds';
import { GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inProcessStepInvoker } from '../../functions/lib/in-process-steps.js';
import { createPostgresRotationStrategy } from '../../functions/lib/postgres-strategy.js';
import { buildRotateApiKeyHandler } from '../../functions/rotate-api-key/handler.js';
import { buildRotateNowHandler } from '../../functions/rotate-now/handler.js';
import { METRICS_NAMESPACE } from '../../shared/alerts/index.js';
import {
  atExpression,
  KeyTestFailedError,
  SUPERSEDED_TAG_PREFIX,
  scheduleName,
} from '../../shared/api-keys/index.js';
import { createProviders } from '../../shared/api-keys/providers/index.js';
import { loadApiKeyRotationConfig, loadDatabaseRotationConfig } from '../../shared/config/index.js';
import type { PostgresConnector } from '../../shared/postgres/index.js';
import { createRollbackChecks, createRollbackRevocations } from '../../shared/rollback/index.js';
import type { RotateNowConfig, RotationReport } from '../../shared/rotate-now/index.js';
import { SecretStore } from '../../shared/rotation/index.js';
import {
  canLogin,
  captureOutput,
  createRole,
  createRotatingSecret,
  faultsFired,
  findLeaks,
  hostilePassword,
  injectFault,
  lambdaContext,
  runSteps,
  STEPS,
  secretsManager,
  seedDatabaseSecret,
  stack,
  stagesOf,
  startRotation,
  uniqueName,
  valueAt,
} from '../support/bed.js';
import {
  createAlternatingSecret,
  createMasterRole,
  openSession,
  rdsClient,
  recordingConnector,
  roleName,
  routedConnector,
  sql,
} from '../support/databases.js';
import { type FakeResend, startFakeResend } from '../support/fakes/resend-server.js';
import { startPasswordCatcher } from '../support/pg-catcher.js';
import { rejectionOf } from '../support/rejection.js';

/**
 * rotateNow end to end on moto, PostgreSQL and a fake Resend, with the production wiring for
 * local runs: the steps run through the real rotateDatabase and rotateApiKey handlers in
 * process (moto cannot invoke a Lambda), configured from the environment as on a cold start.
 */

let resend: FakeResend;
let sm: SecretsManagerClient;
let iam: IAMClient;
let output: ReturnType<typeof captureOutput>;
let seen: string[];
/** Every command rotateNow's Secrets Manager client sent: name and input. */
let sent: { command: string; input: Record<string, unknown> }[];
const savedEnv = { ...process.env };

const CONFIG: RotateNowConfig = {
  environment: 'production',
  settleMs: 0,
  pollMs: 10,
  repairMinAgeMs: 0,
  stepTimeoutMs: 60_000,
};
const GRACE_MS = 900_000;
let scheduler: SchedulerClient;

function recorded(client: SecretsManagerClient): SecretsManagerClient {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push({ command: context.commandName ?? '', input: args.input as Record<string, unknown> });
      return next(args);
    },
    { step: 'initialize', name: 'record' },
  );
  return client;
}

function rotateNow(
  options: {
    config?: Partial<RotateNowConfig>;
    sleep?: (ms: number) => Promise<void>;
    metrics?: Metrics;
    providers?: ReturnType<typeof createProviders>;
    now?: () => Date;
    /** Clients to inject faults into (rotateNow's own; the steps run on theirs). */
    secretsManager?: SecretsManagerClient;
    schedulerClient?: SchedulerClient;
    /** The database rollback check's connector and RDS client (production's by default). */
    connector?: PostgresConnector;
    rds?: RDSClient;
  } = {},
) {
  const client = recorded(options.secretsManager ?? secretsManager());
  const apiKeys = loadApiKeyRotationConfig({
    RESEND_API_URL: resend.url,
    IAM_PROPAGATION_DELAY_MS: '10',
    REVOKE_SCHEDULER_ROLE_NAME: 'revoke-scheduler',
    ROTATION_GRACE_PERIOD_SECONDS: String(GRACE_MS / 1000),
  });
  const logger = new Logger({ serviceName: 'rotate-now-e2e' });
  return buildRotateNowHandler({
    config: { ...CONFIG, ...options.config },
    secretsManager: client,
    logger,
    invoker: inProcessStepInvoker('production'),
    rollbackCheckFor: createRollbackChecks({
      store: new SecretStore(client),
      database: createPostgresRotationStrategy({
        config: loadDatabaseRotationConfig({}),
        secretsManager: client,
        logger,
        rds: options.rds ?? rdsClient(),
        ...(options.connector ? { connector: options.connector } : {}),
      }),
      providers: options.providers ?? createProviders(apiKeys, { iam }),
      iam,
    }),
    afterRollbackFor: createRollbackRevocations({
      secretsManager: client,
      schedulerClient: options.schedulerClient ?? scheduler,
      apiKeys,
      logger,
      ...(options.now ? { now: options.now } : {}),
    }),
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
}

/** The context of an invocation with 600 s of its timeout ahead. */
const DEPLOYED_CONTEXT: Context = { ...lambdaContext, getRemainingTimeInMillis: () => 600_000 };

const invoke = (handler: ReturnType<typeof rotateNow>, event: unknown, context = DEPLOYED_CONTEXT) =>
  handler(event, context);

/** The secret's tags. */
async function tagsOf(arn: string): Promise<Record<string, string>> {
  const out = await sm.send(new DescribeSecretCommand({ SecretId: arn }));
  return Object.fromEntries((out.Tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
}

/** A database role and its seed-shaped secret under production/database/, rotation configured. */
async function databaseSecret(options: { rotate?: boolean } = {}) {
  const username = uniqueName('now_user');
  const password = hostilePassword();
  seen.push(password);
  await createRole(username, password);
  const name = uniqueName('production/database/primary');
  const { arn, token } = await createRotatingSecret(
    sm,
    name,
    seedDatabaseSecret({ username, password }),
    options,
  );
  // Rotation is configured: clear RotateSecret's placeholder so that no rotation is in progress.
  if (options.rotate !== false) await unlabel(arn, token);
  return { username, password, name, arn, short: name.replace(/^production\//, '') };
}

/** An alternating-users secret (`createAlternatingSecret`), its passwords among those scanned for. */
async function alternatingSecret() {
  const made = await createAlternatingSecret(sm, 'now_app');
  seen.push(made.master.password, made.password);
  return made;
}

/** The version carrying `stage`. */
async function versionAt(arn: string, stage: string): Promise<string> {
  return Object.entries(await stagesOf(sm, arn)).find(([, stages]) => stages.includes(stage))?.[0] ?? '';
}

/** Secrets Manager commands rotateNow sent that change a secret. */
const writes = () =>
  sent
    .map((call) => call.command)
    .filter((command) => !/^(Describe|Get|List|BatchGet)/.test(command.replace(/Command$/, '')));

async function unlabel(arn: string, token: string): Promise<void> {
  await sm.send(
    new UpdateSecretVersionStageCommand({
      SecretId: arn,
      VersionStage: 'AWSPENDING',
      RemoveFromVersionId: token,
    }),
  );
}

/** A Resend key and its secret under production/api-keys/ (tagged, so the name may be unique). */
async function resendSecret() {
  const keyName = uniqueName('prod');
  const { id, token } = resend.seedKey({ name: keyName, permission: 'full_access' });
  const name = uniqueName('production/api-keys/resend');
  const { ARN: arn = '' } = await sm.send(
    new CreateSecretCommand({
      Name: name,
      SecretString: JSON.stringify({
        api_key: token,
        api_key_id: id,
        api_key_name: keyName,
        rotated_at: '2024-01-01T00:00:00Z',
      }),
      Tags: [{ Key: 'rotation-provider', Value: 'resend' }],
    }),
  );
  await unlabel(arn, await startRotation(sm, arn));
  return { name, arn, id, token };
}

beforeAll(async () => {
  resend = await startFakeResend();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: stack().awsEndpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    RESEND_API_URL: resend.url,
    IAM_PROPAGATION_DELAY_MS: '10',
    POWERTOOLS_LOG_LEVEL: 'WARN',
  });
  sm = secretsManager();
  scheduler = new SchedulerClient({
    region: 'us-east-1',
    endpoint: stack().awsEndpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  iam = new IAMClient({
    region: 'us-east-1',
    endpoint: stack().awsEndpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});

afterAll(async () => {
  process.env = savedEnv;
  await resend.close();
});

beforeEach(() => {
  seen = [];
  sent = [];
  output = captureOutput();
});

afterEach(() => {
  output.stop();
  expect(
    findLeaks(output.text(), [...seen, ...resend.issuedTokens()]),
    'secret values in captured output',
  ).toEqual([]);
});

describe('rotateNow: starting a rotation', () => {
  it('starts a rotation of a short name at once, with the environment prefix added', async () => {
    const { name, arn, short } = await databaseSecret();
    const before = await valueAt(sm, arn, 'AWSCURRENT');

    const result = await invoke(rotateNow(), { secret: short });

    expect(result).toMatchObject({ action: 'rotate', secret: name, status: 'started' });
    const versionId = (result as RotationReport).versionId;
    const rotate = sent.find((call) => call.command === 'RotateSecretCommand');
    expect(rotate?.input).toEqual({
      SecretId: arn,
      ClientRequestToken: versionId,
      RotationLambdaARN: 'arn:aws:lambda:us-east-1:123456789012:function:rotateDatabase',
      RotateImmediately: true,
    });
    expect((await stagesOf(sm, arn))[versionId]).toEqual(['AWSPENDING']);
    expect(await valueAt(sm, arn, 'AWSCURRENT')).toEqual(before);
  });

  it('takes a full name or an ARN as well', async () => {
    const first = await databaseSecret();
    const second = await databaseSecret();

    const byName = await invoke(rotateNow(), { secret: first.name });
    const byArn = await invoke(rotateNow(), { secret: second.arn });

    expect(byName).toMatchObject({ secret: first.name, status: 'started' });
    expect(byArn).toMatchObject({ secret: second.name, status: 'started' });
  });

  it('with wait, runs the steps when Secrets Manager has not, and reports the new version and its rotated_at', async () => {
    const { username, arn, short } = await databaseSecret();

    const result = (await invoke(rotateNow(), { secret: short, wait: true })) as RotationReport;

    const current = await valueAt(sm, arn, 'AWSCURRENT');
    seen.push(current?.password ?? '');
    expect(result).toMatchObject({
      status: 'succeeded',
      ranBy: 'rotate-now',
      // The stamp as an ISO 8601 date (normalized: nothing but a date leaves the value).
      rotated_at: new Date(current?.rotated_at ?? '').toISOString(),
    });
    expect((await stagesOf(sm, arn))[result.versionId]).toEqual(['AWSCURRENT']);
    expect(await canLogin(username, current?.password ?? '')).toBe(true);
    expect(Object.keys(result).sort()).toEqual([
      'action',
      'ranBy',
      'rotated_at',
      'secret',
      'status',
      'versionId',
    ]);
  });

  it('with wait, reports a rotation Secrets Manager finished during the settle time without running a step', async () => {
    const { arn, short } = await databaseSecret();
    const { handler: rotateDatabase } = await import('../../functions/rotate-database/handler.js');
    let polls = 0;
    // Secrets Manager runs the four steps while rotateNow waits (its first sleep).
    const sleep = async () => {
      if (polls++ > 0) return;
      const token =
        Object.entries(await stagesOf(sm, arn)).find(([, s]) => s.includes('AWSPENDING'))?.[0] ?? '';
      await runSteps(rotateDatabase, arn, token);
    };

    const result = await invoke(rotateNow({ config: { settleMs: 60_000 }, sleep }), {
      secret: short,
      wait: true,
    });

    seen.push((await valueAt(sm, arn, 'AWSCURRENT'))?.password ?? '');
    expect(polls).toBe(1);
    expect(result).toMatchObject({ status: 'succeeded', ranBy: 'secrets-manager' });
  });

  it.each([
    ['not JSON', (planted: string) => `${planted} {"rotated_at": "2026-01-01T00:00:00Z"`],
    ['a rotated_at that is not a date', (planted: string) => JSON.stringify({ rotated_at: planted })],
  ])(
    'with wait, reports a value that is %s as succeeded, with no rotated_at and nothing of the value',
    async (_what, storedValue) => {
      // Prepare: Secrets Manager runs the secret's own rotation function (not this product's),
      // which stores a value of its own shape and promotes it, while rotateNow waits.
      const { arn, short } = await databaseSecret();
      const planted = `PLANTED\u0000\r\n${uniqueName('value')}`;
      seen.push(planted);
      const sleep = async () => {
        const stages = await stagesOf(sm, arn);
        const token = Object.entries(stages).find(([, s]) => s.includes('AWSPENDING'))?.[0];
        const current = Object.entries(stages).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
        if (!token || token === current) return;
        await sm.send(
          new PutSecretValueCommand({
            SecretId: arn,
            ClientRequestToken: token,
            SecretString: storedValue(planted),
            VersionStages: ['AWSPENDING'],
          }),
        );
        await sm.send(
          new UpdateSecretVersionStageCommand({
            SecretId: arn,
            VersionStage: 'AWSCURRENT',
            MoveToVersionId: token,
            RemoveFromVersionId: current,
          }),
        );
        await unlabel(arn, token);
      };

      // Act
      const result = await invoke(rotateNow({ config: { settleMs: 60_000 }, sleep }), {
        secret: short,
        wait: true,
      });

      // Assess
      expect(result).toMatchObject({ status: 'succeeded', ranBy: 'secrets-manager' });
      expect(result).not.toHaveProperty('rotated_at');
      expect(findLeaks(JSON.stringify(result), [planted])).toEqual([]);
    },
  );

  it('with wait, runs no step it has no time left to finish, and reports the rotation as in progress', async () => {
    // Prepare: 200 s left of the invocation, less than four steps of 60 s may take.
    const { arn, short } = await databaseSecret();
    const before = await valueAt(sm, arn, 'AWSCURRENT');
    const context: Context = { ...lambdaContext, getRemainingTimeInMillis: () => 200_000 };

    // Act
    const result = (await invoke(rotateNow(), { secret: short, wait: true }, context)) as RotationReport;

    // Assess: the rotation was started and left to Secrets Manager, and the result says so.
    expect(result).toMatchObject({
      status: 'in-progress',
      ranBy: 'secrets-manager',
      reason: expect.stringMatching(/200 s left.*less than the 250 s.*\{"repair": true/),
    });
    expect(result.reason).toContain(`version ${result.versionId}`);
    expect((await stagesOf(sm, arn))[result.versionId]).toEqual(['AWSPENDING']);
    expect(await valueAt(sm, arn, 'AWSPENDING')).toBeUndefined();
    expect(await valueAt(sm, arn, 'AWSCURRENT')).toEqual(before);
  });

  it("with wait, cuts the settle time short to keep the four steps inside the function's timeout", async () => {
    // Prepare: a settle time as long as the timeout; the invocation's clock advances as rotateNow sleeps.
    const { username, arn, short } = await databaseSecret();
    let elapsed = 0;
    const sleep = async (ms: number) => {
      elapsed += ms;
    };
    const context: Context = { ...lambdaContext, getRemainingTimeInMillis: () => 600_000 - elapsed };
    const now = () => new Date(Date.UTC(2026, 10, 30) + elapsed);

    // Act
    const result = (await invoke(
      rotateNow({ config: { settleMs: 600_000, pollMs: 2000 }, sleep, now }),
      { secret: short, wait: true },
      context,
    )) as RotationReport;

    // Assess: it waited only until 250 s were left, then ran the steps itself.
    const current = await valueAt(sm, arn, 'AWSCURRENT');
    seen.push(current?.password ?? '');
    expect(elapsed).toBe(350_000);
    expect(result).toMatchObject({ status: 'succeeded', ranBy: 'rotate-now' });
    expect(await canLogin(username, current?.password ?? '')).toBe(true);
  });

  it('with wait, reports the step that failed and why, and leaves AWSCURRENT as it was', async () => {
    const { arn, short } = await databaseSecret();
    // The database moved and nobody told the secret: setSecret cannot reach it.
    const broken = { ...(await valueAt(sm, arn, 'AWSCURRENT')), host: '127.0.0.1', port: '1' };
    await sm.send(new PutSecretValueCommand({ SecretId: arn, SecretString: JSON.stringify(broken) }));

    const result = await invoke(rotateNow(), { secret: short, wait: true });

    expect(result).toMatchObject({
      status: 'failed',
      failure: {
        step: 'setSecret',
        errorType: 'DatabaseUnavailableError',
        message: expect.stringContaining('127.0.0.1:1'),
      },
    });
    expect(await valueAt(sm, arn, 'AWSCURRENT')).toEqual(broken);
  });
});

describe('rotateNow: bad input changes nothing', () => {
  it('refuses malformed input with a typed error naming the field', async () => {
    const errors = [
      await rejectionOf(invoke(rotateNow(), 'database/primary')),
      await rejectionOf(invoke(rotateNow(), { secret: 'database/primary', wait: 'yes' })),
      await rejectionOf(invoke(rotateNow(), { secret: 'database/primary', rolback: true })),
    ];

    expect(errors.map((error) => error.name)).toEqual(Array(3).fill('InvalidRotateNowInputError'));
    expect(errors.map((error) => error.message)).toEqual([
      expect.stringContaining('must be a JSON object'),
      expect.stringContaining('wait must be true or false'),
      expect.stringContaining('unknown field "rolback"'),
    ]);
    expect(sent).toEqual([]);
  });

  it('refuses a secret outside the managed prefixes before calling AWS', async () => {
    const error = await rejectionOf(invoke(rotateNow(), { secret: 'rotation/google-service-account' }));

    expect(error.name).toBe('UnmanagedSecretError');
    expect(sent).toEqual([]);
  });

  it('refuses an unmanaged secret named by ARN once its name is known', async () => {
    const { ARN: arn = '' } = await sm.send(
      new CreateSecretCommand({ Name: uniqueName('production/rotation/admin'), SecretString: '{}' }),
    );

    const error = await rejectionOf(invoke(rotateNow(), { secret: arn }));

    expect(error.name).toBe('UnmanagedSecretError');
    expect(sent.map((call) => call.command)).toEqual(['DescribeSecretCommand']);
  });

  it('says an unknown secret does not exist', async () => {
    const error = await rejectionOf(invoke(rotateNow(), { secret: 'database/does-not-exist' }));

    expect(error.name).toBe('SecretNotFoundError');
    expect(error.message).toContain('production/database/does-not-exist');
  });

  it('refuses a secret whose rotation is not configured, starting nothing', async () => {
    const { arn, short } = await databaseSecret({ rotate: false });

    const error = await rejectionOf(invoke(rotateNow(), { secret: short }));

    expect(error.name).toBe('RotationNotConfiguredError');
    expect(error.message).toContain('aws secretsmanager rotate-secret');
    // The policy's schedule: a 90-day one would be reported as schedule-too-long.
    expect(error.message).toContain('--rotation-rules AutomaticallyAfterDays=75');
    expect(Object.values(await stagesOf(sm, arn)).flat()).toEqual(['AWSCURRENT']);
  });

  it('refuses a rotation in progress, pointing at repair', async () => {
    const { arn, short } = await databaseSecret();
    const token = await startRotation(sm, arn);
    const before = await stagesOf(sm, arn);

    const error = await rejectionOf(invoke(rotateNow(), { secret: short }));

    expect(error.name).toBe('RotationInProgressError');
    expect(error.message).toContain(`AWSPENDING is on version ${token}`);
    expect(error.message).toContain('{"repair": true}');
    expect(await stagesOf(sm, arn)).toEqual(before);
  });

  it('says a rotation started meanwhile is in progress, pointing at repair, when Secrets Manager refuses the start', async () => {
    // Prepare: another rotation starts between rotateNow's check and its RotateSecret (the
    // schedule, or a second person), and Secrets Manager refuses this one, as AWS does while
    // AWSPENDING is on another version (moto would move the label instead).
    const { arn, short } = await databaseSecret();
    const client = secretsManager();
    let other = '';
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'RotateSecretCommand') return next(args);
        other = await startRotation(sm, arn);
        throw Object.assign(
          new Error("A previous rotation isn't complete. That rotation will be reattempted."),
          { name: 'InvalidRequestException', $fault: 'client', $metadata: { httpStatusCode: 400 } },
        );
      },
      { step: 'initialize', name: 'concurrentRotation' },
    );

    // Act
    const error = await rejectionOf(invoke(rotateNow({ secretsManager: client }), { secret: short }));

    // Assess
    expect(other, 'the concurrent rotation started').not.toBe('');
    expect(error.name).toBe('RotationInProgressError');
    expect(error.message).toContain(`AWSPENDING is on version ${other}`);
    expect(error.message).toContain('{"repair": true}');
    expect((await stagesOf(sm, arn))[other]).toEqual(['AWSPENDING']);
  });
});

describe('rotateNow: repair', () => {
  it('clears a stuck placeholder first, then starts the rotation, and counts the repair', async () => {
    const { arn, short } = await databaseSecret();
    const stuck = await startRotation(sm, arn);
    const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'rotate-now-e2e' });

    const result = await invoke(rotateNow({ metrics }), { secret: short, repair: true, wait: true });

    seen.push((await valueAt(sm, arn, 'AWSCURRENT'))?.password ?? '');
    expect(result).toMatchObject({
      status: 'succeeded',
      repair: { status: 'repaired', action: 'unlabel-placeholder', versionId: stuck },
    });
    expect((await stagesOf(sm, arn))[stuck]).toEqual([]);
    expect(output.text()).toMatch(/"RotationsRepaired":1/);
  });

  it('leaves a stuck rotation younger than the minimum age alone, and says so', async () => {
    const { arn, short } = await databaseSecret();
    await startRotation(sm, arn);
    const before = await stagesOf(sm, arn);

    const error = await rejectionOf(
      invoke(rotateNow({ config: { repairMinAgeMs: 300_000 } }), { secret: short, repair: true }),
    );

    expect(error.name).toBe('RotationInProgressError');
    expect(error.message).toMatch(/younger than the 5 min/);
    expect(await stagesOf(sm, arn)).toEqual(before);
  });
});

describe('rotateNow: rollback', () => {
  it('refuses a single-user database rollback: the old password no longer logs in', async () => {
    const { arn, short, password, username } = await databaseSecret();
    await invoke(rotateNow(), { secret: short, wait: true });
    seen.push((await valueAt(sm, arn, 'AWSCURRENT'))?.password ?? '');
    const before = await stagesOf(sm, arn);

    const error = await rejectionOf(invoke(rotateNow(), { secret: short, rollback: true }));

    expect(error.name).toBe('RollbackRefusedError');
    expect(error.message).toMatch(
      /AWSPREVIOUS password no longer logs in to .*single-user rotation replaces the old password/,
    );
    expect(await stagesOf(sm, arn)).toEqual(before);
    expect(await canLogin(username, password)).toBe(false);
  });

  it('rolls a Resend key back inside its grace period, once: a second rollback is refused', async () => {
    const { name, arn, id, token } = await resendSecret();
    const rotated = (await invoke(rotateNow(), { secret: name, wait: true })) as RotationReport;
    const previousId =
      Object.entries(await stagesOf(sm, arn)).find(([, s]) => s.includes('AWSPREVIOUS'))?.[0] ?? '';

    const result = await invoke(rotateNow(), { secret: name, rollback: true });

    expect(result).toMatchObject({
      action: 'rollback',
      secret: name,
      versionId: previousId,
      previousVersionId: rotated.versionId,
      rotated_at: '2024-01-01T00:00:00Z',
      proof: "the AWSPREVIOUS key passes the resend provider's test",
      reactivated: [],
    });
    expect(await stagesOf(sm, arn)).toMatchObject({
      [previousId]: ['AWSCURRENT'],
      [rotated.versionId]: ['AWSPREVIOUS'],
    });
    expect((await valueAt(sm, arn, 'AWSCURRENT'))?.api_key).toBe(token);
    expect(resend.keys().some((key) => key.id === id)).toBe(true);
    const again = await rejectionOf(invoke(rotateNow(), { secret: name, rollback: true }));
    expect(again.message).toContain('is not older than AWSCURRENT');
  });

  it("records when the rolled-back key stopped being AWSCURRENT, drops the restored version's record, and schedules the revocation", async () => {
    // Prepare: k1 rotated to k2 (the rotation recorded k1's version as superseded).
    const { name, arn } = await resendSecret();
    const rotated = (await invoke(rotateNow(), { secret: name, wait: true })) as RotationReport;
    const restored =
      Object.entries(await stagesOf(sm, arn)).find(([, s]) => s.includes('AWSPREVIOUS'))?.[0] ?? '';
    expect(Object.keys(await tagsOf(arn))).toContain(`${SUPERSEDED_TAG_PREFIX}${restored}`);
    const at = new Date(Math.floor(Date.now() / 1000) * 1000 + 250);

    // Act
    const result = await invoke(rotateNow({ now: () => at }), { secret: name, rollback: true });

    // Assess: the demoted version (k2) is AWSPREVIOUS with its record and schedule; k1's version,
    // current again, has no record left that could count for it later.
    const revokeAt = new Date(at.getTime() + GRACE_MS);
    expect(result).toMatchObject({
      action: 'rollback',
      versionId: restored,
      previousVersionId: rotated.versionId,
      revocation: {
        versionId: rotated.versionId,
        status: 'scheduled',
        supersededAt: at.toISOString(),
        revokeAt: revokeAt.toISOString(),
      },
    });
    expect((await stagesOf(sm, arn))[rotated.versionId]).toEqual(['AWSPREVIOUS']);
    const tags = await tagsOf(arn);
    expect(tags[`${SUPERSEDED_TAG_PREFIX}${rotated.versionId}`]).toBe(`${at.toISOString()} ${restored}`);
    expect(Object.keys(tags)).not.toContain(`${SUPERSEDED_TAG_PREFIX}${restored}`);
    const request = { action: 'revoke' as const, SecretId: arn, VersionId: rotated.versionId };
    const schedule = await scheduler.send(
      new GetScheduleCommand({ Name: scheduleName(request), GroupName: 'default' }),
    );
    const target = (await sm.send(new DescribeSecretCommand({ SecretId: arn }))).RotationLambdaARN;
    expect(schedule.ScheduleExpression).toBe(atExpression(revokeAt));
    expect(schedule.Target?.Arn).toBe(target);
    expect(schedule.Target?.RoleArn).toBe('arn:aws:iam::123456789012:role/revoke-scheduler');
    expect(JSON.parse(schedule.Target?.Input ?? '{}')).toEqual(request);
  });

  it.each([
    ['the record cannot be written', 'TagResourceCommand', 'failed'],
    ['the schedule cannot be made', 'CreateScheduleCommand', 'recorded'],
  ])(
    'rolls back all the same when %s, and says so in the result and an error line',
    async (_label, command, status) => {
      // Prepare
      const { name, arn } = await resendSecret();
      const rotated = (await invoke(rotateNow(), { secret: name, wait: true })) as RotationReport;
      const faulty =
        command === 'TagResourceCommand'
          ? { secretsManager: injectFault(secretsManager(), command, 'before') }
          : {
              schedulerClient: injectFault(
                new SchedulerClient({
                  region: 'us-east-1',
                  endpoint: stack().awsEndpoint,
                  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
                }),
                command,
                'before',
              ),
            };

      // Act
      const result = await invoke(rotateNow(faulty), { secret: name, rollback: true });

      // Assess: the fault fired; AWSCURRENT is back; the result and an ERROR line say what was not done.
      expect(faultsFired(Object.values(faulty)[0] as object)).toBe(1);
      expect((await stagesOf(sm, arn))[rotated.versionId]).toEqual(['AWSPREVIOUS']);
      expect(result).toMatchObject({
        action: 'rollback',
        revocation: {
          versionId: rotated.versionId,
          status,
          reason: expect.stringContaining('the next rotation'),
        },
      });
      const line = output
        .text()
        .split('\n')
        .find((l) => l.includes('rollback: revocation of the demoted version not scheduled'));
      expect(JSON.parse(line ?? '{}')).toMatchObject({ level: 'ERROR', versionId: rotated.versionId });
    },
  );

  it('keeps a key a whole grace period after it last stopped being AWSCURRENT: rolled back, then rolled forward by hand', async () => {
    // Prepare: k1 superseded by k2 at t0 (rotateApiKey with a clock); rolled back at t0 + 5 min.
    const { name, arn, id: k1 } = await resendSecret();
    let clock = Date.parse('2030-02-01T00:00:00Z');
    const t0 = clock;
    const cfg = loadApiKeyRotationConfig({
      RESEND_API_URL: resend.url,
      ROTATION_GRACE_PERIOD_SECONDS: String(GRACE_MS / 1000),
    });
    const rotateApiKey = buildRotateApiKeyHandler({
      config: cfg,
      secretsManager: sm,
      logger: new Logger({ serviceName: 'rotate-now-e2e' }),
      providers: createProviders(cfg),
      now: () => new Date(clock),
    });
    const v1 = Object.entries(await stagesOf(sm, arn)).find(([, s]) => s.includes('AWSCURRENT'))?.[0] ?? '';
    const v2 = await startRotation(sm, arn);
    await runSteps(rotateApiKey, arn, v2);
    seen.push(String((await valueAt(sm, arn, 'AWSCURRENT'))?.api_key ?? ''));
    clock = t0 + 5 * 60_000;
    await invoke(rotateNow({ now: () => new Date(clock) }), { secret: name, rollback: true });
    // t0 + 10 min: rolled forward by hand (rotateNow refuses a second rollback).
    clock = t0 + 10 * 60_000;
    await sm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: arn,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: v2,
        RemoveFromVersionId: v1,
      }),
    );
    expect((await stagesOf(sm, arn))[v1]).toEqual(['AWSPREVIOUS']);

    // Act: the revocation scheduled at the first finish fires at t0 + grace.
    clock = t0 + GRACE_MS + 1000;
    const refused = await rejectionOf(
      rotateApiKey({ action: 'revoke', SecretId: arn, VersionId: v1 }, lambdaContext),
    );

    // Assess: refused (no record counts for v1 any more), and k1 is live.
    expect(refused.name).toBe('GracePeriodNotOverError');
    expect(refused.message).toContain('there is no record of when version');
    expect(resend.keys().map((key) => key.id)).toContain(k1);
  });

  it('refuses to roll back to a Resend key that was revoked, changing nothing', async () => {
    const { name, arn, id } = await resendSecret();
    await invoke(rotateNow(), { secret: name, wait: true });
    const current = await valueAt(sm, arn, 'AWSCURRENT');
    await fetch(`${resend.url}/api-keys/${id}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${current?.api_key}` },
    });
    const before = await stagesOf(sm, arn);

    const error = await rejectionOf(invoke(rotateNow(), { secret: name, rollback: true }));

    expect(error.name).toBe('RollbackRefusedError');
    expect(error.message).toMatch(/AWSPREVIOUS key no longer works .*was refused: HTTP 40[03]/);
    expect(await stagesOf(sm, arn)).toEqual(before);
  });

  describe('of an IAM access key', () => {
    async function awsSecret() {
      const userName = uniqueName('app-s3');
      await iam.send(new CreateUserCommand({ UserName: userName, Path: '/app/' }));
      const key = (await iam.send(new CreateAccessKeyCommand({ UserName: userName }))).AccessKey;
      seen.push(key?.SecretAccessKey ?? '');
      const name = uniqueName('production/api-keys/aws');
      const { ARN: arn = '' } = await sm.send(
        new CreateSecretCommand({
          Name: name,
          SecretString: JSON.stringify({
            access_key_id: key?.AccessKeyId,
            secret_access_key: key?.SecretAccessKey,
            rotated_at: '2024-01-01T00:00:00Z',
          }),
          Tags: [{ Key: 'rotation-provider', Value: 'aws' }],
        }),
      );
      const placeholder = await startRotation(sm, arn);
      await unlabel(arn, placeholder);
      await invoke(rotateNow(), { secret: name, wait: true });
      seen.push((await valueAt(sm, arn, 'AWSCURRENT'))?.secret_access_key ?? '');
      const oldKey = key?.AccessKeyId ?? '';
      // Its revocation deactivated the old key (as the revoke input does after the grace period).
      await iam.send(
        new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: oldKey, Status: 'Inactive' }),
      );
      return { name, arn, userName, oldKey };
    }
    const statusOf = async (userName: string, keyId: string) =>
      (await iam.send(new ListAccessKeysCommand({ UserName: userName }))).AccessKeyMetadata?.find(
        (key) => key.AccessKeyId === keyId,
      )?.Status;

    it('reactivates the deactivated key AWSPREVIOUS holds, proves it works, and makes it current again', async () => {
      const { name, arn, userName, oldKey } = await awsSecret();

      const result = await invoke(rotateNow(), { secret: name, rollback: true });

      expect(result).toMatchObject({ action: 'rollback', reactivated: [expect.stringMatching(/…/)] });
      expect(await statusOf(userName, oldKey)).toBe('Active');
      expect((await valueAt(sm, arn, 'AWSCURRENT'))?.access_key_id).toBe(oldKey);
    });

    it('deactivates the key again when it fails its test after reactivation, changing nothing else', async () => {
      const { name, arn, userName, oldKey } = await awsSecret();
      const providers = new Map(createProviders(loadApiKeyRotationConfig({}), { iam }));
      const realAws = providers.get('aws');
      if (!realAws) throw new Error('no aws provider');
      let tested = 0;
      providers.set('aws', {
        ...realAws,
        test: async () => {
          tested++;
          throw new KeyTestFailedError('aws', 'STS refused the access key (InvalidClientTokenId)');
        },
      });
      const before = await stagesOf(sm, arn);

      const error = await rejectionOf(invoke(rotateNow({ providers }), { secret: name, rollback: true }));

      expect(tested).toBe(1);
      expect(error.name).toBe('RollbackRefusedError');
      expect(await statusOf(userName, oldKey)).toBe('Inactive');
      expect(await stagesOf(sm, arn)).toEqual(before);
    });

    it('refuses to reactivate an inactive key whose ownership tag does not name this secret, changing nothing', async () => {
      // Prepare: the first rotation proved the old key by signing in and tagged the user; drop that proof.
      const { name, arn, userName, oldKey } = await awsSecret();
      await iam.send(new UntagUserCommand({ UserName: userName, TagKeys: [`rotation-key:${oldKey}`] }));
      const before = await stagesOf(sm, arn);

      // Act
      const error = await rejectionOf(invoke(rotateNow(), { secret: name, rollback: true }));

      // Assess
      expect(error.name).toBe('RollbackRefusedError');
      expect(error.message).toContain('cannot be proven to be this secret');
      expect(await statusOf(userName, oldKey)).toBe('Inactive');
      expect(await stagesOf(sm, arn)).toEqual(before);
    });

    it('refuses when IAM no longer has the key', async () => {
      const { name, arn, userName, oldKey } = await awsSecret();
      await iam.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: oldKey }));
      const before = await stagesOf(sm, arn);

      const error = await rejectionOf(invoke(rotateNow(), { secret: name, rollback: true }));

      expect(error.message).toMatch(/IAM no longer has the AWSPREVIOUS access key/);
      expect(error.message).not.toContain(oldKey);
      expect(await stagesOf(sm, arn)).toEqual(before);
    });
  });
});

describe("rotateNow: rollback of a database secret, tested by the rotation function's own strategy", () => {
  /** Everything a caller or a log could see of a result or an error, its causes included. */
  const visible = (value: unknown) => inspect(value, { depth: 20 });

  it("rolls an alternating-users secret back: AWSPREVIOUS's login still logs in, and is current again", async () => {
    // Prepare: one rotation made the clone current; the original keeps its password.
    const s = await alternatingSecret();
    const rotated = (await invoke(rotateNow(), { secret: s.name, wait: true })) as RotationReport;
    const flipped = await valueAt(sm, s.arn, 'AWSCURRENT');
    seen.push(flipped?.password ?? '');
    expect(flipped?.username).toBe(s.clone);
    const previousId = await versionAt(s.arn, 'AWSPREVIOUS');

    // Act
    const result = await invoke(rotateNow(), { secret: s.name, rollback: true });

    // Assess: the original's version is current again, its login works, and so does the clone's.
    expect(result).toEqual({
      action: 'rollback',
      secret: s.name,
      versionId: previousId,
      previousVersionId: rotated.versionId,
      rotated_at: '2024-01-01T00:00:00Z',
      proof: expect.stringMatching(
        new RegExp(
          `^the AWSPREVIOUS login "${s.username}" logs in to .* and passes the alternating-users test$`,
        ),
      ),
      reactivated: [],
      demoted: expect.stringContaining(
        `the other login "${s.clone}" keeps its password, as after any alternating rotation, until the next rotation sets a new one on it`,
      ),
    });
    expect(await stagesOf(sm, s.arn)).toMatchObject({
      [previousId]: ['AWSCURRENT'],
      [rotated.versionId]: ['AWSPREVIOUS'],
    });
    const current = await valueAt(sm, s.arn, 'AWSCURRENT');
    expect(current).toMatchObject({ username: s.username, password: s.password });
    expect(await canLogin(s.username, s.password)).toBe(true);
    expect(await canLogin(s.clone, flipped?.password ?? '')).toBe(true);
    expect(findLeaks(visible(result), seen)).toEqual([]);
  });

  it("keeps AWSCURRENT's login working through a rollback and the whole next rotation, which sets a new password on the other login only", async () => {
    // Prepare: rotated once (the clone current), then rolled back (the original current again).
    const s = await alternatingSecret();
    await invoke(rotateNow(), { secret: s.name, wait: true });
    const demoted = await valueAt(sm, s.arn, 'AWSCURRENT');
    seen.push(demoted?.password ?? '');
    await invoke(rotateNow(), { secret: s.name, rollback: true });
    const app = await openSession(s.username, s.password);
    const { handler: rotateDatabase } = await import('../../functions/rotate-database/handler.js');
    const appStillWorks = async (when: string) => {
      const current = await valueAt(sm, s.arn, 'AWSCURRENT');
      expect(await canLogin(current?.username ?? '', current?.password ?? ''), `AWSCURRENT ${when}`).toBe(
        true,
      );
      expect(await canLogin(s.username, s.password), `the rolled-back credential ${when}`).toBe(true);
      expect((await app.query('SELECT 1 AS one')).rows[0]?.one, `the open session ${when}`).toBe(1);
    };
    await appStillWorks('after the rollback');

    // Act: rotateNow starts the next rotation; its four steps run through the real rotateDatabase handler.
    const started = (await invoke(rotateNow(), { secret: s.name })) as RotationReport;
    for (const step of STEPS) {
      await runSteps(rotateDatabase, s.arn, started.versionId, [step]);
      await appStillWorks(`after ${step}`);
    }

    // Assess: the rotation set a new password on the clone (the demoted login), never on the original.
    const next = await valueAt(sm, s.arn, 'AWSCURRENT');
    seen.push(next?.password ?? '');
    expect((await stagesOf(sm, s.arn))[started.versionId]).toEqual(['AWSCURRENT']);
    expect(next?.username).toBe(s.clone);
    expect(next?.password).not.toBe(demoted?.password);
    expect(await valueAt(sm, s.arn, 'AWSPREVIOUS')).toMatchObject({
      username: s.username,
      password: s.password,
    });
    expect(await canLogin(s.clone, demoted?.password ?? '')).toBe(false);
    await app.end();
  });

  it("refuses an alternating-users rollback when AWSPREVIOUS's login was changed out of band, changing nothing", async () => {
    // Prepare: rotated once; then someone changed the original's password by hand.
    const s = await alternatingSecret();
    await invoke(rotateNow(), { secret: s.name, wait: true });
    seen.push((await valueAt(sm, s.arn, 'AWSCURRENT'))?.password ?? '');
    const byHand = hostilePassword();
    seen.push(byHand);
    await sql(`ALTER ROLE ${s.username} PASSWORD '${byHand.replaceAll("'", "''")}'`);
    const before = await stagesOf(sm, s.arn);
    sent = [];

    // Act
    const error = await rejectionOf(invoke(rotateNow(), { secret: s.name, rollback: true }));

    // Assess
    expect(error.name).toBe('RollbackRefusedError');
    expect(error.message).toMatch(
      new RegExp(
        `the AWSPREVIOUS login "${s.username}" no longer logs in to .*its password was changed since that version was current.*Nothing was changed\\. Rotate again instead`,
      ),
    );
    expect(await stagesOf(sm, s.arn)).toEqual(before);
    expect(writes()).toEqual([]);
    expect(await canLogin(s.username, byHand)).toBe(true);
    expect(findLeaks(visible(error), seen)).toEqual([]);
  });

  it("refuses an alternating-users rollback while the clone owns an object (the strategy's test), saying what to run", async () => {
    // Prepare: rotated once; then a table was given to the clone, whose sessions run as the original.
    const s = await alternatingSecret();
    await invoke(rotateNow(), { secret: s.name, wait: true });
    seen.push((await valueAt(sm, s.arn, 'AWSCURRENT'))?.password ?? '');
    const table = roleName('owned');
    await sql(`CREATE TABLE public.${table} (id int)`, `ALTER TABLE public.${table} OWNER TO ${s.clone}`);
    const before = await stagesOf(sm, s.arn);
    sent = [];

    // Act
    const error = await rejectionOf(invoke(rotateNow(), { secret: s.name, rollback: true }));

    // Assess
    expect(error.name).toBe('RollbackRefusedError');
    expect(error.message).toContain(
      `the AWSPREVIOUS login "${s.username}" fails the rotation's test (role "${s.clone}" owns`,
    );
    expect(error.message).toContain(`REASSIGN OWNED BY "${s.clone}" TO "${s.username}"`);
    expect(await stagesOf(sm, s.arn)).toEqual(before);
    expect(writes()).toEqual([]);
    await sql(`DROP TABLE public.${table}`);
  });

  it('refuses an RDS master secret before any login, with the reason, calling nothing that changes state', async () => {
    // Prepare: an RDS instance (moto) whose master user is a real role; its secret was rotated
    // through ModifyDBInstance (a new AWSCURRENT), so AWSPREVIOUS holds the replaced password.
    const master = await createMasterRole();
    const replaced = hostilePassword();
    seen.push(master.password, replaced);
    const rds = rdsClient();
    const rdsCalls: string[] = [];
    rds.middlewareStack.add(
      (next, context) => async (args) => {
        rdsCalls.push(context.commandName ?? '');
        return next(args);
      },
      { step: 'initialize', name: 'recordRds' },
    );
    const id = uniqueName('production-db');
    const created = await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: id,
        Engine: 'postgres',
        DBInstanceClass: 'db.t3.micro',
        MasterUsername: master.username,
        MasterUserPassword: 'unused-by-moto',
        AllocatedStorage: 20,
        Port: stack().postgres.port,
      }),
    );
    const endpoint = created.DBInstance?.Endpoint?.Address ?? '';
    const value = (password: string, rotatedAt: string) => ({
      engine: 'postgres',
      host: endpoint,
      port: String(stack().postgres.port),
      database: 'postgres',
      username: master.username,
      password,
      dbInstanceIdentifier: id,
      rotated_at: rotatedAt,
    });
    const name = uniqueName('production/database/master');
    const { arn, token } = await createRotatingSecret(sm, name, value(replaced, '2024-01-01T00:00:00Z'));
    await unlabel(arn, token);
    await sm.send(
      new PutSecretValueCommand({
        SecretId: arn,
        SecretString: JSON.stringify(value(master.password, '2026-01-01T00:00:00Z')),
      }),
    );
    const connector = recordingConnector(loadDatabaseRotationConfig({}).database);
    rdsCalls.length = 0;
    const before = await stagesOf(sm, arn);
    sent = [];

    // Act
    const error = await rejectionOf(invoke(rotateNow({ rds, connector }), { secret: name, rollback: true }));

    // Assess: refused with the reason; only reads were sent, and no login was tried.
    expect(error.name).toBe('RollbackRefusedError');
    expect(error.message).toBe(
      `cannot roll back secret ${name}: "${master.username}" is the master user of RDS instance ${id}: rotation replaces its password through the RDS API (ModifyDBInstance), and RDS keeps no previous master password, so the AWSPREVIOUS one cannot log in. No login was tried. Nothing was changed. Rotate again instead (rotateNow without rollback)`,
    );
    expect(rdsCalls).toEqual(['DescribeDBInstancesCommand']);
    expect(connector.logins).toEqual([]);
    expect(writes()).toEqual([]);
    expect(await stagesOf(sm, arn)).toEqual(before);
    expect(findLeaks(visible(error), seen)).toEqual([]);
  });

  it('refuses before sending any password when the host is not an endpoint of the RDS database AWSPREVIOUS names', async () => {
    // Prepare: AWSPREVIOUS (alternating users) names an RDS instance but points at another
    // host, where a listener would catch any password sent; AWSCURRENT is a later value.
    const catcher = await startPasswordCatcher({ accept: true });
    const username = roleName('now_app');
    const password = hostilePassword();
    seen.push(password);
    const rds = rdsClient();
    const id = uniqueName('production-db');
    const created = await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: id,
        Engine: 'postgres',
        DBInstanceClass: 'db.t3.micro',
        MasterUsername: 'rds_admin',
        MasterUserPassword: 'unused-by-moto',
        AllocatedStorage: 20,
        Port: catcher.port,
      }),
    );
    const extra = {
      masterarn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:production/database/master-AbCdEf',
      dbInstanceIdentifier: id,
    };
    const name = uniqueName('production/database/alternating');
    const { arn, token } = await createRotatingSecret(
      sm,
      name,
      seedDatabaseSecret({ username, password, port: catcher.port, extra }),
    );
    await unlabel(arn, token);
    const later = hostilePassword();
    seen.push(later);
    await sm.send(
      new PutSecretValueCommand({
        SecretId: arn,
        SecretString: JSON.stringify({
          ...seedDatabaseSecret({
            username: `${username}_clone`,
            password: later,
            port: catcher.port,
            extra,
          }),
          rotated_at: '2026-01-01T00:00:00Z',
        }),
      }),
    );
    const connector = routedConnector({}, loadDatabaseRotationConfig({}).database);
    const before = await stagesOf(sm, arn);
    sent = [];

    try {
      // Act
      const error = await rejectionOf(
        invoke(rotateNow({ rds, connector }), { secret: name, rollback: true }),
      );

      // Assess
      expect(error.name).toBe('RollbackRefusedError');
      expect(error.message).toContain(
        `cannot roll back secret ${name}: its AWSPREVIOUS version is refused before any login: the secret's host ${stack().postgres.host}:${catcher.port} is not an endpoint of RDS instance ${id} (its dbInstanceIdentifier), whose endpoints are ${created.DBInstance?.Endpoint?.Address}`,
      );
      expect(error.message).toContain('no password was sent anywhere');
      expect(connector.connected).toEqual([]);
      expect(catcher.passwords).toEqual([]);
      expect(writes()).toEqual([]);
      expect(await stagesOf(sm, arn)).toEqual(before);
      expect(findLeaks(visible(error), seen)).toEqual([]);
    } finally {
      await catcher.close();
    }
  });
});
