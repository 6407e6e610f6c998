/**
 * The enforcer's plan (pure): from each secret's evaluation under the policy, what to change
 * (configure rotation, start it, repair a stuck one, revoke superseded keys), what to leave
 * alone and why, and what a person must be told. Starts are spread over a window so that a
 * fleet does not rotate in one burst, and never fall outside a secret's rotation window unless
 * the run ignores windows.
 */
import { supersessions } from '../api-keys/superseded.js';
import { functionName, iso, sameFunction } from '../policy/format.js';
import {
  apiKeysPrefix,
  describeRotationRules,
  evaluateSecret,
  FindingKind,
  type FleetEntry,
  isInsideRotationWindow,
  needsAttention,
  type PolicySettings,
  PolicyTag,
  providerOf,
  type RotationRules,
  type SecretEvaluation,
  type Status,
  Status as Statuses,
} from '../policy/index.js';
import { formatAge, pendingVersion } from '../repair/plan.js';
import { Stage } from '../rotation/constants.js';
import { ActionKind, type Notice, NoticeKind } from './outcome.js';
import { dayOf, rotationToken } from './token.js';
import { type RunReference, WORK_ITEM_VERSION, type WorkItem } from './work-item.js';

/** How a run plans. */
export interface PlanOptions {
  readonly run: { readonly id: string; readonly at: Date; readonly ignoreWindows: boolean };
  /** A stuck rotation younger than this is left alone (Secrets Manager may still be running it). */
  readonly repairMinAgeMs: number;
  /** How long a superseded API key stays valid after its version stopped being AWSCURRENT. */
  readonly gracePeriodMs: number;
  /** Starts are spread over this many seconds (at most SQS's 900 s delay). */
  readonly spreadSeconds: number;
}

/** A change planned for a secret. */
export interface PlannedAction {
  readonly action: ActionKind;
  readonly reason: string;
  /** Revocations: the superseded versions. */
  readonly versionIds?: readonly string[];
  /** Repairs: the pending version. */
  readonly versionId?: string;
  /** Starts: the rotation's token, and how long after the run it is started. */
  readonly token?: string;
  readonly delaySeconds?: number;
  /** Starts: the rotation settings are corrected in the same call. */
  readonly withSettings?: boolean;
}

/** What the run decided for one secret: every decision, including not to act. */
export interface SecretDecision {
  readonly secret: string;
  readonly status: Status;
  readonly ageDays?: number;
  readonly actions: readonly PlannedAction[];
  /** What was left alone, and why. */
  readonly skipped: readonly string[];
  readonly notices: readonly Notice[];
}

/** A start, spread: its work item and its delay. */
export interface SpreadStart {
  readonly item: WorkItem;
  readonly delaySeconds: number;
}

/** The whole plan of a run. */
export interface EnforcementPlan {
  readonly run: RunReference;
  readonly evaluations: readonly SecretEvaluation[];
  readonly decisions: readonly SecretDecision[];
  /** Items carried out at once: repairs, revocations, rotation settings. */
  readonly items: readonly WorkItem[];
  /** Rotation starts, each after its delay. */
  readonly starts: readonly SpreadStart[];
  readonly notices: readonly Notice[];
}

interface SecretPlan {
  readonly decision: Omit<SecretDecision, 'actions'> & { actions: PlannedAction[] };
  readonly item?: WorkItem;
  readonly start?: { readonly item: WorkItem; readonly ageDays: number; readonly window?: RotationRules };
}

