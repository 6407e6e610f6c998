import { parseRotatedAt } from '../policy/secret.js';
import {
  type RotationInvoker,
  type RotationTarget,
  StepFailedError,
  StepInvocationError,
  type StepReport,
} from '../repair/index.js';
import { Stage, Steps } from '../rotation/constants.js';
import type { SecretStore } from '../rotation/secret-store.js';
import type { RotationLogger } from '../rotation/strategy.js';

/**
 * How a rotation that was waited for ended: `succeeded`, `failed`, or `in-progress` when too
 * little of the invocation was left to run the steps (the rotation stays with Secrets Manager).
 */
export interface RotationOutcome {
  readonly status: 'succeeded' | 'failed' | 'in-progress';
  /** Who ran the steps to the end: Secrets Manager, or rotateNow after the settle time. */
  readonly ranBy: 'secrets-manager' | 'rotate-now';
  /** The new AWSCURRENT's `rotated_at` (that field only, when it is an ISO 8601 date), when it succeeded. */
  readonly rotated_at?: string;
  readonly failure?: { readonly step: string; readonly errorType: string; readonly message: string };
  /** Why the outcome is not known yet, and what to do, when `in-progress`. */
  readonly reason?: string;
  readonly steps: readonly StepReport[];
}

/** Dependencies of {@link waitForRotation}. */
export interface WaitDependencies {
  readonly store: SecretStore;
  readonly invoker: RotationInvoker;
  readonly logger: RotationLogger;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Time left before the invocation's own timeout (Lambda's `getRemainingTimeInMillis`); unbounded when absent. */
  readonly remainingMs?: () => number;
}

/** Timing of {@link waitForRotation}. */
export interface WaitOptions {
  /** How long Secrets Manager gets to finish the rotation on its own. */
  readonly settleMs: number;
  /** How often the secret's labels are read meanwhile. */
  readonly pollMs: number;
  /** The longest one step may run (the rotation functions' timeout). */
  readonly stepTimeoutMs: number;
}

/** Time kept beyond the steps' own timeouts, for the invokes themselves and the last read. */
const STEPS_MARGIN_MS = 10_000;

/**
 * Learns how the rotation of `token` ends. Secrets Manager runs the steps (RotateSecret
 * invoked the rotation function), and its labels are read every `pollMs`: the token's
 * version becoming AWSCURRENT, with AWSPENDING removed, is success; the version losing
 * AWSPENDING without becoming current is an abandoned rotation. Secrets Manager does not say
 * why a rotation failed, so when it has not finished after `settleMs`, the four steps are run
 * once more through `invoker` with the same token. Every step is idempotent and safe against
 * a concurrent attempt, so this resumes a slow or failed rotation where it stopped, and a
 * step that fails again reports its error type and message: the reason.
 *
 * The steps run only when the invocation has time left for all four (each up to
 * `stepTimeoutMs`): the settle time ends early to keep that time, and with less left no step
 * is started (one stopped between setSecret and finishSecret would leave the target on a
 * credential AWSCURRENT does not hold). The outcome is then `in-progress`, with the reason.
 */
export async function waitForRotation(
  deps: WaitDependencies,
  secret: RotationTarget,
  token: string,
  options: WaitOptions,
): Promise<RotationOutcome> {
  const deadline = deps.now() + options.settleMs;
  const remaining = () => deps.remainingMs?.() ?? Number.POSITIVE_INFINITY;
  const stepsMs = Steps.length * options.stepTimeoutMs + STEPS_MARGIN_MS;
  for (;;) {
    const stages = (await deps.store.describe(secret.arn)).versions[token] ?? [];
    if (stages.includes(Stage.CURRENT) && !stages.includes(Stage.PENDING)) {
      return succeeded(deps, secret, token, 'secrets-manager', []);
    }
    if (!stages.includes(Stage.PENDING)) {
      return {
        status: 'failed',
        ranBy: 'secrets-manager',
        steps: [],
        failure: {
          step: 'rotation',
          errorType: 'RotationAbandoned',
          message: `version ${token} lost its AWSPENDING label without becoming AWSCURRENT: the rotation was abandoned (a new value was stored during it, or someone removed the label)`,
        },
      };
    }
    const left = Math.min(deadline - deps.now(), remaining() - stepsMs);
    if (left <= 0) break;
    await deps.sleep(Math.min(options.pollMs, left));
  }
  const timeLeft = remaining();
  if (timeLeft < stepsMs) {
    return {
      status: 'in-progress',
      ranBy: 'secrets-manager',
      steps: [],
      reason:
        `rotateNow has ${Math.floor(timeLeft / 1000)} s left before its own timeout, less than the ${stepsMs / 1000} s the four steps may take, so it ran none of them: ` +
        `the rotation of version ${token} stays with Secrets Manager, which retries it. Check later whether that version became AWSCURRENT; ` +
        'if AWSPENDING stays on it, run rotateNow again with {"repair": true, "wait": true}',
    };
  }
  deps.logger.info('rotation not finished by Secrets Manager yet; running its steps', {
    versionId: token,
    how: deps.invoker.description,
  });
  const reports: StepReport[] = [];
  for (const step of Steps) {
    try {
      reports.push(
        await deps.invoker.invoke(
          { secretName: secret.name, functionArn: secret.rotationLambdaArn },
          { SecretId: secret.arn, ClientRequestToken: token, Step: step },
        ),
      );
    } catch (error) {
      if (error instanceof StepFailedError) {
        return failed(reports, { step, errorType: error.errorType, message: error.errorMessage });
      }
      if (error instanceof StepInvocationError) {
        return failed(reports, { step, errorType: error.name, message: error.message });
      }
      throw error;
    }
  }
  return succeeded(deps, secret, token, 'rotate-now', reports);
}

function failed(steps: StepReport[], failure: NonNullable<RotationOutcome['failure']>): RotationOutcome {
  return { status: 'failed', ranBy: 'rotate-now', steps, failure };
}

async function succeeded(
  deps: WaitDependencies,
  secret: RotationTarget,
  token: string,
  ranBy: RotationOutcome['ranBy'],
  steps: StepReport[],
): Promise<RotationOutcome> {
  // Only an ISO 8601 rotated_at leaves: nothing else of the value, whatever the function stored.
  const rotatedAt = parseRotatedAt(await deps.store.getVersion(secret.arn, token));
  return {
    status: 'succeeded',
    ranBy,
    steps,
    ...(rotatedAt.state === 'found' ? { rotated_at: rotatedAt.date.toISOString() } : {}),
  };
}
