/**
 * The enforcer's actions on mocked clients, with the clock injected: what moto cannot express
 * (rotation windows as ScheduleExpression and Duration, an old LastRotatedDate, OwningService,
 * a rotation recorded after the plan) in the shapes DescribeSecret and ListSecrets return on AWS.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import {
  BatchGetSecretValueCommand,
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  RotateSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  type ExecutorDependencies,
  executeWorkItem,
  RevocationFailedError,
  type RevocationInvoker,
  rotationToken,
  runEnforcement,
  WORK_ITEM_VERSION,
  type WorkItem,
  WorkItemFailedError,
} from '../../shared/enforcement/index.js';
import { DAY_MS, defaultPolicySettings } from '../../shared/policy/index.js';
import type { RotationInvoker } from '../../shared/repair/index.js';
import { SecretStore } from '../../shared/rotation/index.js';

const NOW = new Date('2026-06-06T03:00:00Z'); // the first Saturday of June, 03:00 UTC
const ago = (days: number) => new Date(NOW.getTime() - days * DAY_MS);
const NAME = 'production/database/primary';
const ARN = `arn:aws:secretsmanager:us-east-1:123456789012:secret:${NAME}-AbCdEf`;
const OURS = 'arn:aws:lambda:us-east-1:123456789012:function:secrets-rotation-production-rotateDatabase';
const TOKEN = rotationToken(ARN, '2026-06-06');
const WINDOW = { ScheduleExpression: 'cron(0 2 ? * SAT#1 *)', Duration: '3h' };
const settings = defaultPolicySettings('production', {
  rotationFunctions: {
    'production/database/': 'secrets-rotation-production-rotateDatabase',
    'production/api-keys/': 'secrets-rotation-production-rotateApiKey',
  },
});

const sm = mockClient(SecretsManagerClient);
const sqs = mockClient(SQSClient);

/** DescribeSecret's answer on AWS for the secret, rotation off, nothing pending. */
function described(overrides: Partial<DescribeSecretCommandOutput> = {}): DescribeSecretCommandOutput {
  return {
    $metadata: {},
    ARN,
    Name: NAME,
    CreatedDate: ago(400),
    LastRotatedDate: ago(200),
    LastAccessedDate: ago(1),
    RotationEnabled: false,
    VersionIdsToStages: { v1: ['AWSCURRENT'] },
    Tags: [{ Key: 'rotation-window', Value: 'cron(0 2 ? * SAT#1 *) 3h' }],
    ...overrides,
  };
}

const item = (overrides: Partial<WorkItem> = {}, planned = NOW): WorkItem => ({
  v: WORK_ITEM_VERSION,
  run: { id: 'run-1', at: planned.toISOString(), ignoreWindows: false },
  secret: { arn: ARN, name: NAME },
  configure: true,
  start: { token: TOKEN },
  ...overrides,
});

const refuse = (): never => {
  throw new Error('not expected in this test');
};
const noSteps: RotationInvoker = { description: 'none', invoke: async () => refuse() };
const noRevoker: RevocationInvoker = { description: 'none', revoke: async () => refuse() };

function deps(at: Date = NOW, overrides: Partial<ExecutorDependencies> = {}): ExecutorDependencies {
  const client = new SecretsManagerClient({ region: 'us-east-1' });
  return {
    secretsManager: client,
    store: new SecretStore(client),
    steps: noSteps,
    revoker: noRevoker,
    settings,
    repairMinAgeMs: 3_600_000,
    logger: new Logger({ serviceName: 'enforcement-unit', logLevel: 'ERROR' }),
    now: () => at,
    ...overrides,
  };
}

beforeEach(() => {
  sm.reset();
  sqs.reset();
  sm.on(ListSecretVersionIdsCommand).resolves({
    Versions: [{ VersionId: 'v1', VersionStages: ['AWSCURRENT'] }],
  });
  sm.on(RotateSecretCommand).resolves({ ARN, Name: NAME });
});