/** Plans a run over the fleet's entries. */
export function planEnforcement(
  entries: readonly FleetEntry[],
  settings: PolicySettings,
  options: PlanOptions,
): EnforcementPlan {
  const run: RunReference = {
    id: options.run.id,
    at: options.run.at.toISOString(),
    ignoreWindows: options.run.ignoreWindows,
  };
  const evaluations: SecretEvaluation[] = [];
  const plans: SecretPlan[] = [];
  for (const entry of entries) {
    const evaluation = evaluateSecret(entry, settings, options.run.at);
    evaluations.push(evaluation);
    plans.push(planSecret(entry, evaluation, settings, options, run));
  }
  const starts = spreadStarts(
    plans.flatMap((plan) => (plan.start ? [plan.start] : [])),
    options,
  );
  const delays = new Map(starts.map((start) => [start.item.secret.arn, start.delaySeconds]));
  const decisions = plans.map(({ decision, start }) => ({
    ...decision,
    actions: decision.actions.map((action) =>
      action.action === ActionKind.START && start
        ? { ...action, delaySeconds: delays.get(start.item.secret.arn) ?? 0 }
        : action,
    ),
  }));
  return {
    run,
    evaluations,
    decisions,
    items: plans.flatMap((plan) => (plan.item ? [plan.item] : [])),
    starts,
    notices: decisions.flatMap((decision) => decision.notices),
  };
}

