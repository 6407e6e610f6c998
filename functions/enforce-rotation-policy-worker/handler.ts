import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import {
  alertPublisher,
  type EnforcementConfig,
  InvalidEnforcementInputError,
  loadEnforcementConfig,
  type RevocationInvoker,
  startWorkerBatch,
} from '../../shared/enforcement/index.js';
import { type Clock, createFleetClient, SecretsManagerRateLimiter } from '../../shared/fleet/index.js';
import type { Logger } from '../../shared/logging/index.js';
import { createMetrics, type Metrics } from '../../shared/metrics/index.js';
import type { RotationInvoker } from '../../shared/repair/index.js';
import { SecretStore } from '../../shared/rotation/index.js';
import { enforcementRunners } from '../lib/in-process-steps.js';
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
      publisher: () =>
        alertPublisher(deps.sns, config.alerts, {
          ...(context.invokedFunctionArn ? { functionArn: context.invokedFunctionArn } : {}),
          createLocally: config.localEndpoint,
        }),
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
 * What the deployed worker is built from: its configuration read from `env`, and a fleet client
 * holding 1/`ENFORCE_WORKER_CONCURRENCY` of every quota, with `RotateSecret` at that share of
 * `ENFORCE_STARTS_PER_SECOND`. `clock` paces the limiter (real time unless a test passes one).
 */
export function deployedWorkerDependencies(
  logger: Logger,
  env: Record<string, string | undefined> = process.env,
  clock?: Clock,
): WorkerHandlerDependencies {
  const config = loadEnforcementConfig(env);
  return {
    config,
    // Up to `workerConcurrency` workers run at once: each keeps to its share of the quotas.
    secretsManager: createFleetClient({
      limiter: new SecretsManagerRateLimiter({
        share: 1 / config.workerConcurrency,
        rotationPerSecond: config.startsPerSecond,
        ...(clock ? { clock } : {}),
      }),
    }),
    sns: new SNSClient({}),
    ...enforcementRunners(config.stepRunner, config.policy.environment),
    logger,
    metrics: createMetrics(config.policy.environment),
  };
}

/** The deployed handler; configuration and clients are created once, at the first invocation. */
export const handler = lazyHandler((logger) =>
  buildEnforcementWorkerHandler(deployedWorkerDependencies(logger)),
);
