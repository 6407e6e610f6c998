import { readFileSync } from 'node:fs';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../shared/config/index.js';
import {
  ALERT_SECRET_LIMIT,
  DEFAULT_STARTS_PER_SECOND,
  EnforcementQueueError,
  enforcementAlert,
  InvalidEnforcementInputError,
  InvalidWorkItemError,
  loadEnforcementConfig,
  parseEnforcementRequest,
  parseWorkItem,
  sendWorkItems,
  VERSION_WRITE_SHARE,
  WORK_ITEM_VERSION,
  WORKER_BATCH_SIZE,
  WORKER_PACING_BUDGET_MS,
  type WorkItem,
} from '../../shared/enforcement/index.js';
import { VERSION_WRITES_PER_ROTATION } from '../../shared/rotation/index.js';

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:production/database/primary-AbCdEf';
const ITEM: WorkItem = {
  v: WORK_ITEM_VERSION,
  run: { id: 'c6af9ac6-7b61-11e6-9a41-93e812345678', at: '2026-06-15T05:00:00.000Z', ignoreWindows: false },
  secret: { arn: ARN, name: 'production/database/primary' },
  start: { token: '91876f3a-e74b-8490-a269-fc0473183ee4' },
};

describe('parseEnforcementRequest', () => {
  it.each([
    [undefined, { trigger: 'manual', dryRun: false, ignoreWindows: false }],
    [{}, { trigger: 'manual', dryRun: false, ignoreWindows: false }],
    [{ dryRun: true }, { trigger: 'manual', dryRun: true, ignoreWindows: false }],
    [{ ignoreWindows: true }, { trigger: 'manual', dryRun: false, ignoreWindows: true }],
    [
      { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} },
      { trigger: 'schedule', dryRun: false, ignoreWindows: false },
    ],
  ])('reads %j', (event, expected) => {
    // Act / Assess
    expect(parseEnforcementRequest(event)).toEqual(expected);
  });

  it.each([
    ["{'dryRun': true}", 'it must be a JSON object such as {"dryRun": true}, not string'],
    [{ dryRun: 'yes' }, 'dryRun must be a boolean (got string)'],
    [{ dryrun: true }, 'unknown field "dryrun" (known: dryRun, ignoreWindows)'],
    [[1], 'not array'],
    // The scheduled event with a flag added by hand: a real run must not pass for a dry run.
    [
      { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {}, dryRun: true },
      'a scheduled event (source aws.events) takes no dryRun or ignoreWindows: send {"dryRun": true} alone',
    ],
    [{ source: 'aws.events', ignoreWindows: true }, 'takes no dryRun or ignoreWindows'],
  ])('refuses %j with an InvalidEnforcementInputError saying what is wrong', (event, message) => {
    // Act / Assess
    expect(() => parseEnforcementRequest(event)).toThrow(InvalidEnforcementInputError);
    expect(() => parseEnforcementRequest(event)).toThrow(message);
  });
});

describe('the sample events (functions/events/)', () => {
  const sample = (name: string) => JSON.parse(readFileSync(`functions/events/${name}.json`, 'utf8'));

  it('are inputs the enforcer and its worker take', () => {
    // Act / Assess
    expect(parseEnforcementRequest(sample('enforce-rotation-policy-scheduled'))).toMatchObject({
      trigger: 'schedule',
    });
    expect(parseEnforcementRequest(sample('enforce-rotation-policy-dry-run'))).toMatchObject({
      dryRun: true,
    });
    const [record] = sample('enforce-rotation-policy-worker-sqs').Records;
    expect(parseWorkItem(record.body)).toMatchObject({ configure: true, start: expect.any(Object) });
  });
});

describe('parseWorkItem', () => {
  it('reads a work item as the enforcer writes it', () => {
    // Act / Assess
    expect(parseWorkItem(JSON.stringify(ITEM))).toEqual(ITEM);
  });

  it.each([
    ['not json', 'the message is not JSON'],
    [JSON.stringify({ ...ITEM, v: 2 }), 'v:'],
    [JSON.stringify({ ...ITEM, secret: { arn: 'arn:aws:s3:::bucket', name: 'x' } }), 'secret.arn'],
    [JSON.stringify({ ...ITEM, start: undefined }), 'asks for nothing'],
    [JSON.stringify({ ...ITEM, start: { token: 'short' } }), 'start.token'],
    [JSON.stringify({ ...ITEM, extra: 1 }), 'extra'],
  ])('refuses %s with an InvalidWorkItemError', (body, message) => {
    // Act / Assess
    expect(() => parseWorkItem(body)).toThrow(InvalidWorkItemError);
    expect(() => parseWorkItem(body)).toThrow(message);
  });
});

