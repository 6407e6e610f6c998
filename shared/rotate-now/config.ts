import { ConfigurationError, getIntegerFromEnv, getStringFromEnv } from '../config/env.js';
import type { RotateNowConfig } from './rotate-now.js';

type Env = Record<string, string | undefined>;

/** How rotateNow runs rotation steps: a Lambda invoke of the rotation function, or the handlers in process. */
export const StepRunner = { LAMBDA: 'lambda', IN_PROCESS: 'in-process' } as const;

/** One of {@link StepRunner}'s values. */
export type StepRunner = (typeof StepRunner)[keyof typeof StepRunner];

/** How often `wait` reads the secret's labels. */
const POLL_MS = 2000;

/**
 * Reads rotateNow's configuration: `ENVIRONMENT` (default `production`, the setup guide's),
 * `ROTATE_NOW_SETTLE_SECONDS` (default 60: how long Secrets Manager gets to finish a rotation
 * before `wait` runs the steps itself; 0 runs them at once), `REPAIR_MIN_AGE_SECONDS`
 * (default 3600: the longest one rotation may legitimately run), `ROTATION_STEP_TIMEOUT_SECONDS`
 * (default 60; serverless.yml gives the rotation functions' timeout, 90: `wait` runs the four
 * steps only with that much time left for each).
 */
export function loadRotateNowConfig(env: Env = process.env): RotateNowConfig {
  const environment = getStringFromEnv('ENVIRONMENT', { defaultValue: 'production', env });
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(environment)) {
    throw new ConfigurationError('environment variable ENVIRONMENT must be a name such as production');
  }
  return {
    environment,
    settleMs:
      getIntegerFromEnv('ROTATE_NOW_SETTLE_SECONDS', { defaultValue: 60, min: 0, max: 600, env }) * 1000,
    pollMs: POLL_MS,
    repairMinAgeMs:
      getIntegerFromEnv('REPAIR_MIN_AGE_SECONDS', { defaultValue: 3600, min: 0, max: 30 * 86_400, env }) *
      1000,
    stepTimeoutMs:
      getIntegerFromEnv('ROTATION_STEP_TIMEOUT_SECONDS', { defaultValue: 60, min: 1, max: 900, env }) * 1000,
  };
}

/** Reads `ROTATION_STEP_RUNNER`: `lambda` (default) or `in-process` (local runs against moto). */
export function loadStepRunner(env: Env = process.env): StepRunner {
  const value = getStringFromEnv('ROTATION_STEP_RUNNER', { defaultValue: StepRunner.LAMBDA, env });
  if (value !== StepRunner.LAMBDA && value !== StepRunner.IN_PROCESS) {
    throw new ConfigurationError('environment variable ROTATION_STEP_RUNNER must be lambda or in-process');
  }
  return value;
}
