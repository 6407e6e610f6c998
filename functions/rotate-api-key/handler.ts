import { Metrics } from '@aws-lambda-powertools/metrics';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { METRICS_NAMESPACE, type MetricsSink, publishedAtOnce } from '../../shared/alerts/metrics.js';
import {
  type ApiKeyProvider,
  ApiKeyStrategy,
  EventBridgeRevocationScheduler,
  isRevocationRequest,
  parseRevocationRequest,
  providerFor,
  revokeSupersededVersion,
  SupersessionRecords,
  UnscheduledRevocations,
} from '../../shared/api-keys/index.js';
import { createProviders } from '../../shared/api-keys/providers/index.js';
import { type ApiKeyRotationConfig, loadApiKeyRotationConfig } from '../../shared/config/index.js';
import { type Logger, SERVICE_NAME } from '../../shared/logging/index.js';
import {
  parseRotationEvent,
  RotationEngine,
  type SecretDescription,
  SecretStore,
} from '../../shared/rotation/index.js';
import { createWorkerSecretReader } from '../../shared/secrets/index.js';
import { lazyHandler } from '../lib/lazy-handler.js';
import { createLambdaHandler } from '../lib/rotation-handler.js';

/** What the API-key rotation handler is built from; tests pass their own. */
export interface ApiKeyRotationDependencies {
  readonly config: ApiKeyRotationConfig;
  readonly secretsManager: SecretsManagerClient;
  readonly logger: Logger;
  /** The providers by name; defaults to every built-in provider, configured from `config`. */
  readonly providers?: ReadonlyMap<string, ApiKeyProvider>;
  /** The EventBridge Scheduler client used when `config.revocation` is set; one from the environment by default. */
  readonly schedulerClient?: SchedulerClient;
  /** Where overdue revocations are counted (`RevocationsOverdue`); none by default. */
  readonly metrics?: MetricsSink;
  readonly now?: () => Date;
}

/**
 * Builds the `rotateApiKey` handler. It takes a rotation step from Secrets Manager, or the
 * revoke input `{"action": "revoke", "SecretId", "VersionId"[, "force": true]}` that a
 * scheduled revocation (or a person) sends, and picks the provider from the secret's
 * `rotation-provider` tag or its name.
 */
export function buildRotateApiKeyHandler(deps: ApiKeyRotationDependencies) {
  const { config, logger } = deps;
  const store = new SecretStore(deps.secretsManager);
  const records = new SupersessionRecords(deps.secretsManager);
  const providers = deps.providers ?? createProviders(config);
  // Revocations are scheduled to invoke this very function, as it was invoked; an invocation
  // without a function ARN (serverless invoke local) leaves them to the next rotation.
  let invokedArn: string | undefined;
  const scheduler = config.revocation
    ? new EventBridgeRevocationScheduler(deps.schedulerClient ?? new SchedulerClient({}), {
        ...config.revocation,
        targetArn: () => invokedArn,
        withoutTarget: new UnscheduledRevocations(
          logger,
          'the invocation names no function ARN (a local run)',
        ),
      })
    : new UnscheduledRevocations(logger);
  // Admin keys and service accounts: always AWSCURRENT, uncached, audited (shared/secrets).
  const readSecret = createWorkerSecretReader({ client: deps.secretsManager, logger });
  const strategies = new Map<string, ApiKeyStrategy>();
  const strategyFor = (secret: SecretDescription): ApiKeyStrategy => {
    const provider = providerFor(secret, providers);
    let strategy = strategies.get(provider.name);
    if (!strategy) {
      strategy = new ApiKeyStrategy({
        provider,
        store,
        records,
        scheduler,
        gracePeriodMs: config.gracePeriodMs,
        readSecret,
        inFlightMs: config.stepTimeoutMs,
        ...(deps.metrics ? { metrics: deps.metrics } : {}),
        ...(deps.now ? { now: deps.now } : {}),
      });
      strategies.set(provider.name, strategy);
    }
    return strategy;
  };
  const engine = new RotationEngine({
    store,
    strategy: strategyFor,
    logger,
    ...(deps.now ? { now: deps.now } : {}),
  });
  return createLambdaHandler(logger, async (event, context) => {
    invokedArn = context.invokedFunctionArn || undefined;
    return isRevocationRequest(event)
      ? revokeSupersededVersion({ store, strategyFor, logger }, parseRevocationRequest(event))
      : engine.run(parseRotationEvent(event));
  });
}

/** The deployed handler; configuration and clients are created once, at the first invocation. */
export const handler = lazyHandler((logger) => {
  const metrics = new Metrics({
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
    serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME,
  });
  return buildRotateApiKeyHandler({
    config: loadApiKeyRotationConfig(),
    secretsManager: new SecretsManagerClient({}),
    logger,
    // Each count is published at once: most invocations count nothing.
    metrics: publishedAtOnce(metrics),
  });
});
