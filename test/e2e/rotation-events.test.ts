import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
  TestEventPatternCommand,
} from '@aws-sdk/client-eventbridge';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildRotationEventsHandler } from '../../functions/rotation-events/handler.js';
import {
  ACCESS_DENIED_PATTERN,
  METRICS_NAMESPACE,
  ROTATION_OUTCOME_PATTERN,
} from '../../shared/alerts/index.js';
import { captureOutput, findLeaks, lambdaContext, stack, uniqueName } from '../support/bed.js';
import { sampleEvent } from '../support/events.js';

/**
 * rotationEvents end to end: alerts published to a real SNS topic on moto, read back from an
 * SQS queue subscribed to it; the rules' patterns matched by moto's EventBridge, delivering
 * to an SQS target. moto delivers no CloudTrail events and its rules cannot target Lambda or
 * SNS, so the events are the documented shapes in functions/events/.
 */

const REGION = 'us-east-1';
const client = <T>(Client: new (config: object) => T): T =>
  new Client({
    region: REGION,
    endpoint: stack().awsEndpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
const sns = client(SNSClient);
const sqs = client(SQSClient);
const events = client(EventBridgeClient);
const ROTATION_FILES = ['rotation-started', 'rotation-succeeded', 'rotation-failed', 'rotation-abandoned'];
const DENIED_FILES = ['access-denied-get-secret-value', 'access-denied-put-secret-value'];

let topicArn: string;
let queueUrl: string;
let output: ReturnType<typeof captureOutput>;
let planted: string[];

async function queueFor(name: string): Promise<{ url: string; arn: string }> {
  const url = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl ?? '';
  const attributes = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  return { url, arn: attributes.Attributes?.QueueArn ?? '' };
}

/** Every message in the queue now (moto delivers synchronously). */
async function drain(url: string): Promise<Message[]> {
  const messages: Message[] = [];
  for (;;) {
    const page = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (!page.Messages?.length) return messages;
    messages.push(...page.Messages);
  }
}

/** The alerts received: SNS notifications' subject and parsed body. */
async function alerts(): Promise<{ subject: string; body: Record<string, unknown> }[]> {
  return (await drain(queueUrl)).map((message) => {
    const notification = JSON.parse(message.Body ?? '{}') as { Subject: string; Message: string };
    return { subject: notification.Subject, body: JSON.parse(notification.Message) };
  });
}

function handler(options: { topicArn?: string; metrics?: Metrics } = {}) {
  return buildRotationEventsHandler({
    config: 'topicArn' in options ? (options.topicArn ? { topicArn: options.topicArn } : {}) : { topicArn },
    sns,
    logger: new Logger({ serviceName: 'rotation-events-e2e' }),
    ...(options.metrics ? { metrics: options.metrics } : {}),
  });
}

beforeAll(async () => {
  topicArn = (await sns.send(new CreateTopicCommand({ Name: uniqueName('alerts') }))).TopicArn ?? '';
  const queue = await queueFor(uniqueName('alert-inbox'));
  queueUrl = queue.url;
  await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queue.arn }));
});

beforeEach(async () => {
  planted = [];
  await drain(queueUrl);
  output = captureOutput();
});

afterEach(() => {
  output.stop();
  expect(findLeaks(output.text(), planted), 'planted values in captured output').toEqual([]);
});

