import { randomUUID } from 'node:crypto';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import {
  type EnforcementConfig,
  parseEnforcementRequest,
  type RevocationInvoker,
  resolveQueueUrl,
  runEnforcement,
} from '../../shared/enforcement/index.js';
import type { Clock } from '../../shared/fleet/index.js';
import type { Logger } from '../../shared/logging/index.js';
import type { Metrics } from '../../shared/metrics/index.js';
import type { RotationInvoker } from '../../shared/repair/index.js';
import { SecretStore } from '../../shared/rotation/index.js';
import { deployedEnforcementParts, invocationAlertPublisher } from '../lib/enforcement-parts.js';
import { lazyHandler } from '../lib/lazy-handler.js';
import { createLambdaHandler } from '../lib/rotation-handler.js';

/** What the enforceRotationPolicy handler is built from; tests pass their own. */
export interface EnforcerHandlerDependencies {
  readonly config: EnforcementConfig;
  /** A fleet client (`createFleetClient`): adaptive retry, the quota limiter. */
  readonly secretsManager: SecretsManagerClient;
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
  /** Runs repair steps; sends revoke inputs. */
  readonly steps: RotationInvoker;
  readonly revoker: RevocationInvoker;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  readonly now?: () => Date;
}

/**
 * Builds the `enforceRotationPolicy` handler: on its daily schedule (or `{}`, `{"dryRun":
 * true}`, `{"ignoreWindows": true}`) it holds the managed secrets to the policy. See
 * shared/enforcement.
 */
export function buildEnforceRotationPolicyHandler(deps: EnforcerHandlerDependencies) {
  const { config, logger, sqs, sns } = deps;
  const store = new SecretStore(deps.secretsManager);
  let queueUrl: Promise<string> | undefined;
  const handler = createLambdaHandler(logger, async (event, context) => {
    const request = parseEnforcementRequest(event);
    logger.appendKeys({ trigger: request.trigger, dryRun: request.dryRun });
    return runEnforcement(
      {
        secretsManager: deps.secretsManager,
        store,
        steps: deps.steps,
        revoker: deps.revoker,
        settings: config.policy,
        repairMinAgeMs: config.repairMinAgeMs,
        gracePeriodMs: config.gracePeriodMs,
        spreadSeconds: config.spreadSeconds,
        inlineLimit: config.inlineLimit,
        logger,
        now: deps.now ?? (() => new Date()),
        runId: context.awsRequestId || randomUUID(),
        sqs,
        queueUrl: () => {
          queueUrl ??= resolveQueueUrl(sqs, config.queueName, config.localEndpoint);
          return queueUrl.catch((error: unknown) => {
            queueUrl = undefined;
            throw error;
          });
        },
        publisher: invocationAlertPublisher(sns, config, context),
        remainingMs: () => context.getRemainingTimeInMillis(),
        ...(deps.metrics ? { metrics: deps.metrics } : {}),
      },
      request,
    );
  });
  return deps.metrics ? handler.use(logMetrics(deps.metrics)) : handler;
}

/**
 * What the deployed enforcer is built from ({@link deployedEnforcementParts}): the full quotas,
 * `RotateSecret` at `ENFORCE_STARTS_PER_SECOND`, and its queue's client.
 */
export function deployedEnforcerDependencies(
  logger: Logger,
  env: Record<string, string | undefined> = process.env,
  clock?: Clock,
): EnforcerHandlerDependencies {
  return {
    ...deployedEnforcementParts(logger, env, { share: () => 1, ...(clock ? { clock } : {}) }),
    sqs: new SQSClient({}),
  };
}

/** The deployed handler; configuration and clients are created once, at the first invocation. */
export const handler = lazyHandler((logger) =>
  buildEnforceRotationPolicyHandler(deployedEnforcerDependencies(logger)),
);
