import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Stage } from '../rotation/constants.js';
import type { SecretStore } from '../rotation/secret-store.js';
import type { RotationLogger } from '../rotation/strategy.js';
import { StepFailedError, StepInvocationError } from './errors.js';
import type { RotationInvoker, StepReport } from './invoker.js';
import {
  DEFAULT_REPAIR_MIN_AGE_MS,
  pendingVersion,
  planRepair,
  RepairAction,
  type RepairPlan,
} from './plan.js';
import { describeRotationTarget, type RotationTarget } from './secret-state.js';

/** How a repair ended. */
export const RepairStatus = {
  /** No rotation was stuck. */
  NOT_NEEDED: 'not-needed',
  /** A stuck rotation was found but is younger than the minimum age (or of unknown age): left alone. */
  DEFERRED: 'deferred',
  /** A dry run: the plan, nothing done. */
  PLANNED: 'planned',
  /** The placeholder was unlabelled, or the rotation finished. */
  REPAIRED: 'repaired',
  /** A step refused to finish the rotation; `failure` says which and why. Nothing was discarded. */
  FAILED: 'failed',
} as const;

/** One of {@link RepairStatus}'s values. */
export type RepairStatus = (typeof RepairStatus)[keyof typeof RepairStatus];

/** What a repair did and why: identifiers and reasons, never a value. */
export interface RepairResult extends RepairPlan {
  readonly secretName: string;
  readonly status: RepairStatus;
  /** How each step that ran ended. */
  readonly stepReports: readonly StepReport[];
  /** The step that refused, with its error type and message, when `status` is `failed`. */
  readonly failure?: { readonly step: string; readonly errorType: string; readonly message: string };
}

/** Dependencies of {@link repairStuckRotation}. */
export interface RepairDependencies {
  readonly secretsManager: SecretsManagerClient;
  readonly store: SecretStore;
  readonly invoker: RotationInvoker;
  readonly logger: RotationLogger;
  readonly now?: () => Date;
}

/** Options of {@link repairStuckRotation}. */
export interface RepairOptions {
  /** Stuck rotations younger than this are left alone; default {@link DEFAULT_REPAIR_MIN_AGE_MS}. */
  readonly minAgeMs?: number;
  /** Decide and report, change nothing. */
  readonly dryRun?: boolean;
}

/**
 * Clears a stuck rotation of one secret (see {@link planRepair} for the decision): unlabels
 * RotateSecret's empty placeholder, or finishes a rotation whose pending version holds a
 * value by running its remaining steps through `invoker`. Idempotent: a second run finds
 * nothing stuck, or resumes where the first stopped. Every read the decision depends on must
 * succeed, or the repair throws and changes nothing.
 *
 * A placeholder that receives a value while it is being unlabelled (a createSecret of the
 * same rotation still running) gets its label back and the rotation is finished instead.
 */
