/**
 * Carries out one work item, in the enforcer's run or in the worker: repair, revoke,
 * configure, start, in that order. Every action reads the secret again and decides from what
 * it finds and from this function's own configuration, not from the plan: a secret rotated,
 * reconfigured, handed to another service or deleted since the plan is left alone. Every
 * action is idempotent, so an item may run twice (a repeated queue message, a retry).
 */
import { type ExecutorDependencies, failed } from './action.js';
import { WorkItemFailedError } from './errors.js';
import { ActionKind, type ActionOutcome, OutcomeStatus } from './outcome.js';
import { repair } from './repair-action.js';
import { revoke } from './revoke-action.js';
import { configureOrStart } from './rotation-action.js';
import type { WorkItem } from './work-item.js';

export type { ExecutorDependencies } from './action.js';
export { ForeignRotationFunctionError } from './repair-action.js';

/**
 * Carries out `item` and says how each action ended.
 * @throws {WorkItemFailedError} (with every action's outcome) when an action failed in a way a
 * retry may mend; the item may then be run again as a whole.
 */
export async function executeWorkItem(deps: ExecutorDependencies, item: WorkItem): Promise<ActionOutcome[]> {
  const logger = deps.logger.createChild({
    persistentKeys: { secretName: item.secret.name, runId: item.run.id },
  });
  const scoped = { ...deps, logger };
  const outcomes: ActionOutcome[] = [];
  const record = (outcome: ActionOutcome) => {
    outcomes.push(outcome);
    const fields = {
      action: outcome.action,
      status: outcome.status,
      reason: outcome.reason,
      versionId: outcome.versionId,
      revoked: outcome.revoked,
    };
    if (outcome.status === OutcomeStatus.FAILED) logger.error('enforcement action failed', fields);
    else if (outcome.notice)
      logger.warn('enforcement action needs a person', { ...fields, notice: outcome.notice });
    else logger.info('enforcement action', fields);
  };
  const attempt = async (action: ActionKind, work: () => Promise<ActionOutcome[]>) => {
    try {
      for (const outcome of await work()) record(outcome);
    } catch (error) {
      record(failed(item, action, error));
    }
  };
  if (item.repair) await attempt(ActionKind.REPAIR, () => repair(scoped, item));
  if (item.revoke) await attempt(ActionKind.REVOKE, () => revoke(scoped, item, item.revoke ?? []));
  if (item.configure || item.start)
    await attempt(item.start ? ActionKind.START : ActionKind.CONFIGURE, () => configureOrStart(scoped, item));
  const failures = outcomes.filter((o) => o.status === OutcomeStatus.FAILED);
  if (failures.length > 0)
    throw new WorkItemFailedError(
      `${failures.map((f) => `${f.action} failed: ${f.reason}`).join('; ')} (secret ${item.secret.name})`,
      outcomes,
    );
  return outcomes;
}
