import { PROVIDER_TAG } from '../api-keys/registry.js';

/** One day and one hour in milliseconds. */
export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

/**
 * A secret's age status. `unknown` is the fail-closed answer: the age depends on a value
 * that could not be read (the report says why), so no status is claimed.
 */
export const Status = {
  COMPLIANT: 'compliant',
  DUE_SOON: 'due-soon',
  OVERDUE: 'overdue',
  NEVER_ROTATED: 'never-rotated',
  UNKNOWN: 'unknown',
} as const;
export type Status = (typeof Status)[keyof typeof Status];

/** Statuses in report order, worst first. */
export const STATUSES: readonly Status[] = [
  Status.OVERDUE,
  Status.NEVER_ROTATED,
  Status.UNKNOWN,
  Status.DUE_SOON,
  Status.COMPLIANT,
];

/** What a finding is about. Each finding also carries a reason an operator can act on. */
export const FindingKind = {
  ROTATION_NOT_ENABLED: 'rotation-not-enabled',
  SCHEDULE_TOO_LONG: 'schedule-too-long',
  ROTATION_FUNCTION_NOT_OURS: 'rotation-function-not-ours',
  LAST_ROTATION_FAILED: 'last-rotation-failed',
  ROTATION_STUCK: 'rotation-stuck',
  MANUAL_ACTION_REQUIRED: 'manual-action-required',
  UNUSED: 'unused',
  MANAGED_BY_ANOTHER_SERVICE: 'managed-by-another-service',
  AGE_SOURCES_DISAGREE: 'age-sources-disagree',
  VALUE_UNREADABLE: 'value-unreadable',
  INVALID_OVERRIDE: 'invalid-override',
} as const;
export type FindingKind = (typeof FindingKind)[keyof typeof FindingKind];

/** How urgent a finding is: `critical` breaks the policy now, `warning` will or needs a person, `info` explains. */
export const Severity = { INFO: 'info', WARNING: 'warning', CRITICAL: 'critical' } as const;
export type Severity = (typeof Severity)[keyof typeof Severity];

/**
 * Tags that override the policy for one secret. Tag values are plain text (Secrets Manager
 * accepts any characters in them); an invalid value is ignored and reported as an
 * `invalid-override` finding.
 */
export const PolicyTag = {
  /** Integer days, 1 to the policy's max age: a shorter max age for this secret (never a longer one). */
  MAX_AGE_DAYS: 'rotation-max-age-days',
  /** Integer days, 0 to max age − 1: the warning window for this secret. */
  WARNING_DAYS: 'rotation-warning-days',
  /**
   * The rotation window: a Secrets Manager `ScheduleExpression` and optionally a `Duration`,
   * e.g. `cron(0 2 ? * SAT#1 *) 3h` (first Saturday of each month, 02:00–05:00 UTC) or
   * `rate(30 days) 4h`. The enforcer sets these as the secret's rotation rules, and starts an
   * overdue rotation only inside the window.
   */
  WINDOW: 'rotation-window',
  /** `auto` (default) or `manual`: a person rotates this secret; the enforcer notifies instead. */
  MODE: 'rotation-mode',
  /** The version id whose key a person has revoked by hand (for providers whose old keys only a person can revoke). */
  PREVIOUS_REVOKED: 'rotation-previous-revoked',
  /** The API-key provider (`aws`, `resend`, `google`, `clerk`); else the last part of the name. */
  PROVIDER: PROVIDER_TAG,
} as const;