describe('executeWorkItem: start', () => {
  it("starts inside the window, with the window as ScheduleExpression and Duration and this product's function", async () => {
    // Prepare
    sm.on(DescribeSecretCommand).resolves(described());

    // Act
    const outcomes = await executeWorkItem(deps(), item());

    // Assess
    expect(sm.commandCalls(RotateSecretCommand).map((c) => c.args[0].input)).toEqual([
      {
        SecretId: ARN,
        ClientRequestToken: TOKEN,
        RotationLambdaARN: OURS,
        RotationRules: WINDOW,
        RotateImmediately: true,
      },
    ]);
    expect(outcomes.map((o) => [o.action, o.status])).toEqual([
      ['configure', 'done'],
      ['start', 'done'],
    ]);
  });

  it('does not start once the window has closed, and still sets the window (RotateImmediately false)', async () => {
    // Prepare: planned at 03:00, carried out at 05:30 (the window is 02:00–05:00).
    sm.on(DescribeSecretCommand).resolves(described());
    const later = new Date(NOW.getTime() + 2.5 * 3_600_000);

    // Act
    const outcomes = await executeWorkItem(deps(later), item());

    // Assess
    expect(sm.commandCalls(RotateSecretCommand).map((c) => c.args[0].input)).toEqual([
      { SecretId: ARN, RotationLambdaARN: OURS, RotationRules: WINDOW, RotateImmediately: false },
    ]);
    expect(outcomes[0]).toMatchObject({
      action: 'start',
      status: 'skipped',
      reason: expect.stringContaining('outside its rotation window'),
    });
  });

  it('starts outside the window when the run ignores windows', async () => {
    // Prepare
    sm.on(DescribeSecretCommand).resolves(described());
    const later = new Date(NOW.getTime() + 2.5 * 3_600_000);

    // Act
    await executeWorkItem(
      deps(later),
      item({ run: { id: 'r', at: NOW.toISOString(), ignoreWindows: true } }),
    );

    // Assess
    expect(sm.commandCalls(RotateSecretCommand)[0]?.args[0].input).toMatchObject({ RotateImmediately: true });
  });

  it('starts nothing when the secret was rotated after the plan (LastRotatedDate)', async () => {
    // Prepare
    sm.on(DescribeSecretCommand).resolves(
      described({
        LastRotatedDate: new Date(NOW.getTime() + 60_000),
        RotationEnabled: true,
        RotationLambdaARN: OURS,
        RotationRules: WINDOW,
      }),
    );

    // Act
    const outcomes = await executeWorkItem(
      deps(new Date(NOW.getTime() + 120_000)),
      item({ configure: undefined }),
    );

    // Assess
    expect(sm.commandCalls(RotateSecretCommand)).toEqual([]);
    expect(outcomes).toEqual([
      expect.objectContaining({ status: 'skipped', reason: expect.stringContaining('after the plan') }),
    ]);
  });

  it("starts nothing when a version with the day's token exists, even without labels (a failed start that was repaired)", async () => {
    // Prepare
    sm.on(DescribeSecretCommand).resolves(described());
    sm.on(ListSecretVersionIdsCommand).resolves({
      Versions: [
        { VersionId: 'v1', VersionStages: ['AWSCURRENT'] },
        { VersionId: TOKEN, VersionStages: [] },
      ],
    });

    // Act
    const outcomes = await executeWorkItem(deps(), item());

    // Assess: IncludeDeprecated asked; no start; the settings still set.
    expect(sm.commandCalls(ListSecretVersionIdsCommand)[0]?.args[0].input).toMatchObject({
      IncludeDeprecated: true,
    });
    expect(sm.commandCalls(RotateSecretCommand).map((c) => c.args[0].input.RotateImmediately)).toEqual([
      false,
    ]);
    expect(outcomes[0]?.reason).toContain(`version ${TOKEN} exists`);
  });

  it('leaves a secret alone that another service manages now, and tells a person', async () => {
    // Prepare
    sm.on(DescribeSecretCommand).resolves(described({ OwningService: 'rds' }));

    // Act
    const outcomes = await executeWorkItem(deps(), item());

    // Assess
    expect(sm.commandCalls(RotateSecretCommand)).toEqual([]);
    expect(outcomes).toEqual([
      expect.objectContaining({ status: 'skipped', notice: 'managed-by-another-service' }),
    ]);
  });

  it.each([
    [
      'another function rotates it now',
      { RotationLambdaARN: 'arn:aws:lambda:us-east-1:123456789012:function:someone-elses' },
    ],
    [
      'its rotation-window tag cannot be read now',
      { Tags: [{ Key: 'rotation-window', Value: 'first Saturday 2-5' }] },
    ],
  ])('neither starts nor reconfigures when %s (the fresh read decides, not the plan)', async (_, changed) => {
    // Prepare
    sm.on(DescribeSecretCommand).resolves(described(changed));

    // Act
    const outcomes = await executeWorkItem(deps(), item());

    // Assess
    expect(sm.commandCalls(RotateSecretCommand)).toEqual([]);
    expect(outcomes).toEqual([
      expect.objectContaining({
        action: 'start',
        status: 'skipped',
        reason: expect.stringContaining("its rotation settings are not this product's to change"),
      }),
    ]);
  });

  it('fails closed, starting nothing, when the versions cannot be listed', async () => {
    // Prepare
    sm.on(DescribeSecretCommand).resolves(described());
    sm.on(ListSecretVersionIdsCommand).rejects(
      Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }),
    );

    // Act
    const error = await executeWorkItem(deps(), item()).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(WorkItemFailedError);
    expect((error as WorkItemFailedError).outcomes).toEqual([
      expect.objectContaining({
        action: 'start',
        status: 'failed',
        reason: expect.stringContaining('ThrottlingException'),
      }),
    ]);
    expect(sm.commandCalls(RotateSecretCommand)).toEqual([]);
  });
});

