import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { IAMClient } from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { METRICS_NAMESPACE } from '../../shared/alerts/index.js';
import { createProviders } from '../../shared/api-keys/providers/index.js';
import { loadApiKeyRotationConfig, loadDatabaseRotationConfig } from '../../shared/config/index.js';
import { type Logger, SERVICE_NAME } from '../../shared/logging/index.js';
import { LambdaRotationInvoker, type RotationInvoker } from '../../shared/repair/index.js';
import { createRollbackChecks, createRollbackRevocations } from '../../shared/rollback/index.js';
import {
  loadRotateNowConfig,
  loadStepRunner,
  type RotateNowConfig,
  type RotateNowDependencies,
  rotateNow,
  StepRunner,
} from '../../shared/rotate-now/index.js';
import { SecretStore } from '../../shared/rotation/index.js';
import { inProcessStepInvoker } from '../lib/in-process-steps.js';
import { lazyHandler } from '../lib/lazy-handler.js';
import { createPostgresRotationStrategy } from '../lib/postgres-strategy.js';
import { createLambdaHandler } from '../lib/rotation-handler.js';

/** What the rotateNow handler is built from; tests pass their own. */
export interface RotateNowHandlerDependencies {
  readonly config: RotateNowConfig;
  readonly secretsManager: SecretsManagerClient;
  readonly logger: Logger;
  readonly invoker: RotationInvoker;
  readonly rollbackCheckFor: RotateNowDependencies['rollbackCheckFor'];
  /** The work after a rollback (API keys: the demoted version's revocation); none when absent. */
  readonly afterRollbackFor?: RotateNowDependencies['afterRollbackFor'];
  readonly metrics?: Metrics;
  readonly now?: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Builds the `rotateNow` handler: `{"secret": "database/primary"}` (plus `wait`, `repair` or
 * `rollback`) rotates one managed secret now. See shared/rotate-now.
 */
export function buildRotateNowHandler(deps: RotateNowHandlerDependencies) {
  const store = new SecretStore(deps.secretsManager);
  const { metrics } = deps;
  const handler = createLambdaHandler(deps.logger, (event, context) =>
    rotateNow(
      {
        secretsManager: deps.secretsManager,
        store,
        invoker: deps.invoker,
        logger: deps.logger,
        rollbackCheckFor: deps.rollbackCheckFor,
        ...(deps.afterRollbackFor ? { afterRollbackFor: deps.afterRollbackFor } : {}),
        ...(metrics ? { metrics } : {}),
        ...(deps.now ? { now: deps.now } : {}),
        ...(deps.sleep ? { sleep: deps.sleep } : {}),
        remainingMs: () => context.getRemainingTimeInMillis(),
      },
      deps.config,
      event,
    ),
  );
  return metrics ? handler.use(logMetrics(metrics)) : handler;
}

/** The deployed handler's parts, created once, at the first invocation, from the environment. */
function fromEnvironment(logger: Logger): RotateNowHandlerDependencies {
  const config = loadRotateNowConfig();
  const secretsManager = new SecretsManagerClient({});
  const apiKeys = loadApiKeyRotationConfig();
  return {
    config,
    secretsManager,
    logger,
    invoker:
      loadStepRunner() === StepRunner.IN_PROCESS
        ? inProcessStepInvoker(config.environment)
        : new LambdaRotationInvoker(new LambdaClient({})),
    rollbackCheckFor: createRollbackChecks({
      store: new SecretStore(secretsManager),
      // rotateDatabase's strategy tests a database secret's previous login.
      database: createPostgresRotationStrategy({
        config: loadDatabaseRotationConfig(),
        secretsManager,
        logger,
      }),
      providers: createProviders(apiKeys),
      iam: new IAMClient({}),
    }),
    afterRollbackFor: createRollbackRevocations({
      secretsManager,
      schedulerClient: new SchedulerClient({}),
      apiKeys,
      logger,
    }),
    metrics: new Metrics({
      namespace: METRICS_NAMESPACE,
      serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME,
    }),
  };
}

/** The deployed handler; a configuration error ends the first invocation (see lazyHandler). */
export const handler = lazyHandler((logger) => buildRotateNowHandler(fromEnvironment(logger)));
