import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import {
  type EnforcementConfig,
  InvalidEnforcementInputError,
  type RevocationInvoker,
  startWorkerBatch,
} from '../../shared/enforcement/index.js';
import type { Clock } from '../../shared/fleet/index.js';
import type { Logger } from '../../shared/logging/index.js';
import type { Metrics } from '../../shared/metrics/index.js';
import type { RotationInvoker } from '../../shared/repair/index.js';
import { SecretStore } from '../../shared/rotation/index.js';
import { deployedEnforcementParts, invocationAlertPublisher } from '../lib/enforcement-parts.js';
import { lazyHandler } from '../lib/lazy-handler.js';
import { createLambdaHandler } from '../lib/rotation-handler.js';

/** What the enforceRotationPolicyWorker handler is built from; tests pass their own. */
export interface WorkerHandlerDependencies {
  readonly config: EnforcementConfig;
  /** A fleet client holding this worker's share of the quotas. */
  readonly secretsManager: SecretsManagerClient;
  readonly sns: SNSClient;
  readonly steps: RotationInvoker;
  readonly revoker: RevocationInvoker;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  readonly now?: () => Date;
}

function requireSqsEvent(event: unknown): SQSEvent {
  const records = (event as { Records?: unknown } | null)?.Records;
  if (
    !Array.isArray(records) ||
    records.some((r) => (r as { eventSource?: unknown } | null)?.eventSource !== 'aws:sqs')
  )
    throw new InvalidEnforcementInputError(
      'invalid enforceRotationPolicyWorker input: expected an SQS event ({"Records": [...]} from the enforcement queue)',
    );
  return event as SQSEvent;
}

/**
 * Builds the `enforceRotationPolicyWorker` handler: drains the enforcement queue, one work item
 * per message, and reports the messages that failed (partial batch response), so that only
 * those are delivered again.
 */
export function buildEnforcementWorkerHandler(deps: WorkerHandlerDependencies) {
  const { config, logger } = deps;
  const store = new SecretStore(deps.secretsManager);
  const processor = new BatchProcessor(EventType.SQS);
  const handler = createLambdaHandler(logger, async (event, context) => {
    const sqsEvent = requireSqsEvent(event);
    const batch = startWorkerBatch({
      secretsManager: deps.secretsManager,
      store,
      steps: deps.steps,
      revoker: deps.revoker,
      settings: config.policy,
      repairMinAgeMs: config.repairMinAgeMs,
      logger,
      now: deps.now ?? (() => new Date()),
      publisher: invocationAlertPublisher(deps.sns, config, context),
      ...(deps.metrics ? { metrics: deps.metrics } : {}),
    });
    const response = await processPartialResponse(
      sqsEvent,
      (record: SQSRecord) => batch.handle(record.body, record.messageId),
      processor,
      { context, throwOnFullBatchFailure: false },
    );
    const summary = await batch.finish();
    logger.info('work items done', {
      messages: sqsEvent.Records.length,
      failed: response.batchItemFailures.map((f) => f.itemIdentifier),
      ...summary,
    });
    return response;
  });
  return deps.metrics ? handler.use(logMetrics(deps.metrics)) : handler;
}

/**
 * What the deployed worker is built from ({@link deployedEnforcementParts}): up to
 * `ENFORCE_WORKER_CONCURRENCY` workers run at once, so each holds that share of every quota,
 * `RotateSecret` included.
 */
export function deployedWorkerDependencies(
  logger: Logger,
  env: Record<string, string | undefined> = process.env,
  clock?: Clock,
): WorkerHandlerDependencies {
  return deployedEnforcementParts(logger, env, {
    share: (config) => 1 / config.workerConcurrency,
    ...(clock ? { clock } : {}),
  });
}

/** The deployed handler; configuration and clients are created once, at the first invocation. */
export const handler = lazyHandler((logger) =>
  buildEnforcementWorkerHandler(deployedWorkerDependencies(logger)),
);
