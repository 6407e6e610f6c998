/**
 * Findings about a secret's rotation settings: rotation off, a schedule longer than the
 * policy allows, a rotation function that is missing or not this product's, and a scheduled
 * rotation that did not complete. Also why the enforcer would reconfigure rotation.
 */
import { DAY_MS, FindingKind, HOUR_MS, PolicyTag, Severity } from './constants.js';
import type { Finding } from './finding.js';
import { describeFunction, formatDays, functionName, iso, sameFunction } from './format.js';
import type { EffectivePolicy } from './overrides.js';
import { describeRotationRules, type RotationRules, scheduleIntervalDays } from './schedule.js';
import type { SecretMetadata } from './secret.js';
import type { PolicySettings } from './settings.js';

/** What {@link checkRotationSettings} found. */
export interface RotationSettingsCheck {
  readonly findings: Finding[];
  /** Why the rotation settings should change; empty when they do. */
  readonly reconfigure: string[];
  /** The schedule's longest interval in days; undefined when it cannot be determined. */
  readonly intervalDays?: number;
  /**
   * The name of the rotation function the secret names when it is not this product's for its
   * prefix: someone else rotates it, so the enforcer never replaces it (a person decides).
   */
  readonly foreignFunction?: string;
}

function intervalOf(rules: RotationRules | undefined): { days?: number; error?: string } {
  try {
    const days = rules ? scheduleIntervalDays(rules) : undefined;
    return days === undefined ? { error: 'the rotation rules set no interval' } : { days };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

const rulesForCli = (rules: RotationRules) =>
  rules.scheduleExpression
    ? `'{"ScheduleExpression": "${rules.scheduleExpression}"${rules.duration ? `, "Duration": "${rules.duration}"` : ''}}'`
    : `AutomaticallyAfterDays=${rules.automaticallyAfterDays}`;

/**
 * Checks the secret's rotation settings against the policy. `desiredRules` are the rules the
 * enforcer would set; `expectedFunction` this product's function for the secret's prefix.
 */
export function checkRotationSettings(
  secret: SecretMetadata,
  policy: EffectivePolicy,
  settings: PolicySettings,
  now: Date,
  context: {
    readonly desiredRules: RotationRules;
    readonly expectedFunction?: string;
    readonly managedPrefix?: string;
  },
): RotationSettingsCheck {
  const findings: Finding[] = [];
  const reconfigure: string[] = [];
  const add = (kind: Finding['kind'], severity: Finding['severity'], reason: string) =>
    findings.push({ kind, severity, reason });
  const { desiredRules, expectedFunction, managedPrefix } = context;
  const owner = secret.owningService;
  const manual = policy.mode === 'manual';
  const desired = describeRotationRules(desiredRules);
  const longestSchedule = policy.maxAgeDays - policy.warningDays;
  const interval = intervalOf(secret.rotationRules);
  const current = secret.rotationLambdaArn;
  const foreign =
    !owner && current && expectedFunction && !sameFunction(current, expectedFunction, secret.arn)
      ? describeFunction(current, expectedFunction)
      : undefined;
  // Only where the enforcer may change the settings does a reason say it does.
  const enforcerDoes = manual || foreign ? '' : ' (the enforcer does)';
  const foreignReason = () =>
    `rotation function ${foreign} is not this product's ${functionName(expectedFunction ?? '')} for ${managedPrefix}: ` +
    'the enforcer never replaces another function, so a person decides. If this product should rotate it, run ' +
    `aws secretsmanager rotate-secret --secret-id ${secret.name} --rotation-lambda-arn <${functionName(expectedFunction ?? '')} ARN> --rotation-rules ${rulesForCli(desiredRules)} --no-rotate-immediately; ` +
    `if not, move it out of ${managedPrefix}`;
  const result = () => ({
    findings,
    reconfigure,
    ...(interval.days !== undefined ? { intervalDays: interval.days } : {}),
    ...(foreign ? { foreignFunction: foreign } : {}),
  });

  if (!secret.rotationEnabled) {
    reconfigure.push('rotation is off');
    add(
      FindingKind.ROTATION_NOT_ENABLED,
      Severity.WARNING,
      owner
        ? `automatic rotation is off: turn it on in ${owner}`
        : manual
          ? `automatic rotation is off and a person rotates this secret (${PolicyTag.MODE}=manual): SecretsManager.1 fails until automatic rotation is on`
          : foreign
            ? 'automatic rotation is off'
            : expectedFunction
              ? `automatic rotation is off: the enforcer turns it on with ${functionName(expectedFunction)} and ${desired}, ` +
                `or run aws secretsmanager rotate-secret --secret-id ${secret.name} --rotation-lambda-arn <${functionName(expectedFunction)} ARN> --rotation-rules ${rulesForCli(desiredRules)}`
              : `automatic rotation is off and no rotation function is configured for ${managedPrefix ?? 'its prefix'}: configure one, then turn rotation on with ${desired}`,
    );
    if (foreign) add(FindingKind.ROTATION_FUNCTION_NOT_OURS, Severity.WARNING, foreignReason());
    return result();
  }

  if (interval.days === undefined || interval.days > longestSchedule) {
    reconfigure.push('the schedule is too long');
    add(
      FindingKind.SCHEDULE_TOO_LONG,
      Severity.WARNING,
      (interval.days === undefined
        ? `the rotation interval of ${describeRotationRules(secret.rotationRules) || 'its rules'} cannot be determined (${interval.error})`
        : `rotation runs every ${formatDays(interval.days)} days (${describeRotationRules(secret.rotationRules)}), longer than the ${longestSchedule} days the policy allows (max age ${policy.maxAgeDays} − warning ${policy.warningDays}), which leaves no room for retries`) +
        (owner ? `: shorten it in ${owner}` : `: set ${desired}${enforcerDoes}`),
    );
  } else if (
    policy.window &&
    (secret.rotationRules?.scheduleExpression !== policy.window.scheduleExpression ||
      secret.rotationRules?.duration !== policy.window.duration)
  ) {
    reconfigure.push(`the rotation window differs from the ${PolicyTag.WINDOW} tag`);
  }

  if (foreign) {
    reconfigure.push('the rotation function is not ours');
    add(FindingKind.ROTATION_FUNCTION_NOT_OURS, Severity.WARNING, foreignReason());
  } else if (!owner && !current) {
    reconfigure.push('no rotation function is set');
    add(
      FindingKind.ROTATION_FUNCTION_NOT_OURS,
      Severity.WARNING,
      'rotation is on but no rotation function is set, so every rotation fails' +
        (expectedFunction
          ? `: set --rotation-lambda-arn to ${functionName(expectedFunction)}${enforcerDoes}`
          : ': no rotation function is configured for its prefix'),
    );
  }

  const next = secret.nextRotationDate;
  if (next && now.getTime() - next.getTime() > settings.stuckAfterHours * HOUR_MS)
    add(
      FindingKind.LAST_ROTATION_FAILED,
      Severity.CRITICAL,
      `the rotation due by ${iso(next)} has not completed (NextRotationDate is ${formatDays(
        Math.floor((now.getTime() - next.getTime()) / DAY_MS),
      )} days past): look for RotationFailed events and the rotation function's "invocation failed" log lines, fix the cause, then rotate again`,
    );
  return result();
}
