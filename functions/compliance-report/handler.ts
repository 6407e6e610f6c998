import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { S3Client } from '@aws-sdk/client-s3';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { loadReportConfig, type ReportConfig } from '../../shared/config/policy.js';
import { createFleetClient } from '../../shared/fleet/index.js';
import type { Logger } from '../../shared/logging/index.js';
import { createMetrics, type Metrics } from '../../shared/metrics/index.js';
import {
  ensureLocalDestinations,
  parseReportRequest,
  runComplianceReport,
  topicArnFor,
} from '../../shared/report/index.js';
import { lazyHandler } from '../lib/lazy-handler.js';
import { createLambdaHandler } from '../lib/rotation-handler.js';

/** What the compliance report handler is built from; tests pass their own. */
export interface ComplianceReportDependencies {
  readonly config: ReportConfig;
  readonly secretsManager: SecretsManagerClient;
  readonly s3: S3Client;
  readonly sns: SNSClient;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  readonly now?: () => Date;
}

/**
 * Builds the `complianceReport` handler: on its weekly schedule or a manual `{}`, it writes
 * the report to S3 (JSON, CSV, HTML under a dated key), alerts the topic when any secret
 * needs attention, and returns the summary. The topic's ARN comes from the function's own ARN; on a
 * local emulator the bucket and topic are created if missing.
 */
export function buildComplianceReportHandler(deps: ComplianceReportDependencies) {
  const { config, logger } = deps;
  let alertTopicArn: string | undefined;
  const handler = createLambdaHandler(logger, async (event, context) => {
    const { trigger } = parseReportRequest(event);
    logger.appendKeys({ trigger });
    alertTopicArn ??= config.localEndpoint
      ? await ensureLocalDestinations(deps.s3, deps.sns, config.bucket, config.alertTopicName)
      : topicArnFor(context.invokedFunctionArn, config.alertTopicName);
    return runComplianceReport({
      secretsManager: deps.secretsManager,
      s3: deps.s3,
      sns: deps.sns,
      settings: config.policy,
      bucket: config.bucket,
      prefix: config.prefix,
      alertTopicArn,
      logger,
      ...(deps.metrics ? { metrics: deps.metrics } : {}),
      ...(deps.now ? { now: deps.now } : {}),
    });
  });
  return deps.metrics ? handler.use(logMetrics(deps.metrics)) : handler;
}

/** The deployed handler; configuration and clients are created once, at the first invocation. */
export const handler = lazyHandler((logger) => {
  const config = loadReportConfig();
  return buildComplianceReportHandler({
    config,
    secretsManager: createFleetClient(),
    s3: new S3Client({ forcePathStyle: config.localEndpoint }),
    sns: new SNSClient({}),
    logger,
    metrics: createMetrics(config.policy.environment),
  });
});
