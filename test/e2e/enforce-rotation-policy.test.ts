/**
 * enforceRotationPolicy and its worker end to end on the moto server and PostgreSQL: secrets
 * in the setup guide's shapes with `rotated_at` in the past, each test under an environment of
 * its own; the handlers built as deployed for a local run (repairs and revocations through the
 * real rotation handlers in process, since moto cannot invoke a Lambda), the queue and the
 * alert topic on moto, the queue drained into the worker as SQS events. RotateSecret answers
 * as AWS's does (test/support/aws-rotate-semantics.ts) except where a test says otherwise.
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  type SecretsManagerClient,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildEnforceRotationPolicyHandler } from '../../functions/enforce-rotation-policy/handler.js';
import { buildEnforcementWorkerHandler } from '../../functions/enforce-rotation-policy-worker/handler.js';
import { enforcementRunners } from '../../functions/lib/in-process-steps.js';
import { supersessionTag } from '../../shared/api-keys/index.js';
import { resendKeyName } from '../../shared/api-keys/providers/resend/index.js';
import {
  type EnforcementResult,
  loadEnforcementConfig,
  rotationToken,
} from '../../shared/enforcement/index.js';
import { createFleetClient } from '../../shared/fleet/index.js';
import { MetricName } from '../../shared/metrics/index.js';
import { StepRunner } from '../../shared/rotate-now/index.js';
import { adjustedRotations, withAwsRotateSemantics } from '../support/aws-rotate-semantics.js';
import {
  canLogin,
  captureOutput,
  createRole,
  findLeaks,
  hostilePassword,
  injectFault,
  lambdaContext,
  STEPS,
  secretsManager,
  seedDatabaseSecret,
  stack,
  stagesOf,
  uniqueName,
  valueAt,
} from '../support/bed.js';
import {
  drainQueue,
  fleetState,
  queueArn,
  queueUrlOf,
  receiveAll,
  schedulerClient,
  snsClient,
  sqsClient,
  sqsEvent,
  subscribeToAlerts,
  topicArns,
} from '../support/enforcement.js';
import { type FakeResend, startFakeResend } from '../support/fakes/resend-server.js';
import { createSeedSecret, uniqueEnvironment } from '../support/fleet.js';

const savedEnv = { ...process.env };
let resend: FakeResend;
let sqs: SQSClient;
let output: ReturnType<typeof captureOutput>;
let seen: string[];
/** Every Secrets Manager command the handlers sent: name and input. */
let sent: { command: string; input: Record<string, unknown> }[];
let environment: string;

const motoConfig = () => ({
  region: 'us-east-1',
  endpoint: stack().awsEndpoint,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});

/** A fleet client on moto (the deployed one's retry and limiter), its calls recorded. */
function fleetClient(options: { awsRotate?: boolean } = {}): SecretsManagerClient {
  const client = createFleetClient({ config: motoConfig() });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push({ command: context.commandName ?? '', input: args.input as Record<string, unknown> });
      return next(args);
    },
    { step: 'initialize', name: 'record' },
  );
  return options.awsRotate === false ? client : withAwsRotateSemantics(client);
}
/** The test's own client: plain moto, not recorded. */
const sm = () => secretsManager();

/** The configuration a local run reads, for this test's environment. */
const config = (env: Record<string, string> = {}) =>
  loadEnforcementConfig({
    ENVIRONMENT: environment,
    AWS_ENDPOINT_URL: stack().awsEndpoint,
    ENFORCE_SPREAD_SECONDS: '0',
    ...env,
  });

function enforcer(
  env: Record<string, string> = {},
  options: { client?: SecretsManagerClient; metrics?: Metrics; now?: Date } = {},
) {
  const cfg = config(env);
  const { now } = options;
  const handler = buildEnforceRotationPolicyHandler({
    config: cfg,
    secretsManager: options.client ?? fleetClient(),
    sqs,
    sns: snsClient(),
    ...enforcementRunners(StepRunner.IN_PROCESS, environment),
    logger: new Logger({ serviceName: 'enforce-e2e', logLevel: 'INFO' }),
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(now ? { now: () => now } : {}),
  });
  return (event: unknown = {}) => handler(event, enforcerContext) as Promise<EnforcementResult>;
}

