/**
 * The enforcer's queue (SQS): work items go in as one message each, in batches of ten, with a
 * per-message delay that spreads rotation starts; the worker function drains it.
 */
import {
  CreateQueueCommand,
  GetQueueUrlCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { boundedConcurrency } from '../fleet/concurrency.js';
import { awsErrorText } from '../logging/aws-error.js';
import { EnforcementQueueError } from './errors.js';
import type { WorkItem } from './work-item.js';

/** SQS's longest per-message delay, in seconds. */
export const MAX_DELAY_SECONDS = 900;
/** Entries in one `SendMessageBatch` call (SQS's limit). */
const BATCH = 10;
/** Attempts at the entries SQS reports as failed. */
const ATTEMPTS = 3;

/** A work item on its way to the queue. */
export interface QueuedItem {
  readonly item: WorkItem;
  readonly delaySeconds: number;
}

/**
 * The URL of queue `name`. On a local emulator (`create`), the queue is created when missing
 * (on AWS it is the stack's resource, and the function may not create it).
 * @throws {EnforcementQueueError}
 */
export async function resolveQueueUrl(sqs: SQSClient, name: string, create: boolean): Promise<string> {
  try {
    const out = create
      ? await sqs.send(new CreateQueueCommand({ QueueName: name }))
      : await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    if (!out.QueueUrl) throw new Error('no QueueUrl in the answer');
    return out.QueueUrl;
  } catch (error) {
    const { name: code, message } = error as Error;
    throw new EnforcementQueueError(`could not find the enforcement queue ${name}: ${code}: ${message}`, {
      cause: error,
    });
  }
}

/**
 * Sends the items, ten to a `SendMessageBatch` call and four calls at a time. Entries SQS
 * reports as failed are sent again, up to three attempts in all.
 * @throws {EnforcementQueueError} saying how many items were not queued (the others were).
 */
export async function sendWorkItems(
  sqs: SQSClient,
  queueUrl: string,
  items: readonly QueuedItem[],
): Promise<void> {
  const run = boundedConcurrency(4);
  const batches: QueuedItem[][] = [];
  for (let i = 0; i < items.length; i += BATCH) batches.push(items.slice(i, i + BATCH));
  const lost: string[] = [];
  await Promise.all(
    batches.map((batch) =>
      run(async () => {
        let entries: SendMessageBatchRequestEntry[] = batch.map(({ item, delaySeconds }, i) => ({
          Id: String(i),
          MessageBody: JSON.stringify(item),
          DelaySeconds: Math.max(0, Math.min(MAX_DELAY_SECONDS, Math.round(delaySeconds))),
        }));
        let why = '';
        for (let attempt = 0; attempt < ATTEMPTS && entries.length > 0; attempt++) {
          try {
            const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
            const failed = new Set((out.Failed ?? []).map((f) => f.Id));
            why = (out.Failed ?? []).map((f) => `${f.Code}: ${f.Message ?? ''}`).join('; ') || why;
            entries = entries.filter((entry) => failed.has(entry.Id));
          } catch (error) {
            why = awsErrorText(error);
          }
        }
        for (const entry of entries) lost.push(`${batch[Number(entry.Id)]?.item.secret.name} (${why})`);
      }),
    ),
  );
  if (lost.length > 0)
    throw new EnforcementQueueError(
      `${lost.length} of ${items.length} work items could not be queued: ${lost.slice(0, 10).join(', ')}${lost.length > 10 ? ', …' : ''}`,
    );
}
