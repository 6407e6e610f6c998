/**
 * One run of the policy enforcer: reads the fleet within the quotas, plans (pure), logs every
 * decision, then carries out repairs, revocations and rotation settings itself (up to the
 * inline limit) or hands them to the queue, queues the rotation starts spread over the spread
 * window, tells people what only they can do (one alert), and records metrics. A dry run
 * plans and reports, and changes nothing.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { AlertPublisher } from '../alerts/publisher.js';
import { boundedConcurrency, type FleetCalls, readFleet } from '../fleet/index.js';
import { summarizeError } from '../logging/index.js';
import type { Metrics } from '../metrics/index.js';
import { EnforcementQueueError, WorkItemFailedError } from './errors.js';
import { type ExecutorDependencies, executeWorkItem } from './execute.js';
import type { EnforcementRequest } from './input.js';
import { enforcementAlert, recordEnforcementMetrics, secretsNamed } from './notify.js';
import { type ActionOutcome, type Notice, NoticeKind, noticesOf, OutcomeStatus } from './outcome.js';
import { type EnforcementPlan, type PlannedAction, planEnforcement } from './plan.js';
import { type QueuedItem, sendWorkItems } from './queue.js';
import type { WorkItem } from './work-item.js';

/** Work items the enforcer carries out at once, besides the fleet read. */
const INLINE_CONCURRENCY = 8;
/**
 * No inline item is started with less time than this left: an item may run a repair (three
 * steps) and a revocation, each a synchronous invoke of a rotation function at its 90 s timeout.
 */
export const HAND_OVER_RESERVE_MS = 420_000;
/** How many actions and notices the result lists (all are logged). */
export const RESULT_LIMIT = 100;

/** What a run needs. */
export interface EnforcementDependencies extends ExecutorDependencies {
  readonly runId: string;
  readonly spreadSeconds: number;
  readonly inlineLimit: number;
  readonly gracePeriodMs: number;
  readonly sqs: SQSClient;
  /** The queue's URL, looked up when first needed (a dry run needs none). */
  readonly queueUrl: () => Promise<string>;
  /** Where alerts go; undefined when no topic is known (a local run): the alert is then logged only. */
  readonly publisher: () => Promise<AlertPublisher | undefined>;
  readonly metrics?: Metrics;
  /** Milliseconds left in this invocation; items not started with too little left go to the queue. */
  readonly remainingMs?: () => number;
}

/** An action as the result lists it. */
export interface ReportedAction {
  readonly secret: string;
  readonly action: string;
  readonly status: string;
  readonly reason: string;
  readonly versionId?: string;
  readonly versionIds?: readonly string[];
  readonly delaySeconds?: number;
}

/** What a run returns (and logs): identifiers, counts and reasons, never a value. */
export interface EnforcementResult {
  readonly runId: string;
  readonly at: string;
  readonly environment: string;
  readonly dryRun: boolean;
  readonly ignoreWindows: boolean;
  /** `inline`: the enforcer made the changes; `queue`: past the inline limit, the worker makes them. */
  readonly mode: 'inline' | 'queue';
  readonly secrets: number;
  readonly calls: FleetCalls;
  /** What the plan holds. */
  readonly planned: {
    readonly configure: number;
    readonly start: number;
    readonly repair: number;
    readonly revoke: number;
    readonly secretsNeedingPerson: number;
  };
  /** What was done (absent in a dry run). */
  readonly done?: {
    readonly configured: number;
    readonly repaired: number;
    readonly revoked: number;
    readonly refused: number;
    readonly failed: number;
    /** Work items handed to the queue: rotation starts, and changes past the limit or the time left. */
    readonly queued: number;
  };
  /** Planned actions (dry run) or outcomes, at most {@link RESULT_LIMIT}; `more` counts the rest. */
  readonly actions: readonly ReportedAction[];
  readonly notices: readonly Notice[];
  readonly more?: { readonly actions: number; readonly notices: number };
  /** True when the alert to people was published. */
  readonly alerted: boolean;
}

