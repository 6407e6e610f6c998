/**
 * The policy's verdict on one secret: its age status, its findings (each with a reason an
 * operator can act on), the auditors' controls it would fail, and what the enforcer may do.
 * Pure: the fleet reader supplies the data, the caller the clock.
 */
import { STAGED_LABEL } from '../api-keys/staged.js';
import { Stage } from '../rotation/constants.js';
import { assessAge, type SecretAge } from './age.js';
import { DAY_MS, FindingKind, HOUR_MS, PolicyTag, Severity, Status } from './constants.js';
import { CONTROLS, ControlId, type ControlResult } from './controls.js';
import type { Finding } from './finding.js';
import { type EffectivePolicy, effectivePolicy, formatDays } from './overrides.js';
import {
  describeRotationRules,
  isInsideRotationWindow,
  type RotationRules,
  scheduleIntervalDays,
} from './schedule.js';
import { type FleetEntry, pendingVersionOf, type SecretMetadata } from './secret.js';
import { apiKeysPrefix, managedPrefixOf, type PolicySettings } from './settings.js';

/** A rotation in progress or stuck: AWSPENDING on a version that is not AWSCURRENT. */
export interface PendingRotation {
  readonly versionId: string;
  /** When that version was created; undefined when it could not be looked up. */
  readonly since?: Date;
  /** Older than `stuckAfterHours`, or of unknown age. */
  readonly stuck: boolean;
}

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
  /** Not managed by another service and not `rotation-mode=manual`: its rotation settings are ours to set. */
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
  /** What a person must do (the reasons of the manual-action findings). */
  readonly needsPerson: readonly string[];
}

