/** Totals over a fleet's evaluations: by status, by failing control, by finding. */
import { FindingKind, Severity, STATUSES, type Status } from './constants.js';
import { CONTROLS, type ControlId } from './controls.js';
import type { Finding } from './finding.js';

/** The parts of a secret's evaluation the totals need (an evaluation or a report row). */
export interface SummarizableSecret {
  readonly name: string;
  readonly status: Status;
  readonly ageDays?: number | null;
  readonly failingControls: readonly ControlId[];
  readonly findings: readonly Pick<Finding, 'kind' | 'severity'>[];
}

/** Totals over the fleet. */
export interface FleetSummary {
  readonly total: number;
  /** Secrets that need attention (see {@link needsAttention}). */
  readonly needAttention: number;
  readonly byStatus: Readonly<Record<Status, number>>;
  /** Secrets that fail each control. */
  readonly failingControls: Readonly<Record<ControlId, number>>;
  /** Secrets with at least one finding of each kind. */
  readonly findings: Readonly<Record<FindingKind, number>>;
  /** The oldest credential whose age is known. */
  readonly oldest?: { readonly name: string; readonly ageDays: number };
}

/**
 * A secret needs attention unless its age status is compliant, it fails no control, and it
 * has no finding above `info`. (The age status alone can be `compliant` while, say, its
 * schedule is longer than the policy allows.)
 */
export function needsAttention(secret: SummarizableSecret): boolean {
  return (
    secret.status !== 'compliant' ||
    secret.failingControls.length > 0 ||
    secret.findings.some((finding) => finding.severity !== Severity.INFO)
  );
}

/** Adds up the fleet. */
export function summarizeFleet(secrets: readonly SummarizableSecret[]): FleetSummary {
  const byStatus = Object.fromEntries(STATUSES.map((status) => [status, 0])) as Record<Status, number>;
  const failingControls = Object.fromEntries(CONTROLS.map((control) => [control.id, 0])) as Record<
    ControlId,
    number
  >;
  const findings = Object.fromEntries(Object.values(FindingKind).map((kind) => [kind, 0])) as Record<
    FindingKind,
    number
  >;
  let needAttention = 0;
  let oldest: FleetSummary['oldest'];
  for (const secret of secrets) {
    byStatus[secret.status]++;
    for (const id of secret.failingControls) failingControls[id]++;
    for (const kind of new Set(secret.findings.map((finding) => finding.kind))) findings[kind]++;
    if (needsAttention(secret)) needAttention++;
    const age = secret.ageDays;
    if (age !== undefined && age !== null && (!oldest || age > oldest.ageDays))
      oldest = { name: secret.name, ageDays: age };
  }
  return {
    total: secrets.length,
    needAttention,
    byStatus,
    failingControls,
    findings,
    ...(oldest ? { oldest } : {}),
  };
}
