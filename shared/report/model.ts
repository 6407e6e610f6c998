/**
 * The compliance report: every managed secret's evaluation, flattened into rows that the
 * JSON, CSV, HTML and terminal renderers share, with totals by status, control and finding.
 * It holds names, dates, settings and reasons; never a secret value.
 */
import {
  type AgeSource,
  CONTROLS,
  type ControlId,
  describeRotationRules,
  evaluateSecret,
  type Finding,
  type FleetEntry,
  type FleetSummary,
  type PolicySettings,
  STATUSES,
  type Status,
  summarizeFleet,
} from '../policy/index.js';

/** The version of the report's JSON layout. */
export const REPORT_SCHEMA_VERSION = 1;

/** One secret's row. Absent values are `null`. */
export interface ReportSecret {
  readonly name: string;
  readonly arn: string;
  readonly managedPrefix: string | null;
  readonly status: Status;
  readonly ageDays: number | null;
  readonly ageSource: AgeSource | null;
  /** When the credential was last replaced (ISO 8601), by `ageSource`. */
  readonly since: string | null;
  readonly lastRotatedDate: string | null;
  readonly rotatedAt: string | null;
  readonly createdDate: string | null;
  readonly lastAccessedDate: string | null;
  readonly nextRotationDate: string | null;
  readonly dueDate: string | null;
  readonly daysUntilDue: number | null;
  readonly maxAgeDays: number;
  readonly warningDays: number;
  readonly rotationEnabled: boolean;
  readonly rotationFunction: string | null;
  readonly rotationSchedule: string | null;
  readonly owningService: string | null;
  /** The version a pending (or stuck) rotation has staged AWSPENDING. */
  readonly pendingVersion: string | null;
  readonly failingControls: readonly ControlId[];
  readonly findings: readonly Finding[];
}

/** A control as the report describes it: the auditor's check and the parameter used. */
export interface ReportControl {
  readonly id: ControlId;
  readonly title: string;
  readonly configRule: string;
  readonly parameter: string | null;
  readonly failing: number;
}

/** The whole report. */
export interface ComplianceReport {
  readonly schemaVersion: typeof REPORT_SCHEMA_VERSION;
  readonly generatedAt: string;
  readonly environment: string;
  readonly managedPrefixes: readonly string[];
  readonly policy: {
    readonly maxAgeDays: number;
    readonly warningDays: number;
    readonly scheduleDays: number;
    readonly unusedDays: number;
    readonly stuckAfterHours: number;
  };
  readonly controls: readonly ReportControl[];
  readonly summary: FleetSummary;
  readonly secrets: readonly ReportSecret[];
}

const iso = (date: Date | undefined) => date?.toISOString() ?? null;
const statusRank = (status: Status) => STATUSES.indexOf(status);

/** Orders rows worst first: by status, then oldest first, then by name. */
export function compareRows(a: ReportSecret, b: ReportSecret): number {
  return (
    statusRank(a.status) - statusRank(b.status) ||
    (b.ageDays ?? Number.POSITIVE_INFINITY) - (a.ageDays ?? Number.POSITIVE_INFINITY) ||
    a.name.localeCompare(b.name)
  );
}

/** Evaluates the fleet under `settings` at `now` and builds the report. */
export function buildReport(
  fleet: readonly FleetEntry[],
  settings: PolicySettings,
  now: Date,
): ComplianceReport {
  const secrets = fleet
    .map((entry): ReportSecret => {
      const { secret } = entry;
      const evaluation = evaluateSecret(entry, settings, now);
      return {
        name: secret.name,
        arn: secret.arn,
        managedPrefix: evaluation.managedPrefix ?? null,
        status: evaluation.status,
        ageDays: evaluation.ageDays ?? null,
        ageSource: evaluation.age.source ?? null,
        since: iso(evaluation.age.since),
        lastRotatedDate: iso(secret.lastRotatedDate),
        rotatedAt: iso(evaluation.age.rotatedAt),
        createdDate: iso(secret.createdDate),
        lastAccessedDate: iso(secret.lastAccessedDate),
        nextRotationDate: iso(secret.nextRotationDate),
        dueDate: iso(evaluation.dueDate),
        daysUntilDue: evaluation.daysUntilDue ?? null,
        maxAgeDays: evaluation.policy.maxAgeDays,
        warningDays: evaluation.policy.warningDays,
        rotationEnabled: secret.rotationEnabled,
        rotationFunction: secret.rotationLambdaArn ?? null,
        rotationSchedule: describeRotationRules(secret.rotationRules) || null,
        owningService: secret.owningService ?? null,
        pendingVersion: evaluation.pending?.versionId ?? null,
        failingControls: evaluation.failingControls,
        findings: evaluation.findings.map(({ kind, severity, reason }) => ({ kind, severity, reason })),
      };
    })
    .sort(compareRows);
  return assembleReport(secrets, settings, now);
}

/** The report around `secrets` (rows already built, e.g. read back from CSV): totals and settings. */
export function assembleReport(
  secrets: readonly ReportSecret[],
  settings: PolicySettings,
  now: Date,
): ComplianceReport {
  const summary = summarizeFleet(secrets);
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    generatedAt: now.toISOString(),
    environment: settings.environment,
    managedPrefixes: settings.managedPrefixes,
    policy: {
      maxAgeDays: settings.maxAgeDays,
      warningDays: settings.warningDays,
      scheduleDays: settings.scheduleDays,
      unusedDays: settings.unusedDays,
      stuckAfterHours: settings.stuckAfterHours,
    },
    controls: CONTROLS.map((control) => ({
      id: control.id,
      title: control.title,
      configRule: control.configRule,
      parameter: control.parameter
        ? `${control.parameter}=${control.parameter === 'unusedForDays' ? settings.unusedDays : settings.maxAgeDays}`
        : null,
      failing: summary.failingControls[control.id],
    })),
    summary,
    secrets,
  };
}

/** The report as JSON (pretty-printed, one trailing newline). */
export function renderJson(report: ComplianceReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