export async function repairStuckRotation(
  deps: RepairDependencies,
  secretId: string,
  options: RepairOptions = {},
): Promise<RepairResult> {
  const { store, logger } = deps;
  const secret = await describeRotationTarget(deps.secretsManager, secretId);
  const pending = pendingVersion(secret.versions);
  const [value, createdAt] = pending
    ? await Promise.all([
        store.getVersion(secret.arn, pending.versionId),
        store.versionCreatedDate(secret.arn, pending.versionId),
      ])
    : [undefined, undefined];
  const plan = planRepair({
    versions: secret.versions,
    pendingHoldsValue: value !== undefined,
    pendingCreatedAt: createdAt,
    now: (deps.now ?? (() => new Date()))(),
    minAgeMs: options.minAgeMs ?? DEFAULT_REPAIR_MIN_AGE_MS,
  });
  const result = (status: RepairStatus, more: Partial<RepairResult> = {}): RepairResult => ({
    ...plan,
    secretName: secret.name,
    status,
    stepReports: [],
    ...more,
  });
  if (plan.action === RepairAction.NONE) return result(RepairStatus.NOT_NEEDED);
  const logged = {
    secretName: secret.name,
    action: plan.action,
    versionId: plan.versionId,
    ageMs: plan.ageMs,
  };
  if (plan.action === RepairAction.WAIT) {
    logger.info('stuck rotation left alone for now', { ...logged, reason: plan.reason });
    return result(RepairStatus.DEFERRED);
  }
  if (options.dryRun) {
    logger.info('stuck rotation: repair planned (dry run)', { ...logged, reason: plan.reason });
    return result(RepairStatus.PLANNED);
  }
  logger.info('repairing a stuck rotation', { ...logged, reason: plan.reason });
  if (plan.action === RepairAction.UNLABEL_PLACEHOLDER) {
    const unlabelled = await unlabelPlaceholder(deps, secret, plan);
    if (unlabelled) return result(RepairStatus.REPAIRED, unlabelled);
    const finishing = {
      ...plan,
      action: RepairAction.FINISH_ROTATION,
      steps: ['setSecret', 'testSecret', 'finishSecret'] as const,
      reason: `${plan.reason}; but createSecret stored a value while the label was being removed, so the label was put back and the rotation finished instead`,
    };
    return runSteps(deps, secret, finishing);
  }
  return runSteps(deps, secret, plan);
}

/**
 * Removes AWSPENDING from the placeholder, then checks it is still empty. Returns undefined
 * (label restored) when a value appeared meanwhile, for the caller to finish the rotation.
 */
async function unlabelPlaceholder(
  deps: RepairDependencies,
  secret: RotationTarget,
  plan: RepairPlan,
): Promise<Partial<RepairResult> | undefined> {
  const { store, logger } = deps;
  const versionId = plan.versionId ?? '';
  try {
    await store.removeStage(secret.arn, Stage.PENDING, versionId);
  } catch (error) {
    const again = await describeRotationTarget(deps.secretsManager, secret.arn);
    if (again.versions[versionId]?.includes(Stage.PENDING)) throw error;
    logger.info('placeholder already unlabelled by another attempt', { versionId });
    return { reason: `${plan.reason}; another attempt had already removed the label` };
  }
  if ((await store.getVersion(secret.arn, versionId)) === undefined) {
    logger.info('placeholder unlabelled', { versionId });
    return {};
  }
  logger.warn('a value was stored in the placeholder while it was unlabelled; restoring AWSPENDING', {
    versionId,
  });
  await store.moveStage(secret.arn, Stage.PENDING, versionId);
  return undefined;
}

async function runSteps(
  deps: RepairDependencies,
  secret: RotationTarget,
  plan: RepairPlan,
): Promise<RepairResult> {
  const reports: StepReport[] = [];
  const target = { secretName: secret.name, functionArn: secret.rotationLambdaArn };
  const base = { ...plan, secretName: secret.name };
  for (const step of plan.steps) {
    try {
      const report = await deps.invoker.invoke(target, {
        SecretId: secret.arn,
        ClientRequestToken: plan.versionId ?? '',
        Step: step,
      });
      deps.logger.info('repair step finished', { step, outcome: report.outcome, versionId: plan.versionId });
      reports.push(report);
    } catch (error) {
      if (!(error instanceof StepFailedError || error instanceof StepInvocationError)) throw error;
      const failure =
        error instanceof StepFailedError
          ? { step, errorType: error.errorType, message: error.errorMessage }
          : { step, errorType: error.name, message: error.message };
      deps.logger.warn('repair stopped: a step refused', { ...failure, versionId: plan.versionId });
      return {
        ...base,
        status: RepairStatus.FAILED,
        stepReports: reports,
        failure,
        reason: `${plan.reason}; ${step} refused: ${failure.errorType}: ${failure.message}`,
      };
    }
  }
  return { ...base, status: RepairStatus.REPAIRED, stepReports: reports };
}
