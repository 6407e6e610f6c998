import { type AlertConfig, loadAlertConfig } from '../alerts/config.js';
import {
  ConfigurationError,
  getIntegerFromEnv,
  getOptionalStringFromEnv,
  getStringFromEnv,
} from '../config/env.js';
import { loadGracePeriodMs } from '../config/index.js';
import { loadPolicySettings } from '../config/policy.js';
import { SECRETS_MANAGER_QUOTAS } from '../fleet/quotas.js';
import type { PolicySettings } from '../policy/index.js';
import { DEFAULT_REPAIR_MIN_AGE_MS } from '../repair/plan.js';
import { loadStepRunner, StepRunner } from '../rotate-now/config.js';
import { VERSION_WRITES_PER_ROTATION } from '../rotation/constants.js';
import { MAX_DELAY_SECONDS } from './queue.js';

type Env = Record<string, string | undefined>;

/**
 * The share of the account's 50/s PutSecretValue/UpdateSecretVersionStage quota the rotations
 * the enforcer starts may take; the rest is left to every other writer of secrets in the
 * account (applications, rotateNow, other tools).
 */
export const VERSION_WRITE_SHARE = 0.6;

/**
 * Rotations the enforcer and its worker start per second, account-wide, by default: the
 * version-write quota's share ({@link VERSION_WRITE_SHARE}) divided by the writes each
 * rotation makes ({@link VERSION_WRITES_PER_ROTATION}), rounded down: ⌊50 × 0.6 ÷ 3⌋ = 10,
 * which keeps the rotation functions at 30 writes/s. Starting at the RotateSecret quota's
 * 50/s would drive 150 writes/s against a 50/s quota.
 */
export const DEFAULT_STARTS_PER_SECOND = Math.floor(
  (SECRETS_MANAGER_QUOTAS.versionWrites.perSecond * VERSION_WRITE_SHARE) / VERSION_WRITES_PER_ROTATION,
);

/**
 * Reads `ENFORCE_STARTS_PER_SECOND` ({@link DEFAULT_STARTS_PER_SECOND}; 1 to the RotateSecret
 * quota's 50): the account-wide pace of `RotateSecret` (and `CancelRotateSecret`, on the same
 * quota) for the enforcer and its workers, which share it as they share the quotas.
 * @throws {ConfigurationError} naming the variable when it is not an integer in range.
 */
export function loadStartsPerSecond(env: Env = process.env): number {
  return getIntegerFromEnv('ENFORCE_STARTS_PER_SECOND', {
    defaultValue: DEFAULT_STARTS_PER_SECOND,
    min: 1,
    max: SECRETS_MANAGER_QUOTAS.rotation.perSecond,
    env,
  });
}

/** Messages one worker invocation is given at once (its event source mapping's `batchSize`). */
export const WORKER_BATCH_SIZE = 10;

/**
 * The longest one worker invocation may wait for its share of the `RotateSecret` pace across a
 * batch (its 10 messages run at once, so the last waits 9 intervals): what the worker's 420 s
 * timeout leaves beside a work item's four synchronous invokes of a rotation function at 90 s.
 */
export const WORKER_PACING_BUDGET_MS = 60_000;

/**
 * Refuses a worker concurrency that splits the start rate so thin that one batch would outlast
 * the worker: each worker starts `startsPerSecond / workerConcurrency` a second.
 */
function checkWorkerPace(startsPerSecond: number, workerConcurrency: number): void {
  const waitMs = ((WORKER_BATCH_SIZE - 1) * 1000 * workerConcurrency) / startsPerSecond;
  if (waitMs <= WORKER_PACING_BUDGET_MS) return;
  const most = Math.floor((WORKER_PACING_BUDGET_MS * startsPerSecond) / ((WORKER_BATCH_SIZE - 1) * 1000));
  throw new ConfigurationError(
    `environment variable ENFORCE_WORKER_CONCURRENCY (${workerConcurrency}) splits ENFORCE_STARTS_PER_SECOND (${startsPerSecond}) so thin that a batch of ${WORKER_BATCH_SIZE} would wait ${Math.round(waitMs / 1000)} s for RotateSecret, past the ${WORKER_PACING_BUDGET_MS / 1000} s the worker's timeout leaves for it: set it to at most ${most}, or raise ENFORCE_STARTS_PER_SECOND`,
  );
}

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
  /** `RotateSecret` calls per second, account-wide (the workers split it): see {@link loadStartsPerSecond}. */
  readonly startsPerSecond: number;
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
 * `ENFORCE_WORKER_CONCURRENCY` (5; at most ⌊`ENFORCE_STARTS_PER_SECOND` × 60 ÷ 9⌋, see
 * {@link WORKER_PACING_BUDGET_MS}), `ENFORCE_STARTS_PER_SECOND` ({@link loadStartsPerSecond}), `ALERT_TOPIC_ARN` / `ALERT_TOPIC_NAME`
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
  const workerConcurrency = getIntegerFromEnv('ENFORCE_WORKER_CONCURRENCY', {
    defaultValue: 5,
    min: 1,
    max: 1000,
    env,
  });
  const startsPerSecond = loadStartsPerSecond(env);
  checkWorkerPace(startsPerSecond, workerConcurrency);
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
    workerConcurrency,
    startsPerSecond,
    alerts,
    stepRunner:
      getOptionalStringFromEnv('ROTATION_STEP_RUNNER', env) === undefined && localEndpoint
        ? StepRunner.IN_PROCESS
        : loadStepRunner(env),
    localEndpoint,
  };
}
