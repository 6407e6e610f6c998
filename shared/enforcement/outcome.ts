/**
 * What the enforcer did, or found a person must do: one outcome per action on a secret, and
 * notices for the alert. Names, version ids, key hints and reasons only, never a value.
 */

/** The changes the enforcer makes. */
export const ActionKind = {
  /** Turn rotation on, or correct its function or schedule (`RotateSecret`, `RotateImmediately: false`). */
  CONFIGURE: 'configure',
  /** Start a rotation of an overdue secret (`RotateSecret`, `RotateImmediately: true`). */
  START: 'start',
  /** Clear a stuck rotation (shared/repair). */
  REPAIR: 'repair',
  /** Revoke the keys of superseded versions whose grace period is over (rotateApiKey's revoke input). */
  REVOKE: 'revoke',
} as const;
export type ActionKind = (typeof ActionKind)[keyof typeof ActionKind];

/** How an action ended. */
export const OutcomeStatus = {
  DONE: 'done',
  /** Nothing to do any more (already done, or the state changed since the plan); `reason` says why. */
  SKIPPED: 'skipped',
  /** The action was refused by a check (a step, the revoke path); nothing unsafe was done. */
  REFUSED: 'refused',
  /** An AWS call or an invocation failed; a retry may succeed. */
  FAILED: 'failed',
} as const;
export type OutcomeStatus = (typeof OutcomeStatus)[keyof typeof OutcomeStatus];

/** How one action on one secret ended. */
export interface ActionOutcome {
  readonly secret: string;
  readonly action: ActionKind;
  readonly status: OutcomeStatus;
  readonly reason: string;
  /** The version concerned (a repair's pending version, a revoked version, a started rotation's token). */
  readonly versionId?: string;
  /** Hints of the keys a revocation revoked. */
  readonly revoked?: readonly string[];
  /** Set when a person must act on it: the outcome becomes a notice. */
  readonly notice?: NoticeKind;
}

/** Why a person is told about a secret. */
export const NoticeKind = {
  /** Only a person can do it: stage a key, revoke a key in a dashboard, rotate a `rotation-mode=manual` secret. */
  MANUAL_ACTION: 'manual-action',
  /** Another AWS service manages the secret (`OwningService`) and it needs attention there. */
  MANAGED_BY_ANOTHER_SERVICE: 'managed-by-another-service',
  /** The age could not be read, so the policy cannot be applied. */
  AGE_UNKNOWN: 'age-unknown',
  /** Overdue, and the enforcer may not start its rotation (no rotation function configured, …). */
  CANNOT_ROTATE_UNATTENDED: 'cannot-rotate-unattended',
  /** A stuck rotation the repair could not clear, or may not touch. */
  STUCK_BEYOND_REPAIR: 'stuck-beyond-repair',
  /** A superseded key the revoke path would not revoke: not provably this secret's, or only a person can. */
  KEY_NOT_REVOKED: 'key-not-revoked',
  /** An action failed (AWS or an invocation refused); the queue or the next run retries it. */
  ACTION_FAILED: 'action-failed',
} as const;
export type NoticeKind = (typeof NoticeKind)[keyof typeof NoticeKind];

/** Something a person should know or do about one secret. */
export interface Notice {
  readonly secret: string;
  readonly kind: NoticeKind;
  readonly reason: string;
}

/** The notices of the outcomes that need a person. */
export function noticesOf(outcomes: readonly ActionOutcome[]): Notice[] {
  return outcomes.flatMap((outcome) =>
    outcome.notice
      ? [{ secret: outcome.secret, kind: outcome.notice, reason: `${outcome.action}: ${outcome.reason}` }]
      : [],
  );
}
