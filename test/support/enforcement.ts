/**
 * The enforcer's surroundings on the moto server: its queue drained into SQS events for the
 * worker (as Lambda's event source mapping would deliver them), alerts caught by an SQS queue
 * subscribed to the topic, and the full state of a fleet for before/after comparisons.
 */
import { createHash } from 'node:crypto';
import { ListSchedulesCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { ListTopicsCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { stack } from './bed.js';

const local = () => ({
  region: 'us-east-1',
  endpoint: stack().awsEndpoint,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});

export const sqsClient = () => new SQSClient(local());
export const snsClient = () => new SNSClient(local());
export const schedulerClient = () => new SchedulerClient(local());

/** The URL of queue `name`, or undefined when it does not exist. */
export async function queueUrlOf(sqs: SQSClient, name: string): Promise<string | undefined> {
  try {
    return (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
  } catch (error) {
    if ((error as Error).name.includes('NonExistentQueue') || (error as Error).name === 'QueueDoesNotExist')
      return undefined;
    throw error;
  }
}

/** Every message now visible on the queue (received, not deleted: they become visible again after the timeout). */
export async function receiveAll(sqs: SQSClient, queueUrl: string): Promise<Message[]> {
  const messages: Message[] = [];
  for (;;) {
    const out = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }),
    );
    if (!out.Messages?.length) return messages;
    messages.push(...out.Messages);
  }
}

/** The SQS event Lambda's event source mapping would deliver for `messages`. */
export function sqsEvent(messages: readonly Message[], queueArn: string): SQSEvent {
  return {
    Records: messages.map(
      (message): SQSRecord => ({
        messageId: message.MessageId ?? '',
        receiptHandle: message.ReceiptHandle ?? '',
        body: message.Body ?? '',
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: String(Date.now()),
          SenderId: 'AIDAEXAMPLE',
          ApproximateFirstReceiveTimestamp: String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: message.MD5OfBody ?? '',
        eventSource: 'aws:sqs',
        eventSourceARN: queueArn,
        awsRegion: 'us-east-1',
      }),
    ),
  };
}

/**
 * Drains the queue through `worker` as the event source mapping does: batches of up to ten
 * messages; a message the worker reports as failed stays on the queue, the others are deleted.
 * Returns every batch's reported failures.
 */
export async function drainQueue(
  sqs: SQSClient,
  queueUrl: string,
  worker: (event: SQSEvent) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>,
): Promise<{ messages: number; failed: string[] }> {
  const arn = await queueArn(sqs, queueUrl);
  const messages = await receiveAll(sqs, queueUrl);
  const failed: string[] = [];
  for (let i = 0; i < messages.length; i += 10) {
    const batch = messages.slice(i, i + 10);
    const response = await worker(sqsEvent(batch, arn));
    const failures = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    failed.push(...failures);
    for (const message of batch)
      if (!failures.has(message.MessageId ?? ''))
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
  }
  return { messages: messages.length, failed };
}

export async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  return out.Attributes?.QueueArn ?? '';
}

/** A queue subscribed to topic `topicName` (created if missing): what people would get by e-mail. */
export async function subscribeToAlerts(
  sns: SNSClient,
  sqs: SQSClient,
  topicArn: string,
  queueName: string,
): Promise<string> {
  const { QueueUrl = '' } = await sqs.send(new CreateQueueCommand({ QueueName: queueName }));
  await sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: await queueArn(sqs, QueueUrl),
      Attributes: { RawMessageDelivery: 'true' },
    }),
  );
  return QueueUrl;
}

/** The topics that exist, by ARN. */
export async function topicArns(sns: SNSClient): Promise<string[]> {
  return ((await sns.send(new ListTopicsCommand({}))).Topics ?? []).map((t) => t.TopicArn ?? '');
}

const digest = (text: string | undefined) =>
  text === undefined ? null : createHash('sha256').update(text).digest('hex');

/**
 * Everything that makes up the secrets under `prefix`, and the schedules and queues around
 * them: each secret's metadata as DescribeSecret shows it (rotation settings, dates, tags,
 * labels, owning service), every version with its labels (deprecated ones too) and a digest of
 * its value, the EventBridge Scheduler schedules, and the messages on `queueUrls`. Timestamps
 * moto makes up on every read (a version's CreatedDate and LastAccessedDate) are left out.
 */
export async function fleetState(
  sm: SecretsManagerClient,
  prefix: string,
  extra: { scheduler: SchedulerClient; sqs: SQSClient; queueUrls: readonly string[] },
): Promise<Record<string, unknown>> {
  const secrets: Record<string, unknown> = {};
  const listed = await sm.send(
    new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [prefix] }], MaxResults: 100 }),
  );
  for (const entry of listed.SecretList ?? []) {
    const { $metadata: _, ...described } = await sm.send(new DescribeSecretCommand({ SecretId: entry.ARN }));
    const versions = await sm.send(
      new ListSecretVersionIdsCommand({ SecretId: entry.ARN, IncludeDeprecated: true }),
    );
    const values: Record<string, unknown> = {};
    for (const version of versions.Versions ?? []) {
      const value = await sm
        .send(new GetSecretValueCommand({ SecretId: entry.ARN, VersionId: version.VersionId }))
        .then((out) => digest(out.SecretString))
        .catch((error: Error) => error.name);
      values[version.VersionId ?? ''] = { stages: version.VersionStages, value };
    }
    secrets[entry.Name ?? ''] = { described, versions: values };
  }
  const schedules = (await extra.scheduler.send(new ListSchedulesCommand({}))).Schedules ?? [];
  const queues: Record<string, unknown> = {};
  for (const url of extra.queueUrls) {
    const out = await extra.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    queues[url] = out.Attributes;
  }
  return {
    secrets,
    schedules: schedules.map((s) => ({ name: s.Name, group: s.GroupName, state: s.State })),
    queues,
  };
}
