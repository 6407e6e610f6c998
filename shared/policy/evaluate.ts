/**
 * The policy's verdict on one secret: its age status, its findings (each with a reason an
 * operator can act on), the auditors' controls it would fail, and what the enforcer may do.
 * Pure: the fleet reader supplies the data, the caller the clock.
 */
import { assessAge, type SecretAge } from './age.js';
import { DAY_MS, FindingKind, PolicyTag, Severity, Status } from './constants.js';
import { CONTROLS, type ControlId, type ControlResult, evaluateControls } from './controls.js';
import type { Finding } from './finding.js';
import { type EffectivePolicy, effectivePolicy } from './overrides.js';
import { checkPendingRotation, type PendingRotation } from './pending.js';
import { checkPersonActions } from './people.js';
import { checkRotationSettings } from './rotation-settings.js';
import { isInsideRotationWindow, type RotationRules } from './schedule.js';
import type { FleetEntry } from './secret.js';
import { managedPrefixOf, type PolicySettings } from './settings.js';
import { checkUsage } from './usage.js';

/** Rotation settings the enforcer should apply (`RotateSecret` with these). */
export interface RotationConfiguration {
  /** This product's rotation function for the secret (name or ARN, as configured), or the current one. */
  readonly rotationLambda: string;
  readonly rotationRules: RotationRules;
  /** Why the current settings do not do. */
  readonly reasons: readonly string[];
}

/** What the enforcer may do for a secret, derived from the same evaluation the report shows. */
export interface PolicyActions {
  /**
   * Its rotation settings are ours to set: not managed by another service, not
   * `rotation-mode=manual`, not rotated by another function, and no `rotation-window` or
   * `rotation-mode` tag that could not be read (what it asks for is unknown).
   */
  readonly mayChangeRotationSettings: boolean;
  /** Present when rotation is off, its function missing or not ours, its schedule too long, or its window differs from the tag, and the settings may change. */
  readonly configureRotation?: RotationConfiguration;
  /** The credential is past its max age (or was never rotated and is older than that). */
  readonly rotationDue: boolean;
  /** A rotation can start without a person; if not, `unattendedBlockers` says why. */
  readonly canRotateUnattended: boolean;
  readonly unattendedBlockers: readonly string[];
  /** `now` is inside the secret's rotation window (always true without a window). */
  readonly insideRotationWindow: boolean;
  /** A stuck rotation old enough to repair (its age is known). */
  readonly repairStuck?: { readonly versionId: string; readonly since: Date };
  /** What a person must do: the manual-action findings, and what keeps the enforcer from changing the settings. */
  readonly needsPerson: readonly string[];
}

/** The policy's verdict on one secret. */
export interface SecretEvaluation {
  readonly arn: string;
  readonly name: string;
  /** The managed prefix it falls under, if any. */
  readonly managedPrefix?: string;
  readonly status: Status;
  /** Whole days since `age.since` (0 for a `since` slightly ahead of the clock); undefined when unknown. */
  readonly ageDays?: number;
  readonly age: SecretAge;
  readonly policy: EffectivePolicy;
  /** When the credential passes its max age; whole days until then (negative once overdue). */
  readonly dueDate?: Date;
  readonly daysUntilDue?: number;
  readonly findings: readonly Finding[];
  readonly controls: Readonly<Record<ControlId, ControlResult>>;
  readonly failingControls: readonly ControlId[];
  readonly pending?: PendingRotation;
  readonly actions: PolicyActions;
}

/** Tags that say when, or whether, the enforcer may rotate a secret unattended. */
const GUARD_TAGS: readonly string[] = [PolicyTag.WINDOW, PolicyTag.MODE];

function insideWindow(rules: RotationRules | undefined, now: Date): boolean {
  try {
    return rules ? isInsideRotationWindow(rules, now) : true;
  } catch {
    return true; // rules Secrets Manager holds are valid; an unparsable one sets no window we can honour
  }
}

/**
 * Evaluates one secret under the policy at `now`.
 *
 * `entry.rotatedAt` must hold the AWSCURRENT value's `rotated_at` evidence wherever
 * {@link needsRotatedAt} says so (otherwise the status is `unknown`), and `entry.pendingCreated`
 * the pending version's date when there is one (otherwise a pending rotation counts as stuck,
 * of unknown age).
 */
