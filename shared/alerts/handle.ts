import type { RotationLogger } from '../rotation/strategy.js';
import { accessDeniedAlert, rotationAlert } from './alert.js';
import { classifyEvent, type SecretsManagerEvent } from './events.js';
import { countMetric, type MetricsSink, RotationMetric } from './metrics.js';
import type { AlertPublisher } from './publisher.js';

/** Dependencies of {@link handleSecretsManagerEvent}. */
export interface EventHandlingDependencies {
  readonly logger: RotationLogger;
  /** Where alerts go; undefined when no topic is configured (a local run): alerts are then logged only. */
  readonly publisher: AlertPublisher | undefined;
  readonly metrics?: MetricsSink;
}

/** What was done with one event: identifiers and reasons, never a value. */
export interface EventHandlingResult {
  readonly kind: SecretsManagerEvent['kind'];
  /** The rotation outcome, for rotation events. */
  readonly outcome?: string;
  readonly secret?: string;
  /** Whether an alert was published (and its SNS message id). */
  readonly alerted: boolean;
  readonly messageId?: string;
  /** Why the event was ignored, or why no alert went out. */
  readonly reason?: string;
}

const OUTCOME_METRIC = {
  started: RotationMetric.STARTED,
  succeeded: RotationMetric.SUCCEEDED,
  failed: RotationMetric.FAILED,
  abandoned: RotationMetric.ABANDONED,
} as const;

/**
 * Handles one Secrets Manager event from EventBridge: logs every rotation outcome, alerts on
 * failed and abandoned rotations and on every AccessDenied call, counts each in metrics. An
 * event of an unknown shape is logged with the reason and ignored, never thrown: a retry
 * would not change it. A failed alert delivery throws, so that the event is retried.
 */
export async function handleSecretsManagerEvent(
  deps: EventHandlingDependencies,
  input: unknown,
): Promise<EventHandlingResult> {
  const event = classifyEvent(input);
  const { logger } = deps;
  switch (event.kind) {
    case 'ignored': {
      logger.warn('event ignored', {
        reason: event.reason,
        source: event.source,
        detailType: event.detailType,
        eventName: event.eventName,
      });
      return { kind: event.kind, alerted: false, reason: event.reason };
    }
    case 'rotation': {
      countMetric(deps.metrics, OUTCOME_METRIC[event.outcome]);
      const fields = {
        outcome: event.outcome,
        secretName: event.secretName,
        secretArn: event.secretArn,
        eventTime: event.eventTime,
        reason: event.message,
      };
      const alarming = event.outcome === 'failed' || event.outcome === 'abandoned';
      if (alarming) logger.error('rotation outcome', fields);
      else logger.info('rotation outcome', fields);
      const base = { kind: event.kind, outcome: event.outcome, secret: event.secretName };
      if (!alarming) return { ...base, alerted: false };
      return { ...base, ...(await deliver(deps, rotationAlert(event))) };
    }
    case 'access-denied': {
      countMetric(deps.metrics, RotationMetric.ACCESS_DENIED);
      logger.warn('unauthorized access attempt', {
        eventName: event.eventName,
        errorCode: event.errorCode,
        secrets: event.secrets,
        caller: event.caller,
        eventTime: event.eventTime,
      });
      return {
        kind: event.kind,
        secret: event.secrets.join(', '),
        ...(await deliver(deps, accessDeniedAlert(event))),
      };
    }
    default: {
      const unknown: never = event;
      throw new Error(`unhandled event kind ${String(unknown)}`);
    }
  }
}

async function deliver(
  deps: EventHandlingDependencies,
  alert: ReturnType<typeof rotationAlert>,
): Promise<Pick<EventHandlingResult, 'alerted' | 'messageId' | 'reason'>> {
  if (!deps.publisher) {
    const reason = 'no alert topic is configured (ALERT_TOPIC_ARN); the alert was logged only';
    deps.logger.error('alert not delivered', { reason, subject: alert.subject, alert: alert.body });
    return { alerted: false, reason };
  }
  const messageId = await deps.publisher.publish(alert);
  deps.logger.info('alert published', { subject: alert.subject, messageId });
  return { alerted: true, ...(messageId ? { messageId } : {}) };
}
