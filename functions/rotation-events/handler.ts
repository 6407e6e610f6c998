import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { SNSClient } from '@aws-sdk/client-sns';
import {
  type AlertConfig,
  type AlertPublisher,
  alertTopicArn,
  handleSecretsManagerEvent,
  loadAlertConfig,
  METRICS_NAMESPACE,
  SnsAlertPublisher,
} from '../../shared/alerts/index.js';
import type { Logger } from '../../shared/logging/index.js';
import { SERVICE_NAME } from '../../shared/logging/index.js';
import { lazyHandler } from '../lib/lazy-handler.js';
import { createLambdaHandler } from '../lib/rotation-handler.js';

/** What the rotationEvents handler is built from; tests pass their own. */
export interface RotationEventsDependencies {
  readonly config: AlertConfig;
  readonly sns: SNSClient;
  readonly logger: Logger;
  readonly metrics?: Metrics;
}

/**
 * Builds the `rotationEvents` handler, the target of the EventBridge rules on Secrets
 * Manager's rotation outcomes and AccessDenied calls (shared/alerts/event-patterns.json).
 */
export function buildRotationEventsHandler(deps: RotationEventsDependencies) {
  const publishers = new Map<string, AlertPublisher>();
  const publisherFor = (functionArn: string | undefined): AlertPublisher | undefined => {
    const topicArn = alertTopicArn({ ...deps.config, ...(functionArn ? { functionArn } : {}) });
    if (!topicArn) return undefined;
    let publisher = publishers.get(topicArn);
    if (!publisher) {
      publisher = new SnsAlertPublisher(deps.sns, topicArn);
      publishers.set(topicArn, publisher);
    }
    return publisher;
  };
  const { metrics } = deps;
  const handler = createLambdaHandler(deps.logger, (event, context) =>
    handleSecretsManagerEvent(
      {
        logger: deps.logger,
        publisher: publisherFor(context.invokedFunctionArn),
        ...(metrics ? { metrics } : {}),
      },
      event,
    ),
  );
  return metrics ? handler.use(logMetrics(metrics)) : handler;
}

/** The deployed handler; configuration and clients are created once, at the first invocation. */
export const handler = lazyHandler((logger) =>
  buildRotationEventsHandler({
    config: loadAlertConfig(),
    sns: new SNSClient({}),
    logger,
    metrics: new Metrics({
      namespace: METRICS_NAMESPACE,
      serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME,
    }),
  }),
);