/**
 * Runs the enforcer once.
 * @throws {FleetReadError} when the fleet cannot be listed (nothing is done on part of it).
 * @throws {EnforcementQueueError} when work could not be queued (after the rest was done and people were told).
 */
export async function runEnforcement(
  deps: EnforcementDependencies,
  request: EnforcementRequest,
): Promise<EnforcementResult> {
  const { logger, settings } = deps;
  const at = deps.now();
  const fleet = await readFleet(deps.secretsManager, settings, { now: at });
  logger.info('fleet read', { secrets: fleet.entries.length, calls: fleet.calls });
  const plan = planEnforcement(fleet.entries, settings, {
    run: { id: deps.runId, at, ignoreWindows: request.ignoreWindows },
    repairMinAgeMs: deps.repairMinAgeMs,
    gracePeriodMs: deps.gracePeriodMs,
    spreadSeconds: deps.spreadSeconds,
  });
  for (const decision of plan.decisions)
    logger.info('policy decision', {
      secretName: decision.secret,
      status: decision.status,
      ageDays: decision.ageDays,
      actions: decision.actions,
      skipped: decision.skipped,
      notices: decision.notices,
      dryRun: request.dryRun,
    });
  const mode = plan.items.length > deps.inlineLimit ? 'queue' : 'inline';
  const base = {
    runId: deps.runId,
    at: at.toISOString(),
    environment: settings.environment,
    dryRun: request.dryRun,
    ignoreWindows: request.ignoreWindows,
    mode,
    secrets: fleet.entries.length,
    calls: fleet.calls,
    planned: planned(plan),
  } as const;

  if (request.dryRun) {
    const actions = plan.decisions.flatMap((d) => d.actions.map((a) => reportPlanned(d.secret, a)));
    logger.info('dry run: nothing was changed', { planned: base.planned });
    return { ...base, ...listed(actions, plan.notices), alerted: false };
  }

  // Changes first, then the starts: the enforcer's RotateSecret calls are done before any
  // worker starts one, so the two never share the 50/s quota.
  const outcomes: ActionOutcome[] = [];
  const handOver: WorkItem[] = [];
  if (mode === 'inline') {
    const run = boundedConcurrency(INLINE_CONCURRENCY);
    await Promise.all(
      plan.items.map((item) =>
        run(async () => {
          if (deps.remainingMs && deps.remainingMs() < HAND_OVER_RESERVE_MS) {
            handOver.push(item);
            return;
          }
          try {
            outcomes.push(...(await executeWorkItem(deps, item)));
          } catch (error) {
            if (!(error instanceof WorkItemFailedError)) throw error;
            outcomes.push(...error.outcomes);
          }
        }),
      ),
    );
    if (handOver.length > 0)
      logger.warn('too little time left: the remaining changes go to the queue', { items: handOver.length });
  } else {
    handOver.push(...plan.items);
    logger.info('past the inline limit: every change goes to the queue', {
      items: plan.items.length,
      inlineLimit: deps.inlineLimit,
    });
  }
  const queued: QueuedItem[] = [...handOver.map((item) => ({ item, delaySeconds: 0 })), ...plan.starts];
  let queueError: unknown;
  if (queued.length > 0) {
    try {
      await sendWorkItems(deps.sqs, await deps.queueUrl(), queued);
      logger.info('work items queued', { items: handOver.length, starts: plan.starts.length });
    } catch (error) {
      queueError = error;
    }
  }

  const notices = [...plan.notices, ...noticesOf(outcomes)];
  if (queueError)
    notices.push({
      secret: '(enforcement queue)',
      kind: NoticeKind.ACTION_FAILED,
      reason: `work was not queued: ${queueError instanceof EnforcementQueueError ? queueError.message : summarizeError(queueError)}; the next run plans it again`,
    });
  recordEnforcementMetrics(deps.metrics, outcomes, notices, queueError ? 0 : queued.length);
  const alerted = await alert(deps, notices);
  const count = (status: string, action?: string) =>
    outcomes.filter((o) => o.status === status && (!action || o.action === action)).length;
  const result: EnforcementResult = {
    ...base,
    done: {
      configured: count(OutcomeStatus.DONE, 'configure'),
      repaired: count(OutcomeStatus.DONE, 'repair'),
      revoked: outcomes.filter((o) => (o.revoked?.length ?? 0) > 0).length,
      refused: count(OutcomeStatus.REFUSED),
      failed: count(OutcomeStatus.FAILED),
      queued: queueError ? 0 : queued.length,
    },
    ...listed(
      [
        ...outcomes.map((o) => ({ ...o })),
        ...(queueError ? [] : plan.starts).map(({ item, delaySeconds }) => ({
          secret: item.secret.name,
          action: 'start',
          status: 'queued',
          reason: `starts in ${delaySeconds} s, after the worker checks the secret again`,
          versionId: item.start?.token ?? '',
          delaySeconds,
        })),
        ...(queueError ? [] : handOver).map((item) => ({
          secret: item.secret.name,
          action: [item.repair && 'repair', item.revoke && 'revoke', item.configure && 'configure']
            .filter(Boolean)
            .join('+'),
          status: 'queued',
          reason: 'handed to the worker',
        })),
      ],
      notices,
    ),
    alerted,
  };
  logger.info('enforcement run finished', { mode, planned: result.planned, done: result.done, alerted });
  if (queueError)
    throw queueError instanceof EnforcementQueueError
      ? queueError
      : new EnforcementQueueError(`work was not queued: ${summarizeError(queueError)}`);
  return result;
}