function planSecret(
  entry: FleetEntry,
  evaluation: SecretEvaluation,
  settings: PolicySettings,
  options: PlanOptions,
  run: RunReference,
): SecretPlan {
  const { secret } = entry;
  const { actions: policy } = evaluation;
  const name = secret.name;
  const actions: PlannedAction[] = [];
  const skipped: string[] = [];
  const notices: Notice[] = [];
  const notify = (kind: Notice['kind'], reason: string) => notices.push({ secret: name, kind, reason });
  const decision = {
    secret: name,
    status: evaluation.status,
    ...(evaluation.ageDays !== undefined ? { ageDays: evaluation.ageDays } : {}),
    actions,
    skipped,
    notices,
  };

  // Secrets another service manages are never touched: at most a person is told.
  if (secret.owningService) {
    skipped.push(`managed by ${secret.owningService} (OwningService): never changed by this product`);
    if (needsAttention(evaluation))
      notify(
        NoticeKind.MANAGED_BY_ANOTHER_SERVICE,
        `${evaluation.status}${evaluation.ageDays !== undefined ? `, ${evaluation.ageDays} days old` : ''}; ` +
          `rotate it through ${secret.owningService}, which manages it` +
          failingControls(evaluation),
      );
    return { decision };
  }
  const prefix = evaluation.managedPrefix;
  if (!prefix) {
    skipped.push('not under a managed prefix: never changed by this product');
    return { decision };
  }

  for (const reason of policy.needsPerson) notify(NoticeKind.MANUAL_ACTION, reason);
  if (evaluation.status === Statuses.UNKNOWN)
    for (const finding of evaluation.findings.filter((f) => f.kind === FindingKind.VALUE_UNREADABLE))
      notify(NoticeKind.AGE_UNKNOWN, finding.reason);

  const ourFunction = settings.rotationFunctions[prefix];
  const rotatedByUs =
    ourFunction !== undefined &&
    secret.rotationLambdaArn !== undefined &&
    sameFunction(secret.rotationLambdaArn, ourFunction, secret.arn);

  // A stuck rotation: repaired once old enough, and only through this product's own function.
  const pending = pendingVersion(secret.versions);
  let repair = false;
  if (pending) {
    const since = evaluation.pending?.versionId === pending.versionId ? evaluation.pending.since : undefined;
    const ageMs = since ? options.run.at.getTime() - since.getTime() : undefined;
    const at = `AWSPENDING on version ${pending.versionId}${since ? ` since ${iso(since)}` : ''}`;
    if (!rotatedByUs)
      notify(
        NoticeKind.STUCK_BEYOND_REPAIR,
        `${at}, rotated by ${secret.rotationLambdaArn ? functionName(secret.rotationLambdaArn) : 'no function'}, not this product's: ` +
          'finish the rotation with the function that started it, or remove the label if its version holds no value',
      );
    else if (ageMs !== undefined && ageMs < options.repairMinAgeMs)
      skipped.push(
        `${at}: a rotation in progress (${formatAge(ageMs)} old); repaired once it is ${formatAge(options.repairMinAgeMs)} old`,
      );
    else {
      repair = true;
      actions.push({
        action: ActionKind.REPAIR,
        reason: `${at}${ageMs === undefined ? ' (its age is read again before anything is done)' : ` (${formatAge(ageMs)} old)`}`,
        versionId: pending.versionId,
      });
    }
  }

  const provider = providerOf(secret, settings);
  const revoke =
    prefix !== apiKeysPrefix(settings.environment)
      ? []
      : provider && settings.manualRevocationProviders.includes(provider)
        ? [] // only a person can revoke these keys: the manual-action notice says so
        : revocable(secret, options, skipped);
  if (revoke.length > 0)
    actions.push({
      action: ActionKind.REVOKE,
      reason: `superseded version${revoke.length > 1 ? 's' : ''} past the ${formatAge(options.gracePeriodMs)} grace period by ${revoke.length > 1 ? 'their records' : 'its record'}`,
      versionIds: revoke,
    });

  // Rotation settings: this product's function for the prefix, the policy's rules.
  const reconfigure = policy.configureRotation;
  let configure = false;
  if (reconfigure && ourFunction) {
    if (pending)
      skipped.push(
        `rotation settings (${reconfigure.reasons.join('; ')}) are corrected once the pending rotation ends: Secrets Manager refuses RotateSecret until then`,
      );
    else configure = true;
  } else if (policy.mayChangeRotationSettings && !ourFunction) {
    const reasons = evaluation.findings.filter((f) => SETTINGS_FINDINGS.has(f.kind)).map((f) => f.reason);
    if (reasons.length > 0)
      notify(
        NoticeKind.CANNOT_ROTATE_UNATTENDED,
        `no rotation function is configured for ${prefix}, so the enforcer cannot correct: ${reasons.join('; ')}`,
      );
  }

  // An overdue rotation: started when nothing stands in the way, inside its window.
  let start: SecretPlan['start'];
  if (policy.rotationDue) {
    const blockers = policy.unattendedBlockers;
    const window = evaluation.policy.window ?? secret.rotationRules;
    if (!policy.canRotateUnattended) {
      const pendingOnly = blockers.every((b) => PENDING_BLOCKERS.has(b));
      if (pendingOnly || policy.needsPerson.length > 0)
        skipped.push(`overdue, not started: ${blockers.join('; ')}`);
      else
        notify(
          NoticeKind.CANNOT_ROTATE_UNATTENDED,
          `overdue and cannot rotate unattended: ${blockers.join('; ')}`,
        );
    } else if (!ourFunction) {
      skipped.push(`overdue, not started: no rotation function is configured for ${prefix}`);
    } else if (!policy.insideRotationWindow && !options.run.ignoreWindows) {
      skipped.push(
        `overdue, not started: outside its rotation window (${describeRotationRules(window)}); Secrets Manager rotates it when the window opens`,
      );
    } else {
      const token = rotationToken(secret.arn, dayOf(options.run.at));
      actions.push({
        action: ActionKind.START,
        reason:
          `${evaluation.status}, ${evaluation.ageDays ?? '?'} days old` +
          (configure ? ', with its rotation settings corrected in the same call' : '') +
          (!policy.insideRotationWindow
            ? ', outside its rotation window as the input asked (ignoreWindows)'
            : ''),
        token,
        ...(configure ? { withSettings: true } : {}),
      });
      start = {
        item: {
          v: WORK_ITEM_VERSION,
          run,
          secret: { arn: secret.arn, name },
          ...(configure ? { configure: true as const } : {}),
          start: { token },
        },
        ageDays: evaluation.ageDays ?? 0,
        ...(window && !options.run.ignoreWindows ? { window } : {}),
      };
      configure = false; // one RotateSecret call sets the settings and starts the rotation
    }
  }
  if (configure && reconfigure)
    actions.push({
      action: ActionKind.CONFIGURE,
      reason: `${reconfigure.reasons.join('; ')}: set ${functionName(reconfigure.rotationLambda)} and ${describeRotationRules(reconfigure.rotationRules)}`,
    });

  const item: WorkItem | undefined =
    repair || revoke.length > 0 || configure
      ? {
          v: WORK_ITEM_VERSION,
          run,
          secret: { arn: secret.arn, name },
          ...(repair ? { repair: true as const } : {}),
          ...(revoke.length > 0 ? { revoke } : {}),
          ...(configure ? { configure: true as const } : {}),
        }
      : undefined;
  if (actions.length === 0 && skipped.length === 0 && notices.length === 0)
    skipped.push(`${evaluation.status}: nothing to do`);
  return { decision, ...(item ? { item } : {}), ...(start ? { start } : {}) };
}