describe('executeWorkItem: repair and revoke', () => {
  it.each([
    ["someone else's", 'arn:aws:lambda:us-east-1:123456789012:function:someone-elses'],
    ['one with our name in another account', OURS.replace('123456789012', '999999999999')],
  ])('runs no step of a stuck rotation whose function is %s, and tells a person', async (_, functionArn) => {
    // Prepare: AWSPENDING with a value, rotated by a function that is not provably this product's.
    const steps: RotationInvoker = { description: 'counted', invoke: async () => refuse() };
    sm.on(DescribeSecretCommand).resolves(
      described({
        RotationEnabled: true,
        RotationLambdaARN: functionArn,
        VersionIdsToStages: { v1: ['AWSCURRENT'], v2: ['AWSPENDING'] },
      }),
    );

    // Act
    const outcomes = await executeWorkItem(
      deps(NOW, { steps, repairMinAgeMs: 0 }),
      item({ repair: true, configure: undefined, start: undefined }),
    );

    // Assess: nothing read, nothing relabelled, no step run.
    expect(outcomes).toEqual([
      expect.objectContaining({
        action: 'repair',
        status: 'refused',
        notice: 'stuck-beyond-repair',
        reason: expect.stringContaining("not this product's"),
      }),
    ]);
    expect(sm.calls().map((call) => call.args[0].constructor.name)).toEqual(['DescribeSecretCommand']);
  });

  it("sorts the revoke path's answers: grace not over is declined quietly, a foreign key needs a person, a throttled provider is retried", async () => {
    // Prepare
    sm.on(DescribeSecretCommand).resolves(
      described({
        ARN: ARN.replace('database/primary', 'api-keys/aws'),
        Name: 'production/api-keys/aws',
        VersionIdsToStages: { v1: ['AWSCURRENT'], v0: ['AWSPREVIOUS'] },
      }),
    );
    const answers: Record<string, Error> = {
      a: new RevocationFailedError('GracePeriodNotOverError', 'its grace period ends at …'),
      b: new RevocationFailedError('ForeignAccessKeyError', "aws: …abcd is not this secret's to delete"),
      c: new RevocationFailedError('ProviderRateLimitError', 'aws: HTTP 429'),
    };
    const revoker: RevocationInvoker = {
      description: 'scripted',
      revoke: async (functionArn, input) => {
        expect(functionArn).toBe(
          'arn:aws:lambda:us-east-1:123456789012:function:secrets-rotation-production-rotateApiKey',
        );
        expect(input).toEqual({ action: 'revoke', SecretId: expect.any(String), VersionId: input.VersionId });
        throw answers[input.VersionId];
      },
    };

    // Act
    const error = (await executeWorkItem(
      deps(NOW, { revoker }),
      item({
        secret: { arn: ARN.replace('database/primary', 'api-keys/aws'), name: 'production/api-keys/aws' },
        revoke: ['a', 'b', 'c'],
        configure: undefined,
        start: undefined,
      }),
    ).catch((e: unknown) => e)) as WorkItemFailedError;

    // Assess
    expect(error.outcomes.map((o) => [o.versionId, o.status, o.notice])).toEqual([
      ['a', 'refused', undefined],
      ['b', 'refused', 'key-not-revoked'],
      ['c', 'failed', 'action-failed'],
    ]);
    expect(sm.commandCalls(TagResourceCommand)).toEqual([]);
  });
});