describe('sendWorkItems', () => {
  const sqs = mockClient(SQSClient);
  beforeEach(() => sqs.reset());

  it('sends ten messages a call, each with its delay, and sends again the entries SQS reports as failed', async () => {
    // Prepare: the first call fails one entry, once.
    let first = true;
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => {
      const failed = first
        ? [{ Id: input.Entries[0]?.Id ?? '', Code: 'InternalError', SenderFault: false }]
        : [];
      first = false;
      return { Successful: [], Failed: failed };
    });
    const items = Array.from({ length: 23 }, (_, i) => ({ item: ITEM, delaySeconds: i * 50 }));

    // Act
    await sendWorkItems(new SQSClient({ region: 'us-east-1' }), 'https://queue', items);

    // Assess: 3 batches plus one resend of the failed entry; delays capped at SQS's 900 s.
    const calls = sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input.Entries ?? []);
    expect(calls.map((entries) => entries.length).sort((a, b) => a - b)).toEqual([1, 3, 10, 10]);
    expect(calls.flat().map((e) => e.DelaySeconds)).toContain(850);
    expect(Math.max(...calls.flat().map((e) => e.DelaySeconds ?? 0))).toBe(900);
    expect(JSON.parse(calls[0]?.[0]?.MessageBody ?? '{}')).toEqual(ITEM);
  });

  it('throws an EnforcementQueueError naming the items not queued after three attempts', async () => {
    // Prepare: SQS refuses, as the SDK reports an AWS error (a service fault).
    sqs
      .on(SendMessageBatchCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDenied', $fault: 'client' }));

    // Act
    const error = await sendWorkItems(new SQSClient({ region: 'us-east-1' }), 'https://queue', [
      { item: ITEM, delaySeconds: 0 },
    ]).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(EnforcementQueueError);
    expect((error as Error).message).toBe(
      '1 of 1 work items could not be queued: production/database/primary (AccessDenied: denied)',
    );
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(3);
  });
});

describe('enforcementAlert', () => {
  it('groups notices by secret, names at most the limit and counts the rest', () => {
    // Prepare
    const notices = Array.from({ length: ALERT_SECRET_LIMIT + 5 }, (_, i) => ({
      secret: `production/api-keys/k${String(i).padStart(3, '0')}`,
      kind: 'manual-action' as const,
      reason: 'stage a value',
    }));

    // Act
    const alert = enforcementAlert([...notices, ...notices.slice(0, 1)], {
      environment: 'production',
      runId: 'r',
      source: 'The daily policy run',
    });

    // Assess
    expect(alert?.subject).toBe('Secrets rotation (production): 55 secrets need a person');
    expect(alert?.body).toMatchObject({ more: 5 });
    const secrets = (alert?.body.secrets ?? []) as { notices: unknown[] }[];
    expect(secrets).toHaveLength(ALERT_SECRET_LIMIT);
    expect(secrets[0]?.notices).toHaveLength(1);
  });

  it('is undefined when nobody needs telling', () => {
    // Act / Assess
    expect(enforcementAlert([], { environment: 'production', runId: 'r', source: 's' })).toBeUndefined();
  });
});