describe('rotationEvents', () => {
  it('alerts through SNS on a failed rotation, with the secret and the reason', async () => {
    const result = await handler()(sampleEvent('rotation-failed'), lambdaContext);

    const received = await alerts();
    expect(result).toMatchObject({
      kind: 'rotation',
      outcome: 'failed',
      alerted: true,
      secret: 'production/database/primary',
    });
    expect(received).toHaveLength(1);
    expect(received[0]?.subject).toBe('Secret rotation failed: production/database/primary');
    expect(received[0]?.body).toMatchObject({
      alert: 'rotation-failed',
      secret: 'production/database/primary',
      secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:production/database/primary-a1b2c3',
      reason: expect.stringContaining('during setSecret step'),
      time: '2026-11-30T02:17:48Z',
    });
  });

  it('alerts on an abandoned rotation', async () => {
    await handler()(sampleEvent('rotation-abandoned'), lambdaContext);

    expect((await alerts()).map((alert) => alert.body.alert)).toEqual(['rotation-abandoned']);
  });

  it('logs started and succeeded rotations without alerting', async () => {
    const results = [
      await handler()(sampleEvent('rotation-started'), lambdaContext),
      await handler()(sampleEvent('rotation-succeeded'), lambdaContext),
    ];

    expect(results).toMatchObject([
      { outcome: 'started', alerted: false },
      { outcome: 'succeeded', alerted: false },
    ]);
    expect(await alerts()).toEqual([]);
    const lines = output
      .text()
      .split('\n')
      .filter((line) => line.includes('"rotation outcome"'));
    expect(lines).toHaveLength(2);
    expect(lines.every((line) => line.includes('production/database/primary'))).toBe(true);
  });

  it('alerts on an AccessDenied call with the caller, the source IP and the secret, never a request value', async () => {
    const secretValue = `re_PLANTED_${uniqueName('key')}\r\n\u0000ü€`;
    planted.push(secretValue);
    const event = sampleEvent('access-denied-put-secret-value');
    event.detail.requestParameters = {
      ...(event.detail.requestParameters as object),
      secretString: secretValue,
      secretBinary: Buffer.from(secretValue).toString('base64'),
    };
    planted.push(Buffer.from(secretValue).toString('base64'));

    const result = await handler()(event, lambdaContext);

    const received = await alerts();
    expect(result).toMatchObject({ kind: 'access-denied', alerted: true });
    expect(received).toHaveLength(1);
    expect(received[0]?.subject).toBe(
      'Unauthorized Secrets Manager call: PutSecretValue on production/api-keys/resend',
    );
    expect(received[0]?.body).toMatchObject({
      alert: 'unauthorized-access',
      eventName: 'PutSecretValue',
      errorCode: 'AccessDeniedException',
      secrets: ['production/api-keys/resend'],
      caller: {
        arn: 'arn:aws:sts::123456789012:assumed-role/ci-deployer/ci-deploy',
        sessionIssuer: 'arn:aws:iam::123456789012:role/ci-deployer',
        sourceIp: '203.0.113.77',
      },
    });
    expect(findLeaks(JSON.stringify(received) + JSON.stringify(result), planted)).toEqual([]);
  });

  it('logs and ignores an event of an unknown shape with the reason, without throwing or alerting', async () => {
    const results = [
      await handler()({ hello: 'world' }, lambdaContext),
      await handler()(
        { ...sampleEvent('rotation-failed'), detail: { eventName: 'RotationFailed' } },
        lambdaContext,
      ),
    ];

    expect(results).toMatchObject([
      { kind: 'ignored', alerted: false, reason: expect.stringContaining('not an EventBridge event') },
      { kind: 'ignored', alerted: false, reason: expect.stringContaining('malformed RotationFailed event') },
    ]);
    expect(await alerts()).toEqual([]);
    expect(output.text()).toContain('event ignored');
  });

  it('logs the alert as not delivered when no topic is configured (a local run)', async () => {
    const result = await handler({ topicArn: '' })(sampleEvent('rotation-failed'), lambdaContext);

    expect(result).toMatchObject({ alerted: false, reason: expect.stringContaining('ALERT_TOPIC_ARN') });
    expect(output.text()).toContain('alert not delivered');
  });

  it('derives the topic from the function ARN and ALERT_TOPIC_NAME, as deployed', async () => {
    const name = topicArn.split(':').at(-1) ?? '';
    const deployed = buildRotationEventsHandler({
      config: { topicName: name },
      sns,
      logger: new Logger({ serviceName: 'rotation-events-e2e' }),
    });

    const result = await deployed(sampleEvent('rotation-failed'), lambdaContext);

    expect(result).toMatchObject({ alerted: true });
    expect(await alerts()).toHaveLength(1);
  });

  it('fails the invocation when SNS refuses the alert, so that EventBridge retries it', async () => {
    const missing = topicArn.replace(/[^:]+$/, uniqueName('deleted-topic'));

    await expect(
      handler({ topicArn: missing })(sampleEvent('rotation-failed'), lambdaContext),
    ).rejects.toThrow(/AlertDeliveryError|could not publish the alert/);
  });

  it('counts outcomes and access denials as embedded metrics', async () => {
    const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'rotation-events-e2e' });

    await handler({ topicArn, metrics })(sampleEvent('rotation-failed'), lambdaContext);
    await handler({ topicArn, metrics })(sampleEvent('access-denied-get-secret-value'), lambdaContext);

    const emf = output
      .text()
      .split('\n')
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(
      emf.map((record) => Object.keys(record).filter((key) => /^Rotations|^Unauthorized/.test(key))),
    ).toEqual([['RotationsFailed'], ['UnauthorizedAccessAttempts']]);
  });
});