/** The policy's verdict on one secret. */
export interface SecretEvaluation {
  readonly arn: string;
  readonly name: string;
  /** The managed prefix it falls under, if any. */
  readonly managedPrefix?: string;
  readonly status: Status;
  /** Whole days since `age.since`; undefined when unknown. */
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

const iso = (date: Date) => date.toISOString();
const day = (date: Date) => date.toISOString().slice(0, 10);
const functionName = (arnOrName: string) =>
  /^arn:[^:]+:lambda:[^:]*:[^:]*:function:([^:]+)/.exec(arnOrName)?.[1] ?? arnOrName;

/** The API-key provider of a secret: its `rotation-provider` tag, else the last part of an api-keys name. */
function providerOf(secret: SecretMetadata, settings: PolicySettings): string | undefined {
  const tagged = secret.tags[PolicyTag.PROVIDER]?.trim();
  if (tagged) return tagged;
  return secret.name.startsWith(apiKeysPrefix(settings.environment))
    ? secret.name.split('/').at(-1)
    : undefined;
}

function intervalOf(rules: RotationRules | undefined): { days?: number; error?: string } {
  try {
    const days = rules ? scheduleIntervalDays(rules) : undefined;
    return days === undefined ? { error: 'the rotation rules set no interval' } : { days };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

function pendingRotation(
  entry: FleetEntry,
  settings: PolicySettings,
  now: Date,
): PendingRotation | undefined {
  const versionId = pendingVersionOf(entry.secret);
  if (!versionId) return undefined;
  const since = entry.pendingCreated?.state === 'found' ? entry.pendingCreated.date : undefined;
  const stuck = !since || now.getTime() - since.getTime() >= settings.stuckAfterHours * HOUR_MS;
  return { versionId, ...(since ? { since } : {}), stuck };
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
  const { policy, findings } = effectivePolicy(secret, settings);
  const aged = assessAge(entry, policy, settings, now);
  findings.push(...aged.findings);
  const { status, age } = aged;
  const add = (kind: Finding['kind'], severity: Finding['severity'], reason: string) =>
    findings.push({ kind, severity, reason });

  const managedPrefix = managedPrefixOf(settings, secret.name);
  const owner = secret.owningService;
  const manual = policy.mode === 'manual';
  const expectedFunction = managedPrefix ? settings.rotationFunctions[managedPrefix] : undefined;
  const desiredRules: RotationRules = policy.window ?? { automaticallyAfterDays: policy.scheduleDays };
  const desired = describeRotationRules(desiredRules);
  const longestSchedule = policy.maxAgeDays - policy.warningDays;
  const interval = intervalOf(secret.rotationRules);
  const configure: string[] = [];

  if (owner)
    add(
      FindingKind.MANAGED_BY_ANOTHER_SERVICE,
      Severity.INFO,
      `managed by ${owner} (OwningService): Secrets Manager refuses custom rotation for it, so rotate it through ${owner}; ` +
        'this product reports it and never changes its rotation settings',
    );

  if (!secret.rotationEnabled) {
    configure.push('rotation is off');
    add(
      FindingKind.ROTATION_NOT_ENABLED,
      Severity.WARNING,
      owner
        ? `automatic rotation is off: turn it on in ${owner}`
        : manual
          ? `automatic rotation is off and a person rotates this secret (${PolicyTag.MODE}=manual): SecretsManager.1 fails until automatic rotation is on`
          : expectedFunction
            ? `automatic rotation is off: the enforcer turns it on with ${functionName(expectedFunction)} and ${desired}, ` +
              `or run aws secretsmanager rotate-secret --secret-id ${secret.name} --rotation-lambda-arn <${functionName(expectedFunction)} ARN> --rotation-rules ${rulesForCli(desiredRules)}`
            : `automatic rotation is off and no rotation function is configured for ${managedPrefix ?? 'its prefix'}: configure one, then turn rotation on with ${desired}`,
    );
  } else {
    if (interval.days === undefined || interval.days > longestSchedule) {
      configure.push('the schedule is too long');
      add(
        FindingKind.SCHEDULE_TOO_LONG,
        Severity.WARNING,
        (interval.days === undefined
          ? `the rotation interval of ${describeRotationRules(secret.rotationRules) || 'its rules'} cannot be determined (${interval.error})`
          : `rotation runs every ${formatDays(interval.days)} days (${describeRotationRules(secret.rotationRules)}), longer than the ${longestSchedule} days the policy allows (max age ${policy.maxAgeDays} − warning ${policy.warningDays}), which leaves no room for retries`) +
          (owner ? `: shorten it in ${owner}` : `: set ${desired}${manual ? '' : ' (the enforcer does)'}`),
      );
    } else if (
      policy.window &&
      (secret.rotationRules?.scheduleExpression !== policy.window.scheduleExpression ||
        secret.rotationRules?.duration !== policy.window.duration)
    ) {
      configure.push(`the rotation window differs from the ${PolicyTag.WINDOW} tag`);
    }
    if (!owner) {
      const current = secret.rotationLambdaArn;
      if (!current || (expectedFunction && functionName(current) !== functionName(expectedFunction))) {
        configure.push(current ? 'the rotation function is not ours' : 'no rotation function is set');
        add(
          FindingKind.ROTATION_FUNCTION_NOT_OURS,
          Severity.WARNING,
          (current
            ? `rotation function ${functionName(current)} is not this product's ${functionName(expectedFunction ?? '')} for ${managedPrefix}`
            : 'rotation is on but no rotation function is set, so every rotation fails') +
            (expectedFunction
              ? `: set --rotation-lambda-arn to ${functionName(expectedFunction)}${manual ? '' : ' (the enforcer does)'}`
              : ': no rotation function is configured for its prefix'),
        );
      }
    }
    if (
      secret.nextRotationDate &&
      now.getTime() - secret.nextRotationDate.getTime() > settings.stuckAfterHours * HOUR_MS
    )
      add(
        FindingKind.LAST_ROTATION_FAILED,
        Severity.CRITICAL,
        `the rotation due by ${iso(secret.nextRotationDate)} has not completed (NextRotationDate is ${formatDays(
          Math.floor((now.getTime() - secret.nextRotationDate.getTime()) / DAY_MS),
        )} days past): look for RotationFailed events and the rotation function's "invocation failed" log lines, fix the cause, then rotate again`,
      );
  }

  const pending = pendingRotation(entry, settings, now);
  if (pending?.stuck)
    add(
      FindingKind.ROTATION_STUCK,
      Severity.CRITICAL,
      `AWSPENDING is on version ${pending.versionId}, which is not AWSCURRENT, ` +
        (pending.since
          ? `since ${iso(pending.since)} (${Math.floor((now.getTime() - pending.since.getTime()) / HOUR_MS)} hours)`
          : `for an unknown time (${entry.pendingCreated?.state === 'unreadable' ? `ListSecretVersionIds failed: ${entry.pendingCreated.message}` : 'its date was not looked up'})`) +
        `: Secrets Manager refuses new rotations until it is finished. Finish it (run the four steps with ClientRequestToken=${pending.versionId}); ` +
        'only a pending version that holds no value may simply be unlabelled',
    );

  const provider = providerOf(secret, settings);
  const hasStaged = Object.values(secret.versions).some((stages) => stages.includes(STAGED_LABEL));
  const staged = provider ? settings.stagedValueProviders[provider] : undefined;
  const stagedMissing = staged !== undefined && !hasStaged;
  // A person is asked to stage a value once a rotation is near: the secret is due (or past
  // due), or Secrets Manager's next rotation falls within the warning window.
  const next = secret.nextRotationDate;
  const rotationNear =
    status !== Status.COMPLIANT ||
    (next !== undefined && next.getTime() - now.getTime() <= policy.warningDays * DAY_MS);
  const by = next && next.getTime() > now.getTime() ? ` (next rotation by ${day(next)})` : '';
  if (staged && stagedMissing && rotationNear)
    add(
      FindingKind.MANUAL_ACTION_REQUIRED,
      Severity.WARNING,
      staged.required
        ? `${provider} issues ${staged.fields.join(', ')} only to a person: stage the new value as a version labelled ${STAGED_LABEL}${by} ` +
            `(aws secretsmanager put-secret-value --secret-id ${secret.name} --secret-string file://new-key.json --version-stages ${STAGED_LABEL}), then rotate; until then every rotation fails`
        : `${staged.fields.join(', ')} changes only when a new value is staged (label ${STAGED_LABEL}): stage one before the next rotation${by}, or it is carried over and keeps its age`,
    );
  const previous = Object.entries(secret.versions).find(([, stages]) => stages.includes(Stage.PREVIOUS))?.[0];
  if (
    provider &&
    previous &&
    settings.manualRevocationProviders.includes(provider) &&
    secret.tags[PolicyTag.PREVIOUS_REVOKED]?.trim() !== previous
  )
    add(
      FindingKind.MANUAL_ACTION_REQUIRED,
      Severity.WARNING,
      `only a person can revoke the superseded ${provider} key (version ${previous}, AWSPREVIOUS): delete it in ${provider}'s dashboard once its grace period has passed, ` +
        `then tag the secret ${PolicyTag.PREVIOUS_REVOKED}=${previous}`,
    );
  if (manual && status !== Status.COMPLIANT)
    add(
      FindingKind.MANUAL_ACTION_REQUIRED,
      Severity.WARNING,
      `a person rotates this secret (${PolicyTag.MODE}=manual) and it is ${status}: rotate it` +
        (age.since ? ` (due ${day(new Date(age.since.getTime() + policy.maxAgeDays * DAY_MS))})` : ''),
    );

  const unused = unusedReason(secret, settings, now);
  if (unused) add(FindingKind.UNUSED, Severity.WARNING, unused);

  const controls = evaluateControls(secret, settings, now, interval.days, findings);
  const failingControls = CONTROLS.map((control) => control.id).filter(
    (id) => controls[id].result === 'fail',
  );

  const ageDays = age.since ? Math.floor((now.getTime() - age.since.getTime()) / DAY_MS) : undefined;
  const dueDate = age.since && new Date(age.since.getTime() + policy.maxAgeDays * DAY_MS);
  const mayChangeRotationSettings = !owner && !manual;
  const rotationLambda = expectedFunction ?? secret.rotationLambdaArn;
  const blockers: string[] = [];
  if (owner) blockers.push(`managed by ${owner}`);
  if (manual) blockers.push(`${PolicyTag.MODE}=manual`);
  if (status === Status.UNKNOWN) blockers.push('the age is unknown');
  if (staged?.required && stagedMissing) blockers.push(`no ${STAGED_LABEL} value`);
  if (pending)
    blockers.push(pending.stuck ? 'a stuck rotation must be repaired first' : 'a rotation is in progress');
  if (mayChangeRotationSettings && configure.length > 0 && !rotationLambda)
    blockers.push('no rotation function is configured for its prefix');
  const needsPerson = findings
    .filter((f) => f.kind === FindingKind.MANUAL_ACTION_REQUIRED)
    .map((f) => f.reason);

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
      ...(mayChangeRotationSettings && configure.length > 0 && rotationLambda
        ? { configureRotation: { rotationLambda, rotationRules: desiredRules, reasons: configure } }
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
      needsPerson,
    },
  };
}

function insideWindow(rules: RotationRules | undefined, now: Date): boolean {
  try {
    return rules ? isInsideRotationWindow(rules, now) : true;
  } catch {
    return true; // rules Secrets Manager holds are valid; an unparsable one sets no window we can honour
  }
}

const rulesForCli = (rules: RotationRules) =>
  rules.scheduleExpression
    ? `'{"ScheduleExpression": "${rules.scheduleExpression}"${rules.duration ? `, "Duration": "${rules.duration}"` : ''}}'`
    : `AutomaticallyAfterDays=${rules.automaticallyAfterDays}`;

/**
 * Why the secret counts as unused, or undefined. `LastAccessedDate` is a date without a
 * time, so a read that day may have come at its last moment: the secret is unused only once
 * `unusedDays` full days have passed since the end of that day. Never read at all: since
 * `CreatedDate`.
 */
function unusedReason(secret: SecretMetadata, settings: PolicySettings, now: Date): string | undefined {
  const limit = settings.unusedDays;
  const advice = `: delete it if nothing uses it (aws secretsmanager delete-secret --secret-id ${secret.name} --recovery-window-in-days 30), or find out who should read it`;
  if (secret.lastAccessedDate) {
    const lastMoment = Math.floor(secret.lastAccessedDate.getTime() / DAY_MS) * DAY_MS + DAY_MS;
    if (now.getTime() - lastMoment < limit * DAY_MS) return undefined;
    const ago = Math.floor((now.getTime() - lastMoment) / DAY_MS) + 1;
    return `not read since ${day(secret.lastAccessedDate)} (${ago} days; the limit is ${limit})${advice}`;
  }
  if (!secret.createdDate || now.getTime() - secret.createdDate.getTime() < limit * DAY_MS) return undefined;
  const ago = Math.floor((now.getTime() - secret.createdDate.getTime()) / DAY_MS);
  return `never read since it was created ${ago} days ago (the limit is ${limit})${advice}`;
}

/**
 * The four Security Hub controls, as the auditor's AWS Config rules see the secret:
 * maximumAllowedRotationFrequency = maxDaysSinceRotation = the policy's max age, unusedForDays =
 * its unused days. SecretsManager.4 counts from `LastRotatedDate` (`CreatedDate` when never
 * rotated), which is what the rule sees, not `rotated_at`.
 */
function evaluateControls(
  secret: SecretMetadata,
  settings: PolicySettings,
  now: Date,
  intervalDays: number | undefined,
  findings: readonly Finding[],
): Record<ControlId, ControlResult> {
  const fail = (reason: string): ControlResult => ({ result: 'fail', reason });
  const pass: ControlResult = { result: 'pass' };
  const has = (kind: Finding['kind']) => findings.find((f) => f.kind === kind);
  const max = settings.maxAgeDays;

  const rotationEnabled = !secret.rotationEnabled
    ? fail('automatic rotation is not enabled')
    : intervalDays === undefined
      ? fail('the rotation interval cannot be determined')
      : intervalDays > max
        ? fail(
            `rotates every ${formatDays(intervalDays)} days, more than maximumAllowedRotationFrequency=${max}`,
          )
        : pass;

  const failed = has(FindingKind.LAST_ROTATION_FAILED) ?? has(FindingKind.ROTATION_STUCK);
  const rotationSucceeds: ControlResult = !secret.rotationEnabled
    ? { result: 'not-applicable', reason: 'automatic rotation is not enabled' }
    : failed
      ? fail(
          failed.kind === FindingKind.ROTATION_STUCK
            ? 'a rotation is stuck'
            : 'the last scheduled rotation did not complete',
        )
      : pass;

  const unused = has(FindingKind.UNUSED)
    ? fail(`not accessed within unusedForDays=${settings.unusedDays}`)
    : pass;

  const basis = secret.lastRotatedDate ?? secret.createdDate;
  const days = basis && (now.getTime() - basis.getTime()) / DAY_MS;
  const rotatedWithin =
    days === undefined
      ? fail('no LastRotatedDate or CreatedDate')
      : days > max
        ? fail(
            secret.lastRotatedDate
              ? `LastRotatedDate is ${Math.floor(days)} days ago, more than maxDaysSinceRotation=${max}`
              : `never rotated, and created ${Math.floor(days)} days ago, more than maxDaysSinceRotation=${max}`,
          )
        : pass;

  return {
    [ControlId.ROTATION_ENABLED]: rotationEnabled,
    [ControlId.ROTATION_SUCCEEDS]: rotationSucceeds,
    [ControlId.UNUSED_REMOVED]: unused,
    [ControlId.ROTATED_WITHIN_DAYS]: rotatedWithin,
  };
}