function worker(env: Record<string, string> = {}, client?: SecretsManagerClient) {
  const handler = buildEnforcementWorkerHandler({
    config: config(env),
    secretsManager: client ?? fleetClient(),
    sns: snsClient(),
    ...enforcementRunners(StepRunner.IN_PROCESS, environment),
    logger: new Logger({ serviceName: 'enforce-worker-e2e', logLevel: 'INFO' }),
  });
  return (event: SQSEvent) =>
    handler(event, lambdaContext) as Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;
}

/**
 * A run's clock a few seconds ahead: moto dates a version when its versions are listed (during
 * the run's fleet read), so with a repair age of 0 the stuck version must not look newer than the run.
 */
const aheadOfMoto = () => new Date(Date.now() + 5000);

/** The enforcer's context: a fresh invocation with its 900 s ahead. */
const enforcerContext = { ...lambdaContext, getRemainingTimeInMillis: () => 900_000 };

const queueName = () => `secrets-rotation-${environment}-enforce`;
const ourFunction = (fn: 'rotateDatabase' | 'rotateApiKey') =>
  `arn:aws:lambda:us-east-1:123456789012:function:secrets-rotation-${environment}-${fn}`;

/** Turns rotation on with this product's function (or the function `fn` names) as moto can (it then stages a placeholder, which is cleared unless `stuck`). */
async function rotationOn(
  client: SecretsManagerClient,
  arn: string,
  fn: 'rotateDatabase' | 'rotateApiKey' | `arn:${string}`,
  stuck = false,
) {
  await client
    .send(
      new RotateSecretCommand({
        SecretId: arn,
        RotationLambdaARN: fn.startsWith('arn:') ? fn : ourFunction(fn as 'rotateDatabase' | 'rotateApiKey'),
        RotationRules: { AutomaticallyAfterDays: 75 },
      }),
    )
    .catch((error: Error) => {
      if (error.name !== 'ResourceNotFoundException') throw error;
    });
  if (stuck) return;
  const pending = Object.entries(await stagesOf(client, arn)).find(([, s]) => s.includes('AWSPENDING'))?.[0];
  if (pending) {
    const { UpdateSecretVersionStageCommand } = await import('@aws-sdk/client-secrets-manager');
    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: arn,
        VersionStage: 'AWSPENDING',
        RemoveFromVersionId: pending,
      }),
    );
  }
}

/** A database role and its seed-shaped secret, `rotated_at` in 2024. */
async function databaseSecret(client: SecretsManagerClient, suffix = 'primary') {
  const username = uniqueName('enforce_user');
  const password = hostilePassword();
  seen.push(password);
  await createRole(username, password);
  const { ARN = '' } = await client.send(
    new CreateSecretCommand({
      Name: `${environment}/database/${suffix}`,
      SecretString: JSON.stringify(seedDatabaseSecret({ username, password })),
    }),
  );
  return { arn: ARN, username, password };
}

/**
 * A Resend key on the fake and its seed-shaped secret. The key is named as a rotation of this
 * secret names it (the marker of the secret's ARN and the version's id), so that a later
 * revocation can prove it is this secret's.
 */
async function resendSecret(client: SecretsManagerClient, rotatedAt = '2024-01-01T00:00:00Z') {
  const { ARN = '' } = await client.send(new CreateSecretCommand({ Name: `${environment}/api-keys/resend` }));
  const versionId = randomUUID();
  const keyName = resendKeyName(uniqueName('enforce'), ARN, versionId);
  const { id, token } = resend.seedKey({ name: keyName, permission: 'full_access' });
  await client.send(
    new PutSecretValueCommand({
      SecretId: ARN,
      ClientRequestToken: versionId,
      SecretString: JSON.stringify({
        api_key: token,
        api_key_id: id,
        api_key_name: keyName,
        rotated_at: rotatedAt,
      }),
    }),
  );
  return { arn: ARN, id, token };
}

const daysAgo = (days: number) =>
  new Date(Date.now() - days * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

beforeAll(async () => {
  resend = await startFakeResend();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: stack().awsEndpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    RESEND_API_URL: resend.url,
    POWERTOOLS_LOG_LEVEL: 'WARN',
  });
  sqs = sqsClient();
});

afterAll(async () => {
  process.env = savedEnv;
  await resend.close();
});

