/**
 * CloudWatch metrics as embedded metric format (Powertools Metrics): one namespace, one
 * naming, shared by the compliance report and the policy enforcer. The Lambda handler
 * flushes them (`logMetrics` middleware); nothing here sends a request.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, RotationMetric } from '../alerts/metrics.js';
import { SERVICE_NAME } from '../logging/index.js';
import type { FleetSummary, Status } from '../policy/index.js';

/** Metric names. The rotation counts are the enforcer's, named as rotationEvents' ({@link RotationMetric}). */
export const MetricName = {
  SECRETS_COMPLIANT: 'SecretsCompliant',
  SECRETS_DUE_SOON: 'SecretsDueSoon',
  SECRETS_OVERDUE: 'SecretsOverdue',
  SECRETS_NEVER_ROTATED: 'SecretsNeverRotated',
  SECRETS_AGE_UNKNOWN: 'SecretsAgeUnknown',
  SECRETS_NEEDING_ATTENTION: 'SecretsNeedingAttention',
  OLDEST_SECRET_AGE_DAYS: 'OldestSecretAgeDays',
  SECRETS_FAILING_CONTROL: 'SecretsFailingControl',
  ROTATIONS_STARTED: RotationMetric.STARTED,
  ROTATIONS_REPAIRED: RotationMetric.REPAIRED,
  /** Secrets whose rotation the enforcer turned on, or whose function or schedule it corrected. */
  ROTATIONS_ENABLED: 'RotationsEnabled',
  /** Superseded versions whose keys the enforcer had revoked. */
  REVOCATIONS: 'Revocations',
  /** Secrets a person was told about (manual action, stuck beyond repair, another service's, keys not revoked). */
  NOTIFICATIONS: 'SecretsNeedingPerson',
  /** Enforcement actions that failed (an AWS call or an invocation); the queue or the next run retries them. */
  ENFORCEMENT_FAILURES: 'EnforcementActionsFailed',
  /** Work items handed to the enforcement queue (rotation starts, and changes past the inline limit). */
  WORK_ITEMS_QUEUED: 'EnforcementItemsQueued',
} as const;

const BY_STATUS: Record<Status, string> = {
  compliant: MetricName.SECRETS_COMPLIANT,
  'due-soon': MetricName.SECRETS_DUE_SOON,
  overdue: MetricName.SECRETS_OVERDUE,
  'never-rotated': MetricName.SECRETS_NEVER_ROTATED,
  unknown: MetricName.SECRETS_AGE_UNKNOWN,
};

/**
 * Creates the metrics buffer for a function, with the environment as a default dimension, in
 * {@link METRICS_NAMESPACE} unless `POWERTOOLS_METRICS_NAMESPACE` says otherwise.
 */
export function createMetrics(environment: string): Metrics {
  return new Metrics({
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
    serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME,
    defaultDimensions: { environment },
  });
}

/**
 * Records where the fleet stands: secrets per status, secrets needing attention, the oldest age in
 * days, and secrets failing each control (one metric with a `control` dimension).
 */
export function recordFleetMetrics(metrics: Metrics, summary: FleetSummary): void {
  for (const [status, name] of Object.entries(BY_STATUS))
    metrics.addMetric(name, MetricUnit.Count, summary.byStatus[status as Status]);
  metrics.addMetric(MetricName.SECRETS_NEEDING_ATTENTION, MetricUnit.Count, summary.needAttention);
  metrics.addMetric(MetricName.OLDEST_SECRET_AGE_DAYS, MetricUnit.Count, summary.oldest?.ageDays ?? 0);
  for (const [control, failing] of Object.entries(summary.failingControls))
    metrics
      .singleMetric()
      .addDimension('control', control)
      .addMetric(MetricName.SECRETS_FAILING_CONTROL, MetricUnit.Count, failing);
}

export type { Metrics } from '@aws-lambda-powertools/metrics';
export { MetricUnit } from '@aws-lambda-powertools/metrics';