describe('loadEnforcementConfig', () => {
  it('defaults to a 900 s spread, 1,000 items inline, a one-hour repair age, the stage-named queue and topic, and Lambda invokes', () => {
    // Act
    const config = loadEnforcementConfig({});

    // Assess
    expect(config).toMatchObject({
      spreadSeconds: 900,
      inlineLimit: 1000,
      repairMinAgeMs: 3_600_000,
      gracePeriodMs: 900_000,
      queueName: 'secrets-rotation-production-enforce',
      workerConcurrency: 5,
      startsPerSecond: 10,
      alerts: { topicName: 'secrets-rotation-production-alerts' },
      stepRunner: 'lambda',
      localEndpoint: false,
    });
  });

  it('starts 10 rotations a second by default: 60% of the 50/s version-write quota over the 3 writes each makes', () => {
    // Act / Assess
    expect(VERSION_WRITES_PER_ROTATION).toBe(3);
    expect(DEFAULT_STARTS_PER_SECOND).toBe(
      Math.floor((50 * VERSION_WRITE_SHARE) / VERSION_WRITES_PER_ROTATION),
    );
    expect(DEFAULT_STARTS_PER_SECOND).toBe(10);
  });

  it.each(['1', '50', ' 25 '])('takes ENFORCE_STARTS_PER_SECOND=%j from 1 to 50', (value) => {
    // Act / Assess
    expect(loadEnforcementConfig({ ENFORCE_STARTS_PER_SECOND: value }).startsPerSecond).toBe(Number(value));
  });

  it.each([
    ['1', '5'],
    ['1', '6'],
    ['10', '66'],
    ['50', '333'],
  ])(
    'takes ENFORCE_STARTS_PER_SECOND=%s with ENFORCE_WORKER_CONCURRENCY=%s: a batch of 10 waits at most 60 s for RotateSecret',
    (rate, concurrency) => {
      // Act
      const config = loadEnforcementConfig({
        ENFORCE_STARTS_PER_SECOND: rate,
        ENFORCE_WORKER_CONCURRENCY: concurrency,
      });

      // Assess
      expect(
        ((WORKER_BATCH_SIZE - 1) * config.workerConcurrency) / config.startsPerSecond,
      ).toBeLessThanOrEqual(WORKER_PACING_BUDGET_MS / 1000);
    },
  );

  it.each([
    ['1', '7'],
    ['10', '67'],
    ['10', '1000'],
  ])(
    'refuses ENFORCE_STARTS_PER_SECOND=%s with ENFORCE_WORKER_CONCURRENCY=%s: a batch of 10 would outlast the worker',
    (rate, concurrency) => {
      // Prepare
      const env = { ENFORCE_STARTS_PER_SECOND: rate, ENFORCE_WORKER_CONCURRENCY: concurrency };

      // Act / Assess
      expect(() => loadEnforcementConfig(env)).toThrow(ConfigurationError);
      expect(() => loadEnforcementConfig(env)).toThrow(
        /ENFORCE_WORKER_CONCURRENCY .* ENFORCE_STARTS_PER_SECOND .*at most \d+/,
      );
    },
  );

  it('runs steps in process by default against a local emulator', () => {
    // Act / Assess
    expect(loadEnforcementConfig({ AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' }).stepRunner).toBe(
      'in-process',
    );
  });

  it.each([
    [{ ENFORCE_SPREAD_SECONDS: '901' }, 'ENFORCE_SPREAD_SECONDS must be an integer from 0 to 900'],
    [{ ENFORCE_QUEUE_NAME: 'bad name' }, 'ENFORCE_QUEUE_NAME must be an SQS queue name'],
    [{ ENFORCE_INLINE_LIMIT: '-1' }, 'ENFORCE_INLINE_LIMIT must be an integer'],
    [{ ENFORCE_STARTS_PER_SECOND: '0' }, 'ENFORCE_STARTS_PER_SECOND must be an integer from 1 to 50'],
    [{ ENFORCE_STARTS_PER_SECOND: '51' }, 'ENFORCE_STARTS_PER_SECOND must be an integer from 1 to 50'],
    [{ ENFORCE_STARTS_PER_SECOND: '2.5' }, 'ENFORCE_STARTS_PER_SECOND must be an integer from 1 to 50'],
    [{ ENFORCE_STARTS_PER_SECOND: 'fast' }, 'ENFORCE_STARTS_PER_SECOND must be an integer from 1 to 50'],
  ])('refuses %j with a ConfigurationError naming the variable', (env, message) => {
    // Act / Assess
    expect(() => loadEnforcementConfig(env)).toThrow(ConfigurationError);
    expect(() => loadEnforcementConfig(env)).toThrow(message);
  });
});