function planned(plan: EnforcementPlan): EnforcementResult['planned'] {
  const count = (action: string) =>
    plan.decisions.filter((d) => d.actions.some((a) => a.action === action)).length;
  return {
    configure: plan.decisions.filter((d) =>
      d.actions.some((a) => a.action === 'configure' || a.withSettings === true),
    ).length,
    start: count('start'),
    repair: count('repair'),
    revoke: count('revoke'),
    secretsNeedingPerson: secretsNamed(plan.notices),
  };
}

function reportPlanned(secret: string, action: PlannedAction): ReportedAction {
  return {
    secret,
    action: action.action,
    status: 'planned',
    reason: action.reason,
    ...(action.versionId ? { versionId: action.versionId } : {}),
    ...(action.token ? { versionId: action.token } : {}),
    ...(action.versionIds ? { versionIds: action.versionIds } : {}),
    ...(action.delaySeconds !== undefined ? { delaySeconds: action.delaySeconds } : {}),
  };
}

function listed(actions: readonly ReportedAction[], notices: readonly Notice[]) {
  const moreActions = Math.max(0, actions.length - RESULT_LIMIT);
  const moreNotices = Math.max(0, notices.length - RESULT_LIMIT);
  return {
    actions: actions.slice(0, RESULT_LIMIT),
    notices: notices.slice(0, RESULT_LIMIT),
    ...(moreActions + moreNotices > 0 ? { more: { actions: moreActions, notices: moreNotices } } : {}),
  };
}

/** Publishes one alert for the notices; logs it when no topic is known. */
async function alert(deps: EnforcementDependencies, notices: readonly Notice[]): Promise<boolean> {
  const message = enforcementAlert(notices, {
    environment: deps.settings.environment,
    runId: deps.runId,
    source: 'The daily policy run',
  });
  if (!message) return false;
  const publisher = await deps.publisher();
  if (!publisher) {
    deps.logger.error('alert not delivered', {
      reason: 'no alert topic is known (ALERT_TOPIC_ARN, or the function ARN to find ALERT_TOPIC_NAME by)',
      subject: message.subject,
      alert: message.body,
    });
    return false;
  }
  const messageId = await publisher.publish(message);
  deps.logger.info('alert published', {
    subject: message.subject,
    messageId,
    secrets: secretsNamed(notices),
  });
  return true;
}