describe('rotationEvents rules', () => {
  it("match exactly the events the handler acts on, on moto's EventBridge", async () => {
    // Prepare: one rule per pattern, each delivering to a queue of its own.
    const targets: Record<string, { url: string; arn: string }> = {};
    for (const [name, pattern] of Object.entries({
      outcomes: ROTATION_OUTCOME_PATTERN,
      denied: ACCESS_DENIED_PATTERN,
    })) {
      const rule = uniqueName(name);
      targets[name] = await queueFor(uniqueName(`${name}-target`));
      await events.send(new PutRuleCommand({ Name: rule, EventPattern: JSON.stringify(pattern) }));
      await events.send(
        new PutTargetsCommand({ Rule: rule, Targets: [{ Id: 'queue', Arn: targets[name]?.arn }] }),
      );
    }
    const unrelated: ReturnType<typeof sampleEvent> = {
      ...sampleEvent('rotation-failed'),
      detail: { ...sampleEvent('rotation-failed').detail, eventName: 'EndSecretVersionDelete' },
    };
    const allowed: ReturnType<typeof sampleEvent> = {
      ...sampleEvent('access-denied-get-secret-value'),
      detail: { ...sampleEvent('access-denied-get-secret-value').detail, errorCode: undefined },
    };
    const all = [...ROTATION_FILES, ...DENIED_FILES].map((file) => [file, sampleEvent(file)] as const);

    // Act: the fixtures, and two events no rule should take.
    for (const [, event] of [...all, ['unrelated', unrelated] as const, ['allowed', allowed] as const]) {
      await events.send(
        new PutEventsCommand({
          Entries: [
            {
              Source: event.source as string,
              DetailType: event['detail-type'] as string,
              Detail: JSON.stringify(event.detail),
            },
          ],
        }),
      );
    }

    // Assess
    const names = async (url: string) =>
      (await drain(url)).map((message) => {
        const detail = (
          JSON.parse(message.Body ?? '{}') as { detail: { eventName: string; errorCode?: string } }
        ).detail;
        return `${detail.eventName}${detail.errorCode ? `/${detail.errorCode}` : ''}`;
      });
    expect((await names(targets.outcomes?.url ?? '')).sort()).toEqual([
      'RotationAbandoned',
      'RotationFailed',
      'RotationStarted',
      'RotationSucceeded',
    ]);
    expect((await names(targets.denied?.url ?? '')).sort()).toEqual([
      'GetSecretValue/AccessDenied',
      'PutSecretValue/AccessDeniedException',
    ]);
  });

  it("TestEventPattern is a stub on moto (it answers no Result), so moto's rule delivery is used above", async () => {
    const out = await events.send(
      new TestEventPatternCommand({
        EventPattern: JSON.stringify(ROTATION_OUTCOME_PATTERN),
        Event: JSON.stringify(sampleEvent('rotation-failed')),
      }),
    );

    expect(out.Result).toBeUndefined();
  });

  it('are the patterns serverless.yml deploys (resolved by `serverless print`)', async () => {
    const { stdout } = await promisify(execFile)('npx', ['serverless', 'print', '--format', 'json'], {
      cwd: new URL('../..', import.meta.url).pathname,
      timeout: 60_000,
    });
    const resources = (
      JSON.parse(stdout) as {
        resources: { Resources: Record<string, { Properties: Record<string, unknown> }> };
      }
    ).resources.Resources;

    expect(resources.RotationOutcomeRule?.Properties.EventPattern).toEqual(ROTATION_OUTCOME_PATTERN);
    expect(resources.AccessDeniedRule?.Properties.EventPattern).toEqual(ACCESS_DENIED_PATTERN);
    expect(resources.AccessDeniedRule?.Properties.State).toBe(
      'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS',
    );
  });
});
