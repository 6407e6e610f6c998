import { Stage, type StepName } from '../rotation/constants.js';

/**
 * Default minimum age of a stuck rotation before the enforcer repairs it: one hour, the
 * longest one rotation Secrets Manager drives can legitimately take (four steps, each at most
 * Lambda's 15-minute limit). Younger, Secrets Manager may still be running it.
 */
export const DEFAULT_REPAIR_MIN_AGE_MS = 60 * 60_000;

/** What a repair does. */
export const RepairAction = {
  /** No rotation is stuck: AWSPENDING is on no version, or only on AWSCURRENT's and finished. */
  NONE: 'none',
  /** A stuck rotation younger than the minimum age (or of unknown age): left alone for now. */
  WAIT: 'wait',
  /** The pending version holds no value (createSecret never ran): AWSPENDING is removed from it. */
  UNLABEL_PLACEHOLDER: 'unlabel-placeholder',
  /** The pending version holds a value: setSecret, testSecret and finishSecret are run with its token. */
  FINISH_ROTATION: 'finish-rotation',
  /** AWSCURRENT already moved to the pending version but AWSPENDING stayed: finishSecret completes it. */
  COMPLETE_FINISH: 'complete-finish',
} as const;

/** One of {@link RepairAction}'s values. */
export type RepairAction = (typeof RepairAction)[keyof typeof RepairAction];

/** The version AWSPENDING is on, if any, and whether it is AWSCURRENT's too. */
export interface PendingVersion {
  readonly versionId: string;
  readonly alsoCurrent: boolean;
}

/** The version staged AWSPENDING in `versions` (version id → labels), if any. */
export function pendingVersion(
  versions: Readonly<Record<string, readonly string[]>>,
): PendingVersion | undefined {
  for (const [versionId, stages] of Object.entries(versions)) {
    if (stages.includes(Stage.PENDING)) return { versionId, alsoCurrent: stages.includes(Stage.CURRENT) };
  }
  return undefined;
}

/** What {@link planRepair} decides from. */
export interface RepairFacts {
  /** Version id → staging labels, from DescribeSecret. */
  readonly versions: Readonly<Record<string, readonly string[]>>;
  /** Whether the AWSPENDING version holds a value (read by its version id). Unused when none is pending. */
  readonly pendingHoldsValue: boolean;
  /** When the AWSPENDING version was created (ListSecretVersionIds), if known. */
  readonly pendingCreatedAt: Date | undefined;
  readonly now: Date;
  /** Stuck rotations younger than this are left alone. */
  readonly minAgeMs: number;
}

/** A repair decided, not yet carried out. */
export interface RepairPlan {
  readonly action: RepairAction;
  /** The AWSPENDING version, when there is one. */
  readonly versionId?: string;
  /** How long ago the AWSPENDING version was created, when known. */
  readonly ageMs?: number;
  /** The steps to run with the pending version's id as token (none to unlabel or wait). */
  readonly steps: readonly StepName[];
  /** Why, in words an operator can act on. */
  readonly reason: string;
}

const FINISH_STEPS: readonly StepName[] = ['setSecret', 'testSecret', 'finishSecret'];

/**
 * Decides how to clear a stuck rotation (pure). A rotation is stuck when AWSPENDING sits on a
 * version that is not AWSCURRENT:
 * - a pending version with no value is RotateSecret's placeholder (createSecret never ran):
 *   removing its label loses nothing;
 * - a pending version with a value may already be the only working credential (setSecret may
 *   have changed the password), so the rotation is finished, never discarded; the steps
 *   themselves refuse a value that does not parse or a target that rejects it.
 * AWSPENDING left on the AWSCURRENT version is an interrupted finishSecret, which finishSecret
 * completes (its after-finish work, such as scheduling the old key's revocation, had not run).
 * Nothing is done to a rotation younger than `minAgeMs`, or whose age is unknown.
 */
export function planRepair(facts: RepairFacts): RepairPlan {
  const pending = pendingVersion(facts.versions);
  if (!pending) return { action: RepairAction.NONE, steps: [], reason: 'no version is staged AWSPENDING' };
  const { versionId } = pending;
  const ageMs = facts.pendingCreatedAt ? facts.now.getTime() - facts.pendingCreatedAt.getTime() : undefined;
  const aged = ageMs === undefined ? {} : { ageMs };
  if (facts.minAgeMs > 0 && (ageMs === undefined || ageMs < facts.minAgeMs)) {
    return {
      action: RepairAction.WAIT,
      versionId,
      ...aged,
      steps: [],
      reason:
        ageMs === undefined
          ? `the pending version ${versionId} has no known creation date, so it may belong to a rotation still running; it is left alone`
          : `the pending version ${versionId} is ${formatAge(ageMs)} old, younger than the ${formatAge(facts.minAgeMs)} a rotation may still be running; it is left alone`,
    };
  }
  if (pending.alsoCurrent) {
    return {
      action: RepairAction.COMPLETE_FINISH,
      versionId,
      ...aged,
      steps: ['finishSecret'],
      reason: `version ${versionId} is AWSCURRENT but still staged AWSPENDING: finishSecret was interrupted after moving AWSCURRENT; running it again completes it`,
    };
  }
  if (!facts.pendingHoldsValue) {
    return {
      action: RepairAction.UNLABEL_PLACEHOLDER,
      versionId,
      ...aged,
      steps: [],
      reason: `the pending version ${versionId} holds no value (createSecret never ran): it is RotateSecret's placeholder, and removing its AWSPENDING label loses nothing`,
    };
  }
  return {
    action: RepairAction.FINISH_ROTATION,
    versionId,
    ...aged,
    steps: FINISH_STEPS,
    reason: `the pending version ${versionId} holds a value that setSecret may already have made the only working credential: the rotation is finished (setSecret, testSecret, finishSecret), never discarded`,
  };
}

/** An age in the largest whole unit: `45 s`, `12 min`, `3 h`, `2 d`. */
export function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)} h`;
  return `${Math.floor(seconds / 86_400)} d`;
}