const SETTINGS_FINDINGS: ReadonlySet<string> = new Set([
  FindingKind.ROTATION_NOT_ENABLED,
  FindingKind.SCHEDULE_TOO_LONG,
  FindingKind.ROTATION_FUNCTION_NOT_OURS,
]);

/** Blockers that clear by themselves or by a repair: no person is needed for them. */
const PENDING_BLOCKERS: ReadonlySet<string> = new Set([
  'a stuck rotation must be repaired first',
  'a rotation is in progress',
]);

const failingControls = (evaluation: SecretEvaluation) =>
  evaluation.failingControls.length > 0 ? `; fails ${evaluation.failingControls.join(', ')}` : '';

/**
 * The superseded versions whose keys may be revoked now: a record (`rotation-superseded:<id>`)
 * whose grace period is over, for a version that is neither AWSCURRENT nor AWSPENDING; for
 * AWSPREVIOUS, only a record naming AWSCURRENT as its successor (the revoke path's own rule).
 * A version a person marked revoked (`rotation-previous-revoked`) is left alone. The revoke
 * path checks all of this again before it revokes anything.
 */
function revocable(secret: FleetEntry['secret'], options: PlanOptions, skipped: string[]): string[] {
  const current = Object.entries(secret.versions).find(([, stages]) => stages.includes(Stage.CURRENT))?.[0];
  const due: string[] = [];
  for (const record of supersessions(secret).values()) {
    const stages = secret.versions[record.versionId] ?? [];
    if (stages.includes(Stage.CURRENT) || stages.includes(Stage.PENDING)) continue;
    if (secret.tags[PolicyTag.PREVIOUS_REVOKED]?.trim() === record.versionId) continue;
    if (stages.includes(Stage.PREVIOUS) && record.by !== current) {
      skipped.push(
        `superseded version ${record.versionId}: its record names ${record.by}, not AWSCURRENT, so its grace period cannot be shown to be over; the next rotation starts it`,
      );
      continue;
    }
    const endsAt = record.at.getTime() + options.gracePeriodMs;
    if (endsAt > options.run.at.getTime()) {
      skipped.push(
        `superseded version ${record.versionId}: its grace period ends at ${iso(new Date(endsAt))}; its scheduled revocation runs then`,
      );
      continue;
    }
    due.push(record.versionId);
  }
  return due.sort();
}

/**
 * Spreads the starts over `spreadSeconds`, most overdue first: the i-th of n starts after
 * i × spread / n seconds. A start whose delay would fall outside its rotation window is brought
 * forward (halving its delay) until it falls inside; the run's own moment is inside, or the
 * start was not planned.
 */
export function spreadStarts(
  starts: readonly { readonly item: WorkItem; readonly ageDays: number; readonly window?: RotationRules }[],
  options: Pick<PlanOptions, 'spreadSeconds' | 'run'>,
): SpreadStart[] {
  const ordered = [...starts].sort(
    (a, b) => b.ageDays - a.ageDays || a.item.secret.name.localeCompare(b.item.secret.name),
  );
  const at = options.run.at.getTime();
  return ordered.map((start, i) => {
    let delay = Math.floor((i * options.spreadSeconds) / ordered.length);
    while (delay > 0 && start.window && !insideWindow(start.window, new Date(at + delay * 1000)))
      delay = Math.floor(delay / 2);
    return { item: start.item, delaySeconds: delay };
  });
}

function insideWindow(rules: RotationRules, at: Date): boolean {
  try {
    return isInsideRotationWindow(rules, at);
  } catch {
    return true; // rules Secrets Manager holds are valid; one we cannot read sets no window we can honour
  }
}