beforeEach(() => {
  environment = uniqueEnvironment();
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

describe('enforceRotationPolicy', () => {
  it('holds a fleet in the seed shapes to the policy: turns rotation on, repairs, queues the overdue start, tells a person; the worker starts it once', async () => {
    // Prepare
    const client = sm();
    const primary = await databaseSecret(client);
    const resendKey = await resendSecret(client, daysAgo(10));
    const clerk = await createSeedSecret(client, `${environment}/api-keys/clerk`, 'clerk', {
      rotatedDaysAgo: 120,
    });
    seen.push(...clerk.secrets);
    const stuck = await createSeedSecret(client, `${environment}/database/stuck`, 'database', {
      rotatedDaysAgo: 10,
    });
    seen.push(...stuck.secrets);
    await rotationOn(client, stuck.arn, 'rotateDatabase', true);
    const stuckToken = Object.entries(await stagesOf(client, stuck.arn)).find(([, s]) =>
      s.includes('AWSPENDING'),
    )?.[0];
    const elsewhere = await createSeedSecret(client, `${environment}/other/thing`, 'resend', {
      rotatedDaysAgo: 400,
    });
    seen.push(...elsewhere.secrets);
    const topic = `secrets-rotation-${environment}-alerts`;
    const { CreateTopicCommand } = await import('@aws-sdk/client-sns');
    const { TopicArn = '' } = await snsClient().send(new CreateTopicCommand({ Name: topic }));
    const inbox = await subscribeToAlerts(snsClient(), sqs, TopicArn, uniqueName('inbox'));
    const before = await stagesOf(client, elsewhere.arn);
    const metrics = new Metrics({ namespace: 'SecretsRotation', serviceName: 'enforce-e2e' });

    // Act
    const at = aheadOfMoto();
    const result = await enforcer({ REPAIR_MIN_AGE_SECONDS: '0' }, { metrics, now: at })();

    // Assess: what it planned and did.
    expect(result).toMatchObject({
      dryRun: false,
      mode: 'inline',
      secrets: 4,
      planned: { configure: 3, start: 1, repair: 1, revoke: 0, secretsNeedingPerson: 1 },
      done: { configured: 2, repaired: 1, failed: 0, queued: 1 },
      alerted: true,
    });
    expect(result.actions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          secret: `${environment}/api-keys/resend`,
          action: 'configure',
          status: 'done',
        }),
        expect.objectContaining({
          secret: `${environment}/database/stuck`,
          action: 'repair',
          status: 'done',
          reason: expect.stringMatching(/^unlabel-placeholder: /),
        }),
        expect.objectContaining({
          secret: `${environment}/database/primary`,
          action: 'start',
          status: 'queued',
        }),
      ]),
    );
    // The resend secret: rotation on, this product's function, the policy's schedule, nothing pending.
    const described = await client.send(new DescribeSecretCommand({ SecretId: resendKey.arn }));
    expect(described).toMatchObject({
      RotationEnabled: true,
      RotationLambdaARN: ourFunction('rotateApiKey'),
      RotationRules: { AutomaticallyAfterDays: 75 },
    });
    expect(Object.values(described.VersionIdsToStages ?? {}).flat()).toEqual(['AWSCURRENT']);
    // The stuck placeholder lost its label; the secret outside the prefixes was never touched.
    expect((await stagesOf(client, stuck.arn))[stuckToken ?? '']).toEqual([]);
    expect(await stagesOf(client, elsewhere.arn)).toEqual(before);
    expect(sent.filter((c) => JSON.stringify(c.input).includes(elsewhere.arn))).toEqual([]);
    // Configures only (RotateImmediately false; moto's answers made AWS's): the start is the worker's.
    const rotateCalls = sent.filter((c) => c.command === 'RotateSecretCommand');
    expect(rotateCalls.map((c) => [c.input.SecretId, c.input.RotateImmediately]).sort()).toEqual(
      [
        [clerk.arn, false],
        [resendKey.arn, false],
      ].sort(),
    );
    expect(adjustedRotations.count).toBeGreaterThan(0);
    // The alert names the clerk secret and what to do, and no value.
    const [alert] = await receiveAll(sqs, inbox);
    expect(JSON.parse(alert?.Body ?? '{}')).toMatchObject({
      alert: 'secrets-need-a-person',
      secrets: [
        {
          secret: `${environment}/api-keys/clerk`,
          notices: [expect.objectContaining({ kind: 'manual-action' })],
        },
      ],
    });
    // Every secret's decision is logged.
    const decisions = output
      .text()
      .split('\n')
      .filter((line) => line.includes('"message":"policy decision"'));
    expect(decisions).toHaveLength(4);
    // Metrics (embedded metric format, flushed by the handler): what it did.
    // (The clerk secret's rotation is turned on too: SecretsManager.1 wants it; its rotations
    // need a staged value, which the alert asks a person for.)
    for (const [name, value] of [
      [MetricName.ROTATIONS_ENABLED, 2],
      [MetricName.ROTATIONS_REPAIRED, 1],
      [MetricName.NOTIFICATIONS, 1],
      [MetricName.WORK_ITEMS_QUEUED, 1],
      [MetricName.ROTATIONS_STARTED, 0],
    ] as const)
      expect(output.text()).toContain(`"${name}":${value}`);

    // Act: the worker drains the queue, and the rotation runs its four steps (moto cannot invoke the function).
    const { messages, failed } = await drainQueue(sqs, (await queueUrlOf(sqs, queueName())) ?? '', worker());
    const token = rotationToken(primary.arn, at.toISOString().slice(0, 10));
    const { steps } = enforcementRunners(StepRunner.IN_PROCESS, environment);
    for (const Step of STEPS)
      await steps.invoke(
        { secretName: `${environment}/database/primary`, functionArn: ourFunction('rotateDatabase') },
        { SecretId: primary.arn, ClientRequestToken: token, Step },
      );

    // Assess: one start, with this product's function and the policy's schedule; the new password works.
    expect({ messages, failed }).toEqual({ messages: 1, failed: [] });
    const starts = sent.filter(
      (c) => c.command === 'RotateSecretCommand' && c.input.RotateImmediately === true,
    );
    expect(starts.map((c) => c.input)).toEqual([
      {
        SecretId: primary.arn,
        ClientRequestToken: token,
        RotationLambdaARN: ourFunction('rotateDatabase'),
        RotationRules: { AutomaticallyAfterDays: 75 },
        RotateImmediately: true,
      },
    ]);
    const current = await valueAt(client, primary.arn, 'AWSCURRENT');
    expect((await stagesOf(client, primary.arn))[token]).toEqual(['AWSCURRENT']);
    expect(await canLogin(primary.username, current?.password ?? '')).toBe(true);
    seen.push(current?.password ?? '');

    // Act: the next run the same day.
    sent = [];
    const again = await enforcer({ REPAIR_MIN_AGE_SECONDS: '0' }, { now: aheadOfMoto() })();

    // Assess: nothing left to do but tell a person about clerk.
    expect(again.planned).toEqual({ configure: 0, start: 0, repair: 0, revoke: 0, secretsNeedingPerson: 1 });
    expect(sent.filter((c) => c.command === 'RotateSecretCommand')).toEqual([]);
  });

  it("touches no overdue secret it cannot hold to the policy unattended: another team's rotation function, an unreadable rotation-window tag; a person is told", async () => {
    // Prepare: both overdue; one rotated by AWS's template function, one tagged with a window that does not parse.
    const client = sm();
    const foreign = await createSeedSecret(client, `${environment}/database/legacy`, 'database', {
      rotatedDaysAgo: 200,
    });
    const template =
      'arn:aws:lambda:us-east-1:123456789012:function:SecretsManagerRDSPostgreSQLRotationSingleUser';
    await rotationOn(client, foreign.arn, template);
    const windowed = await createSeedSecret(client, `${environment}/database/windowed`, 'database', {
      rotatedDaysAgo: 200,
      tags: { 'rotation-window': 'first Saturday 02:00-05:00' },
    });
    seen.push(...foreign.secrets, ...windowed.secrets);
    const topic = `secrets-rotation-${environment}-alerts`;
    const { CreateTopicCommand } = await import('@aws-sdk/client-sns');
    const { TopicArn = '' } = await snsClient().send(new CreateTopicCommand({ Name: topic }));
    const inbox = await subscribeToAlerts(snsClient(), sqs, TopicArn, uniqueName('inbox'));

    // Act
    const result = await enforcer()();

    // Assess: no RotateSecret, nothing queued; the other function and the rules stay as they were.
    expect(result.planned).toEqual({ configure: 0, start: 0, repair: 0, revoke: 0, secretsNeedingPerson: 2 });
    expect(sent.filter((c) => !/^(List|BatchGet|Describe|Get)/.test(c.command))).toEqual([]);
    expect(await client.send(new DescribeSecretCommand({ SecretId: foreign.arn }))).toMatchObject({
      RotationEnabled: true,
      RotationLambdaARN: template,
    });
    expect(
      (await client.send(new DescribeSecretCommand({ SecretId: windowed.arn }))).RotationEnabled ?? false,
    ).toBe(false);
    const [alert] = await receiveAll(sqs, inbox);
    const notices = (
      JSON.parse(alert?.Body ?? '{}') as { secrets: { secret: string; notices: { reason: string }[] }[] }
    ).secrets;
    expect(notices.map((n) => [n.secret, n.notices.map((x) => x.reason)])).toEqual([
      [
        `${environment}/database/legacy`,
        [
          expect.stringMatching(
            /^rotation function SecretsManagerRDSPostgreSQLRotationSingleUser is not this product's/,
          ),
        ],
      ],
      [
        `${environment}/database/windowed`,
        [
          expect.stringMatching(
            /^tag rotation-window=.*until it is fixed the enforcer changes no rotation setting/,
          ),
        ],
      ],
    ]);
  });

  it('reports in a dry run what it would do, and changes nothing: every secret, version, label, tag, schedule and queue is as before', async () => {
    // Prepare: the same kinds of secrets as a real run acts on.
    const client = sm();
    const primary = await databaseSecret(client);
    await resendSecret(client, daysAgo(10));
    const clerk = await createSeedSecret(client, `${environment}/api-keys/clerk`, 'clerk', {
      rotatedDaysAgo: 120,
    });
    const stuck = await createSeedSecret(client, `${environment}/database/stuck`, 'database', {
      rotatedDaysAgo: 10,
    });
    seen.push(...clerk.secrets, ...stuck.secrets);
    await rotationOn(client, stuck.arn, 'rotateDatabase', true);
    const state = () =>
      fleetState(client, `${environment}/`, { scheduler: schedulerClient(), sqs, queueUrls: [] });
    const before = await state();
    const topicsBefore = await topicArns(snsClient());

    // Act
    const at = aheadOfMoto();
    const result = await enforcer({ REPAIR_MIN_AGE_SECONDS: '0' }, { now: at })({ dryRun: true });

    // Assess: the plan is reported...
    expect(result).toMatchObject({
      dryRun: true,
      planned: { configure: 3, start: 1, repair: 1, revoke: 0, secretsNeedingPerson: 1 },
      alerted: false,
    });
    expect(result).not.toHaveProperty('done');
    expect(result.actions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          secret: `${environment}/database/primary`,
          action: 'start',
          status: 'planned',
          versionId: rotationToken(primary.arn, at.toISOString().slice(0, 10)),
        }),
        expect.objectContaining({
          secret: `${environment}/database/stuck`,
          action: 'repair',
          status: 'planned',
        }),
      ]),
    );
    expect(result.notices).toEqual([
      expect.objectContaining({ secret: `${environment}/api-keys/clerk`, kind: 'manual-action' }),
    ]);
    // ...and nothing changed: no write call, no queue, no topic, the same state.
    expect(sent.map((c) => c.command).filter((c) => !/^(List|BatchGet|Describe|Get)/.test(c))).toEqual([]);
    expect(await queueUrlOf(sqs, queueName())).toBeUndefined();
    expect(await topicArns(snsClient())).toEqual(topicsBefore);
    expect(await state()).toEqual(before);
  });

  it('starts nothing twice on the same day: two runs queue the start twice, the worker starts it once', async () => {
    // Prepare: an overdue Resend key, rotation on with this product's function.
    const client = sm();
    const key = await resendSecret(client);
    await rotationOn(client, key.arn, 'rotateApiKey');

    // Act: two runs; the worker gets both messages in one batch, then one of them again (SQS
    // delivers at least once); then a third run.
    const first = await enforcer()();
    const second = await enforcer()();
    const url = (await queueUrlOf(sqs, queueName())) ?? '';
    const messages = await receiveAll(sqs, url);
    const batch = await worker()(sqsEvent(messages, await queueArn(sqs, url)));
    const redelivered = await worker()(sqsEvent(messages.slice(0, 1), await queueArn(sqs, url)));
    const third = await enforcer()();

    // Assess: one RotateSecret, with the day's token; the duplicate in the batch and the later
    // delivery started nothing, and the third run plans no start while the rotation runs.
    const token = rotationToken(key.arn, first.at.slice(0, 10));
    expect([first.planned.start, second.planned.start, third.planned.start]).toEqual([1, 1, 0]);
    expect(messages).toHaveLength(2);
    expect([batch.batchItemFailures, redelivered.batchItemFailures]).toEqual([[], []]);
    const starts = sent.filter((c) => c.command === 'RotateSecretCommand');
    expect(starts.map((c) => [c.input.ClientRequestToken, c.input.RotateImmediately])).toEqual([
      [token, true],
    ]);
    expect((await stagesOf(client, key.arn))[token]).toEqual(['AWSPENDING']);
    expect(output.text()).toContain('another message of this batch starts the same rotation');
    expect(output.text()).toContain(`version ${token} exists, so this rotation was already started today`);
    expect(output.text()).toMatch(/"skipped":\["[^"]*a rotation in progress/);
  });

  it("starts the rotation on moto as deployed, without AWS's answer: the version staged AWSPENDING proves the start", async () => {
    // Prepare: moto stages the version, then answers ResourceNotFoundException (it cannot invoke the function).
    const client = sm();
    const key = await resendSecret(client);
    await rotationOn(client, key.arn, 'rotateApiKey');
    const run = await enforcer()();
    const raw = fleetClient({ awsRotate: false });

    // Act
    const drained = await drainQueue(sqs, (await queueUrlOf(sqs, queueName())) ?? '', worker({}, raw));

    // Assess
    const token = rotationToken(key.arn, run.at.slice(0, 10));
    expect(drained).toEqual({ messages: 1, failed: [] });
    expect((await stagesOf(client, key.arn))[token]).toEqual(['AWSPENDING']);
    expect(output.text()).toContain(
      'RotateSecret answered an error after staging the new version; the rotation has started',
    );
  });

  it('hands every change to the queue past the inline limit; the worker reports only the messages that failed, and they succeed when delivered again', async () => {
    // Prepare: three secrets with rotation off (configure), one overdue (start), one stuck (repair).
    const client = sm();
    const names = ['a', 'b', 'c'];
    const arns: string[] = [];
    for (const n of names) {
      const made = await createSeedSecret(client, `${environment}/database/${n}`, 'database', {
        rotatedDaysAgo: 10,
      });
      seen.push(...made.secrets);
      arns.push(made.arn);
    }
    const overdue = await resendSecret(client);
    await rotationOn(client, overdue.arn, 'rotateApiKey');
    const url = await (async () => {
      const result = await enforcer({ ENFORCE_INLINE_LIMIT: '0' })();
      expect(result).toMatchObject({ mode: 'queue', done: { configured: 0, queued: 4 } });
      return (await queueUrlOf(sqs, queueName())) ?? '';
    })();
    // A message that is not a work item, and a fault on one secret's RotateSecret.
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: '{"not":"a work item"}' }));
    const faulty = injectFault(
      fleetClient(),
      'RotateSecretCommand',
      'before',
      (input) => input.SecretId === arns[1],
    );
    const messages = await receiveAll(sqs, url);
    const idOf = (match: (body: string) => boolean) => messages.find((m) => match(m.Body ?? ''))?.MessageId;

    // Act
    const response = await worker({}, faulty)(sqsEvent(messages, await queueArn(sqs, url)));

    // Assess: exactly the bad message and the faulted secret's fail; the others are done.
    expect(faulty.faultsFired).toBe(1);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      [idOf((b) => b.includes('not')), idOf((b) => b.includes(arns[1] ?? '-'))].sort(),
    );
    for (const arn of [arns[0], arns[2]])
      expect(await client.send(new DescribeSecretCommand({ SecretId: arn }))).toMatchObject({
        RotationEnabled: true,
      });
    expect(
      (await client.send(new DescribeSecretCommand({ SecretId: arns[1] }))).RotationEnabled ?? false,
    ).toBe(false);
    expect(output.text()).toContain('InvalidWorkItemError');

    // Act: the failed messages are delivered again, the fault gone.
    const again = messages.filter((m) =>
      response.batchItemFailures.some((f) => f.itemIdentifier === m.MessageId),
    );
    const retried = await worker()(sqsEvent(again, await queueArn(sqs, url)));

    // Assess: the secret is configured now; the bad message fails again (it ends in the dead-letter queue).
    expect(retried.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([idOf((b) => b.includes('not'))]);
    expect(await client.send(new DescribeSecretCommand({ SecretId: arns[1] }))).toMatchObject({
      RotationEnabled: true,
    });
  });

  it.each([
    ['the enforcer', { dryRun: 'yes' }, /dryRun must be a boolean/],
    ['the enforcer', { source: 'aws.events', dryRun: true }, /takes no dryRun or ignoreWindows/],
    ['the worker', { dryRun: true }, /expected an SQS event/],
    ['the worker', { Records: [{ eventSource: 'aws:sns', body: '{}' }] }, /expected an SQS event/],
  ])(
    '%s refuses %j with a clear error, and reads, sends and changes nothing',
    async (who, event, message) => {
      // Prepare: a secret the enforcer would act on (rotation off).
      const client = sm();
      const made = await createSeedSecret(client, `${environment}/database/a`, 'database', {
        rotatedDaysAgo: 10,
      });
      seen.push(...made.secrets);
      const before = await stagesOf(client, made.arn);

      // Act
      const run = who === 'the enforcer' ? enforcer()(event) : worker()(event as unknown as SQSEvent);

      // Assess
      await expect(run).rejects.toThrow(message);
      expect(sent).toEqual([]);
      expect(await queueUrlOf(sqs, queueName())).toBeUndefined();
      expect(await stagesOf(client, made.arn)).toEqual(before);
      expect(
        (await client.send(new DescribeSecretCommand({ SecretId: made.arn }))).RotationEnabled ?? false,
      ).toBe(false);
    },
  );

  it("revokes a superseded key whose record says its grace period is over, through rotateApiKey's revoke input", async () => {
    // Prepare: a Resend key rotated by the real handler; its record then dated a day back.
    const client = sm();
    const key = await resendSecret(client, daysAgo(10));
    await rotationOn(client, key.arn, 'rotateApiKey', true);
    const token =
      Object.entries(await stagesOf(client, key.arn)).find(([, s]) => s.includes('AWSPENDING'))?.[0] ?? '';
    const { steps } = enforcementRunners(StepRunner.IN_PROCESS, environment);
    for (const Step of STEPS)
      await steps.invoke(
        { secretName: `${environment}/api-keys/resend`, functionArn: ourFunction('rotateApiKey') },
        { SecretId: key.arn, ClientRequestToken: token, Step },
      );
    const previous =
      Object.entries(await stagesOf(client, key.arn)).find(([, s]) => s.includes('AWSPREVIOUS'))?.[0] ?? '';
    await client.send(
      new TagResourceCommand({
        SecretId: key.arn,
        Tags: [supersessionTag({ versionId: previous, at: new Date(Date.now() - 86_400_000), by: token })],
      }),
    );
    const live = () => resend.keys().map((k) => k.id);
    expect(live()).toContain(key.id);

    // Act
    const result = await enforcer()();
    const again = await enforcer()();

    // Assess: the old key is gone, the new one stays; AWSPREVIOUS is marked revoked, so the second run asks for nothing.
    expect(result.planned.revoke).toBe(1);
    expect(result.done?.revoked).toBe(1);
    expect(result.actions).toEqual([
      expect.objectContaining({
        action: 'revoke',
        status: 'done',
        versionId: previous,
        reason: `revoked ${key.id}`,
      }),
    ]);
    expect(live()).not.toContain(key.id);
    expect(live()).toContain((await valueAt(client, key.arn, 'AWSCURRENT'))?.api_key_id);
    expect(again.planned.revoke).toBe(0);
    expect(again.actions).toEqual([]);
    const { Tags = [] } = await client.send(new DescribeSecretCommand({ SecretId: key.arn }));
    expect(Tags).toContainEqual({ Key: 'rotation-previous-revoked', Value: previous });
    expect(JSON.stringify(result)).not.toContain(key.token);
  });
});
