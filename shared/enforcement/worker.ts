/**
 * The worker's side of the queue: each message is one work item, carried out as the enforcer
 * would (fresh reads first). A message that is not a work item, or whose action failed in a
 * way a retry may mend, fails alone (partial batch response): SQS delivers it again, and after
 * the queue's receive limit moves it to the dead-letter queue. One alert per batch for what
 * needs a person.
 */
import type { AlertPublisher } from '../alerts/publisher.js';
import { redactError } from '../logging/index.js';
import type { Metrics } from '../metrics/index.js';
import { WorkItemFailedError } from './errors.js';
import { type ExecutorDependencies, executeWorkItem } from './execute.js';
import { enforcementAlert, recordEnforcementMetrics, secretsNamed } from './notify.js';
import { ActionKind, type ActionOutcome, noticesOf, OutcomeStatus } from './outcome.js';
import { actionsOf, parseWorkItem } from './work-item.js';

/** What the worker needs. */
export interface WorkerDependencies extends ExecutorDependencies {
  readonly publisher: () => Promise<AlertPublisher | undefined>;
  readonly metrics?: Metrics;
}

/** One batch of queue messages: `handle` each body, then `finish` once. */
export interface WorkerBatch {
  /**
   * Carries out one message (logging its failure, once, with the message id).
   * @throws when it failed: the message is then reported as failed.
   */
  handle(body: string, messageId: string): Promise<ActionOutcome[]>;
  /** Alerts for what needs a person and records the metrics of the whole batch. */
  finish(): Promise<{ outcomes: number; alerted: boolean }>;
}

/** Starts a batch. */
export function startWorkerBatch(deps: WorkerDependencies): WorkerBatch {
  const outcomes: ActionOutcome[] = [];
  const runs = new Set<string>();
  // SQS may deliver a message twice, and two runs may queue the same start: within a batch,
  // a start already under way is not started again (across batches, the version check holds).
  const starting = new Set<string>();
  const carryOut = async (body: string): Promise<ActionOutcome[]> => {
    const item = parseWorkItem(body);
    runs.add(item.run.id);
    deps.logger.info('work item received', {
      secretName: item.secret.name,
      runId: item.run.id,
      actions: actionsOf(item),
    });
    const key = item.start && `${item.secret.arn}\n${item.start.token}`;
    if (key && starting.has(key)) {
      const outcome: ActionOutcome = {
        secret: item.secret.name,
        action: ActionKind.START,
        status: OutcomeStatus.SKIPPED,
        reason: 'not started: another message of this batch starts the same rotation',
        versionId: item.start?.token ?? '',
      };
      deps.logger.info('enforcement action', { secretName: item.secret.name, ...outcome });
      outcomes.push(outcome);
      return [outcome];
    }
    if (key) starting.add(key);
    try {
      const done = await executeWorkItem(deps, item);
      outcomes.push(...done);
      return done;
    } catch (error) {
      if (error instanceof WorkItemFailedError) outcomes.push(...error.outcomes);
      throw error;
    }
  };
  return {
    async handle(body, messageId) {
      try {
        return await carryOut(body);
      } catch (error) {
        deps.logger.error('work item failed; the queue delivers it again', {
          messageId,
          error: redactError(error),
        });
        throw error;
      }
    },
    async finish() {
      const notices = noticesOf(outcomes);
      recordEnforcementMetrics(deps.metrics, outcomes, notices);
      const alert = enforcementAlert(notices, {
        environment: deps.settings.environment,
        runId: [...runs].join(','),
        source: 'The enforcement worker',
      });
      if (!alert) return { outcomes: outcomes.length, alerted: false };
      const publisher = await deps.publisher();
      if (!publisher) {
        deps.logger.error('alert not delivered', {
          reason:
            'no alert topic is known (ALERT_TOPIC_ARN, or the function ARN to find ALERT_TOPIC_NAME by)',
          subject: alert.subject,
          alert: alert.body,
        });
        return { outcomes: outcomes.length, alerted: false };
      }
      const messageId = await publisher.publish(alert);
      deps.logger.info('alert published', {
        subject: alert.subject,
        messageId,
        secrets: secretsNamed(notices),
      });
      return { outcomes: outcomes.length, alerted: true };
    },
  };
}
