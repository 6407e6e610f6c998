import { type AlertConfig, loadAlertConfig } from '../alerts/config.js';
import {
  ConfigurationError,
  getIntegerFromEnv,
  getOptionalStringFromEnv,
  getStringFromEnv,
} from '../config/env.js';
import { loadGracePeriodMs } from '../config/index.js';
import { loadPolicySettings } from '../config/policy.js';
import type { PolicySettings } from '../policy/index.js';
import { DEFAULT_REPAIR_MIN_AGE_MS } from '../repair/plan.js';
import { loadStepRunner, StepRunner } from '../rotate-now/config.js';
import { MAX_DELAY_SECONDS } from './queue.js';

type Env = Record<string, string | undefined>;

/** The enforcer's and its worker's settings, read once at the first invocation. */
export interface EnforcementConfig {
  readonly policy: PolicySettings;
  /** Stuck rotations younger than this are left alone. */
  readonly repairMinAgeMs: number;
  /** How long a superseded API key stays valid (the same setting as rotateApiKey's). */
  readonly gracePeriodMs: number;
  /** Rotation starts are spread over this many seconds (SQS delays: 0–900). */
  readonly spreadSeconds: number;
  /** The most work items the enforcer carries out itself; past it, every item goes to the queue. */
  readonly inlineLimit: number;
  /** The enforcement queue's name (the URL is looked up: a plain name keeps invoke local working). */
  readonly queueName: string;
  /** How many worker invocations run at once (the queue's maximum concurrency): each takes that share of the quotas. */
  readonly workerConcurrency: number;
  /** Where alerts go. */
  readonly alerts: AlertConfig;
  /** How repairs run steps and revocations reach rotateApiKey: Lambda invokes, or the handlers in process. */
  readonly stepRunner: StepRunner;
  /** True when `AWS_ENDPOINT_URL` points at a local emulator: the queue and topic are created there if missing. */
  readonly localEndpoint: boolean;
}

/**
 * Reads the policy ({@link loadPolicySettings}), `REPAIR_MIN_AGE_SECONDS` (3600),
 * `ROTATION_GRACE_PERIOD_SECONDS` (900), `ENFORCE_SPREAD_SECONDS` (900), `ENFORCE_INLINE_LIMIT`
 * (1000), `ENFORCE_QUEUE_NAME` (`secrets-rotation-{ENVIRONMENT}-enforce`),
 * `ENFORCE_WORKER_CONCURRENCY` (5), `ALERT_TOPIC_ARN` / `ALERT_TOPIC_NAME`
 * (`secrets-rotation-{ENVIRONMENT}-alerts`) and `ROTATION_STEP_RUNNER` (`lambda`; `in-process`
 * by default when `AWS_ENDPOINT_URL` is set, since a local emulator cannot invoke a Lambda).
 */
export function loadEnforcementConfig(env: Env = process.env): EnforcementConfig {
  const policy = loadPolicySettings(env);
  const localEndpoint = getOptionalStringFromEnv('AWS_ENDPOINT_URL', env) !== undefined;
  const queueName = getStringFromEnv('ENFORCE_QUEUE_NAME', {
    defaultValue: `secrets-rotation-${policy.environment}-enforce`,
    env,
  });
  if (!/^[\w-]{1,80}$/.test(queueName))
    throw new ConfigurationError('environment variable ENFORCE_QUEUE_NAME must be an SQS queue name');
  const alerts = loadAlertConfig({
    ...env,
    ALERT_TOPIC_NAME: env.ALERT_TOPIC_NAME ?? `secrets-rotation-${policy.environment}-alerts`,
  });
  return {
    policy,
    repairMinAgeMs:
      getIntegerFromEnv('REPAIR_MIN_AGE_SECONDS', {
        defaultValue: DEFAULT_REPAIR_MIN_AGE_MS / 1000,
        min: 0,
        max: 30 * 86_400,
        env,
      }) * 1000,
    gracePeriodMs: loadGracePeriodMs(env),
    spreadSeconds: getIntegerFromEnv('ENFORCE_SPREAD_SECONDS', {
      defaultValue: MAX_DELAY_SECONDS,
      min: 0,
      max: MAX_DELAY_SECONDS,
      env,
    }),
    inlineLimit: getIntegerFromEnv('ENFORCE_INLINE_LIMIT', { defaultValue: 1000, min: 0, max: 10_000, env }),
    queueName,
    workerConcurrency: getIntegerFromEnv('ENFORCE_WORKER_CONCURRENCY', {
      defaultValue: 5,
      min: 1,
      max: 1000,
      env,
    }),
    alerts,
    stepRunner:
      getOptionalStringFromEnv('ROTATION_STEP_RUNNER', env) === undefined && localEndpoint
        ? StepRunner.IN_PROCESS
        : loadStepRunner(env),
    localEndpoint,
  };
}
