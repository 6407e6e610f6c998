/**
 * A secret's age, from its sources in Secrets Manager's terms: the newer of `LastRotatedDate`
 * and AWSCURRENT's `rotated_at` (both are evidence that a rotation happened, and AWS's own
 * rotation templates never stamp `rotated_at`); `CreatedDate` only when neither exists.
 */
import { DAY_MS, FindingKind, HOUR_MS, Severity, Status } from './constants.js';
import type { Finding } from './finding.js';
import { iso } from './format.js';
import type { EffectivePolicy } from './overrides.js';
import type { FleetEntry, SecretMetadata } from './secret.js';
import type { PolicySettings } from './settings.js';

/** Where a secret's age comes from. */
export type AgeSource = 'LastRotatedDate' | 'rotated_at' | 'CreatedDate';

/** A secret's age and the sources it was taken from. */
export interface SecretAge {
  /** The source that counts; undefined when the age is unknown. */
  readonly source?: AgeSource;
  /** When the credential was last replaced, by that source. */
  readonly since?: Date;
  readonly lastRotatedDate?: Date;
  /** AWSCURRENT's `rotated_at`, when it was read and is a date not in the future. */
  readonly rotatedAt?: Date;
  readonly createdDate?: Date;
}

/** The age status for a credential last replaced at `since`. */
export function statusForAge(
  since: Date,
  policy: Pick<EffectivePolicy, 'maxAgeDays' | 'warningDays'>,
  now: Date,
) {
  const age = now.getTime() - since.getTime();
  if (age > policy.maxAgeDays * DAY_MS) return Status.OVERDUE;
  if (age > (policy.maxAgeDays - policy.warningDays) * DAY_MS) return Status.DUE_SOON;
  return Status.COMPLIANT;
}

/**
 * True when the secret's status depends on AWSCURRENT's `rotated_at`: it has no
 * `LastRotatedDate`, or `LastRotatedDate` alone would not make it compliant (a newer
 * `rotated_at` could). Reading a value costs a call and counts as an access
 * (`LastAccessedDate`), so the fleet reader reads only these.
 */
export function needsRotatedAt(secret: SecretMetadata, policy: EffectivePolicy, now: Date): boolean {
  return !secret.lastRotatedDate || statusForAge(secret.lastRotatedDate, policy, now) !== Status.COMPLIANT;
}

/**
 * Works out the age and its status. The status is `unknown` when it depends on a
 * `rotated_at` that could not be read (fail closed: an unreadable value is never taken as
 * one without `rotated_at`), and `never-rotated` when the age comes from `CreatedDate`.
 * Findings: the sources disagree (by more than the tolerance), `rotated_at` is unusable,
 * or the value could not be read.
 */
export function assessAge(
  entry: FleetEntry,
  policy: EffectivePolicy,
  settings: PolicySettings,
  now: Date,
): { age: SecretAge; status: Status; findings: Finding[] } {
  const { secret, rotatedAt: evidence } = entry;
  const findings: Finding[] = [];
  const disagree = (reason: string) =>
    findings.push({ kind: FindingKind.AGE_SOURCES_DISAGREE, severity: Severity.INFO, reason });
  const tolerance = settings.sourceToleranceHours * HOUR_MS;
  const lastRotatedDate = secret.lastRotatedDate;
  const createdDate = secret.createdDate;

  let rotatedAt: Date | undefined;
  if (evidence.state === 'found') {
    if (evidence.date.getTime() > now.getTime() + tolerance)
      disagree(`AWSCURRENT's rotated_at (${iso(evidence.date)}) is in the future, so it is ignored`);
    else rotatedAt = evidence.date;
  } else if (evidence.state === 'invalid') {
    disagree(
      `AWSCURRENT's ${evidence.detail}, so it is ignored: stamp it as ISO 8601 UTC (2024-01-01T00:00:00Z)`,
    );
  }
  if (lastRotatedDate && rotatedAt && Math.abs(lastRotatedDate.getTime() - rotatedAt.getTime()) > tolerance) {
    const days = Math.abs(lastRotatedDate.getTime() - rotatedAt.getTime()) / DAY_MS;
    disagree(
      `LastRotatedDate (${iso(lastRotatedDate)}) and AWSCURRENT's rotated_at (${iso(rotatedAt)}) are ${days.toFixed(1)} days apart; the newer counts. ` +
        'A value replaced outside rotation, or a rotation that did not stamp rotated_at, explains it: check which credential is live',
    );
  }

  const sources = {
    ...(lastRotatedDate ? { lastRotatedDate } : {}),
    ...(createdDate ? { createdDate } : {}),
  };
  if (evidence.state === 'unreadable' || evidence.state === 'not-read') {
    // Without rotated_at only a LastRotatedDate that is compliant on its own settles the age.
    if (lastRotatedDate && statusForAge(lastRotatedDate, policy, now) === Status.COMPLIANT)
      return {
        age: { ...sources, source: 'LastRotatedDate', since: lastRotatedDate },
        status: Status.COMPLIANT,
        findings,
      };
    findings.push({
      kind: FindingKind.VALUE_UNREADABLE,
      severity: Severity.CRITICAL,
      reason:
        evidence.state === 'unreadable'
          ? `AWSCURRENT could not be read for its rotated_at (${evidence.errorCode}: ${evidence.message}), so the age is unknown: ` +
            'grant the reader secretsmanager:GetSecretValue on this secret (and kms:Decrypt on its key), or find why it failed'
          : 'AWSCURRENT was not read for its rotated_at, so the age is unknown',
    });
    return { age: sources, status: Status.UNKNOWN, findings };
  }

  const withRotatedAt = { ...sources, ...(rotatedAt ? { rotatedAt } : {}) };
  if (lastRotatedDate || rotatedAt) {
    const useRotatedAt = rotatedAt && (!lastRotatedDate || rotatedAt.getTime() > lastRotatedDate.getTime());
    const since = (useRotatedAt ? rotatedAt : lastRotatedDate) as Date;
    return {
      age: { ...withRotatedAt, source: useRotatedAt ? 'rotated_at' : 'LastRotatedDate', since },
      status: statusForAge(since, policy, now),
      findings,
    };
  }
  if (createdDate)
    return {
      age: { ...withRotatedAt, source: 'CreatedDate', since: createdDate },
      status: Status.NEVER_ROTATED,
      findings,
    };
  findings.push({
    kind: FindingKind.VALUE_UNREADABLE,
    severity: Severity.CRITICAL,
    reason: 'the secret has no LastRotatedDate, no rotated_at and no CreatedDate, so the age is unknown',
  });
  return { age: withRotatedAt, status: Status.UNKNOWN, findings };
}
