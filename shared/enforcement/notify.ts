/** What the enforcer tells people, and what it counts: one alert per run (or worker batch), metrics per outcome. */
import type { Alert } from '../alerts/alert.js';
import { MetricName, type Metrics, MetricUnit } from '../metrics/index.js';
import { ActionKind, type ActionOutcome, type Notice, OutcomeStatus } from './outcome.js';

/** How many secrets an alert names; the rest are counted. */
export const ALERT_SECRET_LIMIT = 50;

/**
 * The alert listing the secrets that need a person, grouped by secret, or undefined when there
 * are none. `source` says who found them (the policy run, or the worker).
 */
export function enforcementAlert(
  notices: readonly Notice[],
  context: { readonly environment: string; readonly runId: string; readonly source: string },
): Alert | undefined {
  if (notices.length === 0) return undefined;
  const bySecret = new Map<string, { kind: string; reason: string }[]>();
  for (const { secret, kind, reason } of notices) {
    const list = bySecret.get(secret) ?? [];
    if (!list.some((n) => n.kind === kind && n.reason === reason)) list.push({ kind, reason });
    bySecret.set(secret, list);
  }
  const secrets = [...bySecret.entries()].sort(([a], [b]) => a.localeCompare(b));
  const count = secrets.length;
  const subject = `Secrets rotation (${context.environment}): ${count} secret${count === 1 ? ' needs' : 's need'} a person`;
  return {
    subject: subject.replace(/[^\x20-\x7e]/g, '?').slice(0, 100),
    body: {
      alert: 'secrets-need-a-person',
      summary: `${context.source} found ${count} secret${count === 1 ? '' : 's'} under ${context.environment} that only a person can put right; each is listed with what to do.`,
      environment: context.environment,
      runId: context.runId,
      secrets: secrets.slice(0, ALERT_SECRET_LIMIT).map(([secret, items]) => ({ secret, notices: items })),
      ...(count > ALERT_SECRET_LIMIT ? { more: count - ALERT_SECRET_LIMIT } : {}),
    },
  };
}

/** The number of secrets the notices name. */
export const secretsNamed = (notices: readonly Notice[]) => new Set(notices.map((n) => n.secret)).size;

/**
 * Counts what the outcomes did: rotations started, repaired, rotation settings set, versions
 * revoked, failures; and the secrets that need a person.
 */
export function recordEnforcementMetrics(
  metrics: Metrics | undefined,
  outcomes: readonly ActionOutcome[],
  notices: readonly Notice[],
  queued = 0,
): void {
  if (!metrics) return;
  const count = (action: ActionKind, status: OutcomeStatus = OutcomeStatus.DONE) =>
    outcomes.filter((o) => o.action === action && o.status === status).length;
  metrics.addMetric(MetricName.ROTATIONS_STARTED, MetricUnit.Count, count(ActionKind.START));
  metrics.addMetric(MetricName.ROTATIONS_REPAIRED, MetricUnit.Count, count(ActionKind.REPAIR));
  metrics.addMetric(MetricName.ROTATIONS_ENABLED, MetricUnit.Count, count(ActionKind.CONFIGURE));
  metrics.addMetric(
    MetricName.REVOCATIONS,
    MetricUnit.Count,
    outcomes.filter((o) => o.action === ActionKind.REVOKE && (o.revoked?.length ?? 0) > 0).length,
  );
  metrics.addMetric(MetricName.NOTIFICATIONS, MetricUnit.Count, secretsNamed(notices));
  metrics.addMetric(
    MetricName.ENFORCEMENT_FAILURES,
    MetricUnit.Count,
    outcomes.filter((o) => o.status === OutcomeStatus.FAILED).length,
  );
  metrics.addMetric(MetricName.WORK_ITEMS_QUEUED, MetricUnit.Count, queued);
}
