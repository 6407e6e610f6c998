import { randomUUID } from 'node:crypto';
import { RotateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { countMetric, type MetricsSink, RotationMetric } from '../alerts/metrics.js';
import { awsErrorName, awsErrorText } from '../logging/aws-error.js';
import { DEFAULT_POLICY } from '../policy/settings.js';
import {
  describeRotationTarget,
  type PendingVersion,
  pendingVersion,
  type RepairResult,
  RepairStatus,
  type RotationInvoker,
  type RotationTarget,
  repairStuckRotation,
} from '../repair/index.js';
import {
  type AfterRollback,
  type PreviousCredentialCheck,
  type RollbackResult,
  rollBack,
} from '../rollback/index.js';
import { Stage } from '../rotation/constants.js';
import type { SecretStore } from '../rotation/secret-store.js';
import type { RotationLogger } from '../rotation/strategy.js';
import {
  ManagedByServiceError,
  RepairFailedError,
  RotationInProgressError,
  RotationNotConfiguredError,
  RotationStartError,
} from './errors.js';
import { parseRotateNowRequest, type RotateNowRequest } from './input.js';
import { type ManagedCategory, requireManaged, resolveSecretId } from './names.js';
import { type RotationOutcome, waitForRotation } from './wait.js';

/** rotateNow's settings (read once, at cold start). */
export interface RotateNowConfig {
  /** The secrets' environment: the `{environment}/` prefix added to short names. */
  readonly environment: string;
  /** With `wait`, how long Secrets Manager gets to finish before rotateNow runs the steps itself. */
  readonly settleMs: number;
  /** With `wait`, how often the secret's labels are read meanwhile. */
  readonly pollMs: number;
  /** With `repair`, stuck rotations younger than this are left alone. */
  readonly repairMinAgeMs: number;
  /** With `wait`, the longest one rotation step may run (the rotation functions' timeout). */
  readonly stepTimeoutMs: number;
}

/** Dependencies of {@link rotateNow}. */
export interface RotateNowDependencies {
  readonly secretsManager: SecretsManagerClient;
  readonly store: SecretStore;
  /** Runs rotation steps (repairs, and `wait` once the settle time is over). */
  readonly invoker: RotationInvoker;
  readonly logger: RotationLogger;
  /** The rollback check for a secret of this category. */
  readonly rollbackCheckFor: (secret: RotationTarget, category: ManagedCategory) => PreviousCredentialCheck;
  /** The work after a rollback for a secret of this category (API keys: the demoted version's revocation). */
  readonly afterRollbackFor?: (
    secret: RotationTarget,
    category: ManagedCategory,
  ) => AfterRollback | undefined;
  readonly metrics?: MetricsSink;
  readonly now?: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Time left before the invocation's own timeout; `wait` runs steps only within it. */
  readonly remainingMs?: () => number;
}

/** A repair as rotateNow reports it. */
export interface RepairSummary {
  readonly status: RepairResult['status'];
  readonly action: RepairResult['action'];
  readonly versionId?: string;
  readonly reason: string;
}

/** What a rotation started by rotateNow reports: identifiers, dates and reasons, never a value. */
export interface RotationReport {
  readonly action: 'rotate';
  readonly secret: string;
  /** The new version's id (the rotation's ClientRequestToken). */
  readonly versionId: string;
  /** `started` without `wait`; with it, how the rotation ended. */
  readonly status: 'started' | RotationOutcome['status'];
  /** Who ran the steps to the end, with `wait`. */
  readonly ranBy?: RotationOutcome['ranBy'];
  /** The new AWSCURRENT's `rotated_at`, when it succeeded. */
  readonly rotated_at?: string;
  /** The step that failed, its error type and message, when it failed. */
  readonly failure?: RotationOutcome['failure'];
  /** Why the outcome is not known yet, and what to do, when `in-progress`. */
  readonly reason?: string;
  /** What `repair` did first. */
  readonly repair?: RepairSummary;
}

/** What rotateNow returns. */
export type RotateNowResult = RotationReport | RollbackResult;

/**
 * A person's rotation of one managed secret: `{"secret": "database/primary"}` starts a
 * rotation at once (RotateSecret with RotateImmediately); `wait` reports how it ended;
 * `repair` clears a stuck rotation first; `rollback` makes AWSPREVIOUS current again where
 * the previous credential still works. Bad input, an unknown or unmanaged secret, a secret
 * without rotation, or a rotation in progress get a typed error before anything changes.
 */
export async function rotateNow(
  deps: RotateNowDependencies,
  config: RotateNowConfig,
  input: unknown,
): Promise<RotateNowResult> {
  const request = parseRotateNowRequest(input);
  const secretId = resolveSecretId(request.secret, config.environment);
  // A name outside the managed prefixes is refused before any call; an ARN once its name is known.
  if (!secretId.startsWith('arn:')) requireManaged(secretId, config.environment);
  deps.logger.appendKeys({ secretId });
  try {
    const secret = await describeRotationTarget(deps.secretsManager, secretId);
    deps.logger.appendKeys({ secretName: secret.name });
    const category = requireManaged(secret.name, config.environment);
    if (secret.owningService) {
      throw new ManagedByServiceError(
        `secret ${secret.name} is managed by ${secret.owningService}: Secrets Manager refuses custom rotation for it; rotate it through ${secret.owningService}`,
      );
    }
    if (request.rollback) {
      const afterRollback = deps.afterRollbackFor?.(secret, category);
      const result = await rollBack(
        {
          store: deps.store,
          logger: deps.logger,
          checkFor: (target) => deps.rollbackCheckFor(target, category),
          describe: (id) => describeRotationTarget(deps.secretsManager, id),
          ...(afterRollback ? { afterRollback } : {}),
        },
        secret,
      );
      countMetric(deps.metrics, RotationMetric.ROLLED_BACK);
      return result;
    }
    return await rotate(deps, config, request, secret);
  } finally {
    deps.logger.removeKeys(['secretId', 'secretName']);
  }
}

async function rotate(
  deps: RotateNowDependencies,
  config: RotateNowConfig,
  request: RotateNowRequest,
  described: RotationTarget,
): Promise<RotationReport> {
  let secret = described;
  if (!secret.rotationEnabled || !secret.rotationLambdaArn) {
    throw new RotationNotConfiguredError(
      `rotation is ${secret.rotationLambdaArn ? 'turned off' : 'not configured'} for secret ${secret.name}: turn it on first (\`aws secretsmanager rotate-secret --secret-id ${secret.name} --rotation-lambda-arn <rotation function ARN> --rotation-rules AutomaticallyAfterDays=${DEFAULT_POLICY.scheduleDays}\`, or let enforceRotationPolicy do it)`,
    );
  }
  let repair: RepairSummary | undefined;
  if (request.repair) {
    const repaired = await repairStuckRotation(
      {
        secretsManager: deps.secretsManager,
        store: deps.store,
        invoker: deps.invoker,
        logger: deps.logger,
        now: deps.now,
      },
      secret.arn,
      { minAgeMs: config.repairMinAgeMs },
    );
    repair = {
      status: repaired.status,
      action: repaired.action,
      reason: repaired.reason,
      ...(repaired.versionId ? { versionId: repaired.versionId } : {}),
    };
    if (repaired.status === RepairStatus.FAILED) {
      throw new RepairFailedError(
        `the stuck rotation of secret ${secret.name} could not be cleared: ${repaired.reason}`,
      );
    }
    if (repaired.status === RepairStatus.DEFERRED) {
      throw new RotationInProgressError(
        `secret ${secret.name} has a rotation in progress: ${repaired.reason}; try again later`,
      );
    }
    if (repaired.status === RepairStatus.REPAIRED) {
      countMetric(deps.metrics, RotationMetric.REPAIRED);
      secret = await describeRotationTarget(deps.secretsManager, secret.arn);
    }
  }
  const pending = pendingVersion(secret.versions);
  if (pending) throw inProgress(secret, pending);
  const token = await startRotation(deps, secret);
  deps.logger.info('rotation started', { versionId: token });
  const base = {
    action: 'rotate' as const,
    secret: secret.name,
    versionId: token,
    ...(repair ? { repair } : {}),
  };
  if (!request.wait) return { ...base, status: 'started' };
  const clock = deps.now ?? (() => new Date());
  const outcome = await waitForRotation(
    {
      store: deps.store,
      invoker: deps.invoker,
      logger: deps.logger,
      now: () => clock().getTime(),
      sleep: deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
      ...(deps.remainingMs ? { remainingMs: deps.remainingMs } : {}),
    },
    secret,
    token,
    { settleMs: config.settleMs, pollMs: config.pollMs, stepTimeoutMs: config.stepTimeoutMs },
  );
  deps.logger.info('rotation ended', {
    versionId: token,
    status: outcome.status,
    ranBy: outcome.ranBy,
    failure: outcome.failure,
    reason: outcome.reason,
  });
  return {
    ...base,
    status: outcome.status,
    ranBy: outcome.ranBy,
    ...(outcome.rotated_at ? { rotated_at: outcome.rotated_at } : {}),
    ...(outcome.failure ? { failure: outcome.failure } : {}),
    ...(outcome.reason ? { reason: outcome.reason } : {}),
  };
}

/**
 * Starts a rotation with RotateSecret, at once, with a token of our own, so that the new
 * version is known even when the answer is lost: a failed call whose version exists, staged
 * AWSPENDING, did start the rotation (moto, which cannot invoke a Lambda, stages the version
 * and then answers ResourceNotFoundException). The secret's own rotation function ARN is
 * restated: AWS keeps the stored schedule either way, but moto, given no ARN, clears it and
 * promotes the empty placeholder to AWSCURRENT. A refusal because another rotation started
 * since the secret was read is a {@link RotationInProgressError}.
 */
/** The error for a secret whose rotation is in progress or stuck: AWSPENDING is on `pending`. */
function inProgress(
  secret: RotationTarget,
  pending: PendingVersion,
  options?: ErrorOptions,
): RotationInProgressError {
  return new RotationInProgressError(
    `secret ${secret.name} has a rotation in progress or stuck (AWSPENDING is on version ${pending.versionId}${pending.alsoCurrent ? ', which is also AWSCURRENT: an interrupted finishSecret' : ''}): run again with {"repair": true} to clear it first`,
    options,
  );
}

async function startRotation(deps: RotateNowDependencies, secret: RotationTarget): Promise<string> {
  const token = randomUUID();
  try {
    await deps.secretsManager.send(
      new RotateSecretCommand({
        SecretId: secret.arn,
        ClientRequestToken: token,
        RotationLambdaARN: secret.rotationLambdaArn,
        RotateImmediately: true,
      }),
    );
    return token;
  } catch (error) {
    const after = await describeRotationTarget(deps.secretsManager, secret.arn);
    if (after.versions[token]?.includes(Stage.PENDING)) {
      deps.logger.warn('RotateSecret failed after staging the new version; the rotation has started', {
        versionId: token,
        error: awsErrorName(error),
      });
      return token;
    }
    // Another rotation started since the secret was read (Secrets Manager refuses a new one then).
    const pending = pendingVersion(after.versions);
    if (pending) throw inProgress(after, pending, { cause: error });
    throw new RotationStartError(
      `RotateSecret did not start a rotation of secret ${secret.name}: ${awsErrorText(error)}`,
      {
        cause: error,
      },
    );
  }
}
