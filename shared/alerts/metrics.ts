/**
 * Metric names of the rotation operations (CloudWatch embedded metrics through Powertools
 * Metrics, namespace {@link METRICS_NAMESPACE}), which the policy job's metrics
 * (shared/metrics) count under the same names.
 */

/** The CloudWatch namespace of this product's metrics. */
export const METRICS_NAMESPACE = 'SecretsRotation';

/** Counters, one data point of 1 per occurrence. */
export const RotationMetric = {
  /** Secrets Manager started a rotation (RotationStarted events: every trigger). */
  STARTED: 'RotationsStarted',
  SUCCEEDED: 'RotationsSucceeded',
  FAILED: 'RotationsFailed',
  ABANDONED: 'RotationsAbandoned',
  /** A stuck rotation was cleared (placeholder unlabelled or rotation finished). */
  REPAIRED: 'RotationsRepaired',
  ROLLED_BACK: 'RotationsRolledBack',
  /**
   * A superseded version's keys are due for revocation but were not revoked (the revocation
   * failed; its record stays, and the next rotation tries again).
   */
  REVOCATIONS_OVERDUE: 'RevocationsOverdue',
  /** An AccessDenied Secrets Manager call. */
  ACCESS_DENIED: 'UnauthorizedAccessAttempts',
} as const;

/** One of {@link RotationMetric}'s values. */
export type RotationMetric = (typeof RotationMetric)[keyof typeof RotationMetric];

/** Where counts go; Powertools' `Metrics` satisfies it. */
export interface MetricsSink {
  addMetric(name: string, unit: 'Count', value: number): void;
}

/** Adds one occurrence of `metric`, when there is a sink. */
export function countMetric(sink: MetricsSink | undefined, metric: RotationMetric): void {
  sink?.addMetric(metric, 'Count', 1);
}

/** What {@link publishedAtOnce} needs of Powertools' `Metrics`. */
interface SingleMetricSource {
  singleMetric(): { addMetric(name: string, unit: 'Count', value: number): unknown };
}

/**
 * A sink that publishes each count at once, as its own embedded-metric line
 * (`metrics.singleMetric()`), for functions that rarely count anything: no middleware, and no
 * "no metrics to publish" warning on every invocation.
 */
export function publishedAtOnce(metrics: SingleMetricSource): MetricsSink {
  return {
    addMetric: (name, unit, value) => {
      metrics.singleMetric().addMetric(name, unit, value);
    },
  };
}