export function evaluateSecret(entry: FleetEntry, settings: PolicySettings, now: Date): SecretEvaluation {
  const { secret } = entry;
  const owner = secret.owningService;
  const { policy, findings, ignoredTags } = effectivePolicy(secret, settings);
  const { age, status, findings: ageFindings } = assessAge(entry, policy, settings, now);
  findings.push(...ageFindings);
  if (owner)
    findings.push({
      kind: FindingKind.MANAGED_BY_ANOTHER_SERVICE,
      severity: Severity.INFO,
      reason:
        `managed by ${owner} (OwningService): Secrets Manager refuses custom rotation for it, so rotate it through ${owner}; ` +
        'this product reports it and never changes its rotation settings',
    });

  const managedPrefix = managedPrefixOf(settings, secret.name);
  const expectedFunction = managedPrefix ? settings.rotationFunctions[managedPrefix] : undefined;
  const desiredRules: RotationRules = policy.window ?? { automaticallyAfterDays: policy.scheduleDays };
  const rotation = checkRotationSettings(secret, policy, settings, now, {
    desiredRules,
    ...(expectedFunction ? { expectedFunction } : {}),
    ...(managedPrefix ? { managedPrefix } : {}),
  });
  const { pending, findings: pendingFindings } = checkPendingRotation(entry, settings, now);
  const people = checkPersonActions(secret, policy, settings, status, age.since, now);
  const unused = checkUsage(secret, settings, now);
  findings.push(...rotation.findings, ...pendingFindings, ...people.findings, ...(unused ? [unused] : []));

  const controls = evaluateControls(secret, settings, now, rotation.intervalDays, findings);
  const failingControls = CONTROLS.map((control) => control.id).filter(
    (id) => controls[id].result === 'fail',
  );
  // A rotated_at a little ahead of this clock (within the tolerance) is a credential of age 0.
  const ageDays = age.since
    ? Math.max(0, Math.floor((now.getTime() - age.since.getTime()) / DAY_MS))
    : undefined;
  const dueDate = age.since && new Date(age.since.getTime() + policy.maxAgeDays * DAY_MS);

  const manual = policy.mode === 'manual';
  const foreign = rotation.foreignFunction;
  // A tag saying when, or whether, to rotate unattended that cannot be read: acting as if it
  // were absent could rotate outside a maintenance window, or a secret only a person rotates.
  const unreadableGuards = GUARD_TAGS.flatMap((tag) => {
    const finding = ignoredTags[tag];
    return finding ? [{ tag, finding }] : [];
  });
  const mayChangeRotationSettings = !owner && !manual && !foreign && unreadableGuards.length === 0;
  const rotationLambda = expectedFunction ?? secret.rotationLambdaArn;
  const blockers: string[] = [];
  if (owner) blockers.push(`managed by ${owner}`);
  if (manual) blockers.push(`${PolicyTag.MODE}=manual`);
  if (foreign) blockers.push(`rotated by ${foreign}, not this product's function`);
  if (!owner) for (const { tag } of unreadableGuards) blockers.push(`tag ${tag} is not valid`);
  if (status === Status.UNKNOWN) blockers.push('the age is unknown');
  if (people.stagedValueMissing) blockers.push('no STAGED value');
  if (pending)
    blockers.push(pending.stuck ? 'a stuck rotation must be repaired first' : 'a rotation is in progress');
  if (mayChangeRotationSettings && rotation.reconfigure.length > 0 && !rotationLambda)
    blockers.push('no rotation function is configured for its prefix');

  return {
    arn: secret.arn,
    name: secret.name,
    ...(managedPrefix ? { managedPrefix } : {}),
    status,
    ...(ageDays !== undefined ? { ageDays } : {}),
    age,
    policy,
    ...(dueDate ? { dueDate, daysUntilDue: Math.floor((dueDate.getTime() - now.getTime()) / DAY_MS) } : {}),
    findings,
    controls,
    failingControls,
    ...(pending ? { pending } : {}),
    actions: {
      mayChangeRotationSettings,
      ...(mayChangeRotationSettings && rotation.reconfigure.length > 0 && rotationLambda
        ? {
            configureRotation: { rotationLambda, rotationRules: desiredRules, reasons: rotation.reconfigure },
          }
        : {}),
      rotationDue:
        status === Status.OVERDUE ||
        (status === Status.NEVER_ROTATED && ageDays !== undefined && ageDays >= policy.maxAgeDays),
      canRotateUnattended: blockers.length === 0,
      unattendedBlockers: blockers,
      insideRotationWindow: insideWindow(policy.window ?? secret.rotationRules, now),
      ...(pending?.stuck && pending.since
        ? { repairStuck: { versionId: pending.versionId, since: pending.since } }
        : {}),
      needsPerson: [
        ...findings.filter((f) => f.kind === FindingKind.MANUAL_ACTION_REQUIRED).map((f) => f.reason),
        ...(foreign
          ? findings.filter((f) => f.kind === FindingKind.ROTATION_FUNCTION_NOT_OURS).map((f) => f.reason)
          : []),
        ...(owner ? [] : unreadableGuards).map(
          ({ finding }) =>
            `${finding.reason}; until it is fixed the enforcer changes no rotation setting of this secret and starts no rotation`,
        ),
      ],
    },
  };
}
