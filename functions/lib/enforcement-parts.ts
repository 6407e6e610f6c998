import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import type { AlertPublisher } from '../../shared/alerts/index.js';
import {
  alertPublisher,
  type EnforcementConfig,
  loadEnforcementConfig,
  type RevocationInvoker,
} from '../../shared/enforcement/index.js';
import { type Clock, createFleetClient, SecretsManagerRateLimiter } from '../../shared/fleet/index.js';
import type { Logger } from '../../shared/logging/index.js';
import { createMetrics, type Metrics } from '../../shared/metrics/index.js';
import type { RotationInvoker } from '../../shared/repair/index.js';
import { enforcementRunners } from './in-process-steps.js';

/** What both policy functions (the enforcer and its worker) are built from when deployed. */
export interface DeployedEnforcementParts {
  readonly config: EnforcementConfig;
  readonly secretsManager: SecretsManagerClient;
  readonly sns: SNSClient;
  readonly steps: RotationInvoker;
  readonly revoker: RevocationInvoker;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/**
 * The deployed parts: the configuration read from `env`, and a fleet client holding `share`
 * of every quota, with `RotateSecret` at that share of `ENFORCE_STARTS_PER_SECOND` (rotation
 * settings share that quota with the starts). `clock` paces the limiter (real time unless a
 * test passes one).
 */
export function deployedEnforcementParts(
  logger: Logger,
  env: Record<string, string | undefined>,
  options: { readonly share: (config: EnforcementConfig) => number; readonly clock?: Clock },
): DeployedEnforcementParts {
  const config = loadEnforcementConfig(env);
  return {
    config,
    secretsManager: createFleetClient({
      limiter: new SecretsManagerRateLimiter({
        share: options.share(config),
        rotationPerSecond: config.startsPerSecond,
        ...(options.clock ? { clock: options.clock } : {}),
      }),
    }),
    sns: new SNSClient({}),
    ...enforcementRunners(config.stepRunner, config.policy.environment),
    logger,
    metrics: createMetrics(config.policy.environment),
  };
}

/** The invocation's alert publisher: the configured topic, found by the invoked function's ARN. */
export function invocationAlertPublisher(
  sns: SNSClient,
  config: EnforcementConfig,
  context: Pick<Context, 'invokedFunctionArn'>,
): () => Promise<AlertPublisher | undefined> {
  return () =>
    alertPublisher(sns, config.alerts, {
      ...(context.invokedFunctionArn ? { functionArn: context.invokedFunctionArn } : {}),
      createLocally: config.localEndpoint,
    });
}
