/** Repairing a stuck rotation: shared/repair, through this product's own rotation function only. */
import { describeFunction, functionName, sameFunction } from '../policy/format.js';
import { evaluateSecret } from '../policy/index.js';
import {
  RepairStatus,
  type RotationInvoker,
  repairStuckRotation,
  StepInvocationError,
} from '../repair/index.js';
import { type ExecutorDependencies, ourFunctionArn, skipped } from './action.js';
import { describeNow } from './calls.js';
import { ActionKind, type ActionOutcome, NoticeKind, OutcomeStatus } from './outcome.js';
import type { WorkItem } from './work-item.js';

/** Thrown by the step runner of a repair when a secret's rotation function is not this product's. */
export class ForeignRotationFunctionError extends StepInvocationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ForeignRotationFunctionError';
  }
}

/**
 * Clears the secret's stuck rotation (see shared/repair's `planRepair`), only when its rotation
 * function is this product's for its prefix; says what it did, or why a person must.
 */
export async function repair(deps: ExecutorDependencies, item: WorkItem): Promise<ActionOutcome[]> {
  const name = item.secret.name;
  const secret = await describeNow(deps.secretsManager, item.secret.arn);
  if (!secret) return [skipped(name, ActionKind.REPAIR, 'the secret no longer exists')];
  const evaluation = evaluateSecret({ secret, rotatedAt: { state: 'not-read' } }, deps.settings, deps.now());
  const expected = ourFunctionArn(deps.settings, secret, evaluation.managedPrefix);
  if (secret.owningService || !expected)
    return [skipped(name, ActionKind.REPAIR, 'no longer a secret whose rotation this product manages')];
  // Another function's rotation, even its empty placeholder, is not ours to touch.
  if (!secret.rotationLambdaArn || !sameFunction(secret.rotationLambdaArn, expected, secret.arn))
    return [
      {
        secret: name,
        action: ActionKind.REPAIR,
        status: OutcomeStatus.REFUSED,
        reason: `its rotation belongs to ${secret.rotationLambdaArn ? describeFunction(secret.rotationLambdaArn, expected) : 'no function'}, not this product's ${functionName(expected)}: finish it with that function, or remove the label if its version holds no value`,
        notice: NoticeKind.STUCK_BEYOND_REPAIR,
      },
    ];
  const result = await repairStuckRotation(
    {
      secretsManager: deps.secretsManager,
      store: deps.store,
      invoker: ownFunctionOnly(deps.steps, expected, secret.arn),
      logger: deps.logger,
      now: deps.now,
    },
    secret.arn,
    { minAgeMs: deps.repairMinAgeMs },
  );
  const base = {
    secret: name,
    action: ActionKind.REPAIR,
    ...(result.versionId ? { versionId: result.versionId } : {}),
  };
  const said = `${result.action}: ${result.reason}`;
  switch (result.status) {
    case RepairStatus.REPAIRED:
      return [{ ...base, status: OutcomeStatus.DONE, reason: said }];
    case RepairStatus.NOT_NEEDED:
    case RepairStatus.PLANNED:
      return [{ ...base, status: OutcomeStatus.SKIPPED, reason: result.reason }];
    case RepairStatus.DEFERRED:
      return [
        {
          ...base,
          status: OutcomeStatus.SKIPPED,
          reason: result.reason,
          ...(result.ageMs === undefined ? { notice: NoticeKind.STUCK_BEYOND_REPAIR } : {}),
        },
      ];
    case RepairStatus.FAILED:
      if (result.failure?.errorType === 'StepInvocationError')
        return [{ ...base, status: OutcomeStatus.FAILED, reason: said, notice: NoticeKind.ACTION_FAILED }];
      return [
        { ...base, status: OutcomeStatus.REFUSED, reason: said, notice: NoticeKind.STUCK_BEYOND_REPAIR },
      ];
    default: {
      const unknown: never = result.status;
      throw new Error(`unhandled repair status ${String(unknown)}`);
    }
  }
}

/** A step runner that runs steps only through `expectedArn` (this product's function for the secret). */
function ownFunctionOnly(invoker: RotationInvoker, expectedArn: string, secretArn: string): RotationInvoker {
  return {
    description: invoker.description,
    invoke: async (target, event) => {
      if (!target.functionArn || !sameFunction(target.functionArn, expectedArn, secretArn))
        throw new ForeignRotationFunctionError(
          `secret ${target.secretName} is rotated by ${target.functionArn ? describeFunction(target.functionArn, expectedArn) : 'no function'}, not this product's ${functionName(expectedArn)}: its steps are not run`,
        );
      return invoker.invoke(target, event);
    },
  };
}