describe('runEnforcement on AWS-shaped answers', () => {
  const listed = (name: string, entry: Record<string, unknown>) => ({
    ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`,
    Name: name,
    CreatedDate: ago(400),
    LastAccessedDate: ago(1),
    SecretVersionsToStages: { v1: ['AWSCURRENT'] },
    Tags: [],
    ...entry,
  });

  it('queues the starts spread with delays, windowed ones inside their window, and touches no RDS-managed secret', async () => {
    // Prepare: an old LastRotatedDate settles three overdue secrets; one is RDS's.
    sm.on(ListSecretsCommand).resolves({
      SecretList: [
        listed('production/database/a', {
          LastRotatedDate: ago(300),
          RotationEnabled: true,
          RotationLambdaARN: OURS,
          RotationRules: { AutomaticallyAfterDays: 75 },
        }),
        listed('production/database/b', {
          LastRotatedDate: ago(200),
          RotationEnabled: true,
          RotationLambdaARN: OURS,
          RotationRules: { AutomaticallyAfterDays: 75 },
        }),
        listed('production/database/c', {
          LastRotatedDate: ago(100),
          RotationEnabled: true,
          RotationLambdaARN: OURS,
          RotationRules: WINDOW,
          Tags: [{ Key: 'rotation-window', Value: 'cron(0 2 ? * SAT#1 *) 3h' }],
        }),
        listed('rds!db-0a1b', { LastRotatedDate: ago(300), OwningService: 'rds', RotationEnabled: true }),
      ],
    });
    sm.on(BatchGetSecretValueCommand).callsFake((input: { SecretIdList: string[] }) => ({
      SecretValues: input.SecretIdList.map((id) => ({
        ARN: id,
        VersionStages: ['AWSCURRENT'],
        SecretString: '{}',
      })),
    }));
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const scoped = { ...settings, managedPrefixes: [...settings.managedPrefixes, 'rds!'] };
    const at = new Date('2026-06-06T04:50:00Z'); // ten minutes before the window closes

    // Act
    const result = await runEnforcement(
      {
        ...deps(at),
        settings: scoped,
        runId: 'run-1',
        spreadSeconds: 900,
        inlineLimit: 1000,
        gracePeriodMs: 900_000,
        sqs: new SQSClient({ region: 'us-east-1' }),
        queueUrl: async () => 'https://sqs.us-east-1.amazonaws.com/123456789012/enforce',
        publisher: async () => undefined,
      },
      { trigger: 'schedule', dryRun: false, ignoreWindows: false },
    );

    // Assess: most overdue first, 0/300/600 s; c at 600 s would fall at 05:00, outside: 300 s.
    const entries = sqs.commandCalls(SendMessageBatchCommand).flatMap((c) => c.args[0].input.Entries ?? []);
    expect(entries.map((e) => [JSON.parse(e.MessageBody ?? '{}').secret.name, e.DelaySeconds])).toEqual([
      ['production/database/a', 0],
      ['production/database/b', 300],
      ['production/database/c', 300],
    ]);
    expect(sm.commandCalls(RotateSecretCommand)).toEqual([]);
    expect(result).toMatchObject({ planned: { start: 3, secretsNeedingPerson: 1 }, done: { queued: 3 } });
    expect(result.notices).toEqual([
      expect.objectContaining({ secret: 'rds!db-0a1b', kind: 'managed-by-another-service' }),
    ]);
  });

  it('hands the changes to the queue instead of starting them when too little time is left in the invocation', async () => {
    // Prepare: one secret whose rotation is off (a change), 60 s left of the invocation.
    sm.on(ListSecretsCommand).resolves({
      SecretList: [listed('production/database/a', { LastRotatedDate: ago(10), RotationEnabled: false })],
    });
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });

    // Act
    const result = await runEnforcement(
      {
        ...deps(),
        runId: 'run-1',
        spreadSeconds: 0,
        inlineLimit: 1000,
        gracePeriodMs: 900_000,
        sqs: new SQSClient({ region: 'us-east-1' }),
        queueUrl: async () => 'https://sqs.us-east-1.amazonaws.com/123456789012/enforce',
        publisher: async () => undefined,
        remainingMs: () => 60_000,
      },
      { trigger: 'schedule', dryRun: false, ignoreWindows: false },
    );

    // Assess
    expect(sm.commandCalls(RotateSecretCommand)).toEqual([]);
    const [entry] = sqs.commandCalls(SendMessageBatchCommand).flatMap((c) => c.args[0].input.Entries ?? []);
    expect(JSON.parse(entry?.MessageBody ?? '{}')).toMatchObject({
      configure: true,
      secret: { name: 'production/database/a' },
    });
    expect(result).toMatchObject({ mode: 'inline', done: { configured: 0, queued: 1 } });
  });
});
