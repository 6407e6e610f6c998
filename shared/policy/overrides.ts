/** Per-secret overrides of the policy, read from the secret's tags. */
import { FindingKind, PolicyTag, Severity } from './constants.js';
import type { Finding } from './finding.js';
import { formatDays } from './format.js';
import {
  describeRotationRules,
  parseWindowTag,
  type RotationRules,
  scheduleIntervalDays,
} from './schedule.js';
import type { SecretMetadata } from './secret.js';
import type { PolicySettings } from './settings.js';

/** `auto`: the product rotates the secret; `manual`: a person does, and the product reminds them. */
export type RotationMode = 'auto' | 'manual';

/** The policy that applies to one secret: the settings, tightened by its tags. */
export interface EffectivePolicy {
  readonly maxAgeDays: number;
  readonly warningDays: number;
  /** The `AutomaticallyAfterDays` the enforcer sets when the secret has no window. */
  readonly scheduleDays: number;
  /** The rotation rules from the `rotation-window` tag, if it is set and valid. */
  readonly window?: RotationRules;
  readonly mode: RotationMode;
}

const wholeDays = (text: string, min: number, max: number): number | undefined => {
  const n = /^\d{1,4}$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  return n >= min && n <= max ? n : undefined;
};

/**
 * The policy for `secret`: settings, tightened by its `rotation-*` tags. A tag that is not
 * valid, or would loosen the policy, is ignored and reported as an `invalid-override` finding;
 * `ignoredTags` maps each such tag to its finding.
 */
export function effectivePolicy(
  secret: SecretMetadata,
  settings: PolicySettings,
): { policy: EffectivePolicy; findings: Finding[]; ignoredTags: Record<string, Finding> } {
  const findings: Finding[] = [];
  const ignoredTags: Record<string, Finding> = {};
  const ignored = (tag: string, why: string) => {
    const finding: Finding = {
      kind: FindingKind.INVALID_OVERRIDE,
      severity: Severity.WARNING,
      reason: `tag ${tag}=${JSON.stringify(secret.tags[tag])} is ignored: ${why}`,
    };
    ignoredTags[tag] = finding;
    findings.push(finding);
  };
  const tag = (name: string) => secret.tags[name];

  let maxAgeDays = settings.maxAgeDays;
  const maxAgeTag = tag(PolicyTag.MAX_AGE_DAYS);
  if (maxAgeTag !== undefined) {
    const days = wholeDays(maxAgeTag, 1, settings.maxAgeDays);
    if (days === undefined)
      ignored(
        PolicyTag.MAX_AGE_DAYS,
        `expected whole days from 1 to ${settings.maxAgeDays} (a tag can shorten the policy, never lengthen it)`,
      );
    else maxAgeDays = days;
  }

  let warningDays = Math.min(settings.warningDays, maxAgeDays - 1);
  const warningTag = tag(PolicyTag.WARNING_DAYS);
  if (warningTag !== undefined) {
    const days = wholeDays(warningTag, 0, maxAgeDays - 1);
    if (days === undefined)
      ignored(PolicyTag.WARNING_DAYS, `expected whole days from 0 to ${maxAgeDays - 1}`);
    else warningDays = days;
  }
  const longestSchedule = maxAgeDays - warningDays;

  let window: RotationRules | undefined;
  const windowTag = tag(PolicyTag.WINDOW);
  if (windowTag !== undefined) {
    try {
      const rules = parseWindowTag(windowTag);
      const interval = scheduleIntervalDays(rules) ?? Number.POSITIVE_INFINITY;
      if (interval > longestSchedule)
        ignored(
          PolicyTag.WINDOW,
          `${describeRotationRules(rules)} rotates every ${formatDays(interval)} days at most, longer than the ${longestSchedule} days this secret's policy allows (max age ${maxAgeDays} − warning ${warningDays})`,
        );
      else window = rules;
    } catch (error) {
      ignored(PolicyTag.WINDOW, (error as Error).message);
    }
  }

  let mode: RotationMode = 'auto';
  const modeTag = tag(PolicyTag.MODE);
  if (modeTag !== undefined) {
    const value = modeTag.trim().toLowerCase();
    if (value === 'auto' || value === 'manual') mode = value;
    else ignored(PolicyTag.MODE, 'expected auto or manual');
  }

  return {
    policy: {
      maxAgeDays,
      warningDays,
      scheduleDays: Math.max(1, Math.min(settings.scheduleDays, longestSchedule)),
      ...(window ? { window } : {}),
      mode,
    },
    findings,
    ignoredTags,
  };
}
