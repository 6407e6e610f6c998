/**
 * The checks auditors run on Secrets Manager: the AWS Config managed rules and the Security
 * Hub controls built on them. The model evaluates each one per secret, with the parameters
 * an auditor would use, so that the report shows a failure before the auditor sees it.
 */
import { DAY_MS, FindingKind } from './constants.js';
import type { Finding } from './finding.js';
import { formatDays } from './format.js';
import type { SecretMetadata } from './secret.js';
import type { PolicySettings } from './settings.js';

/** A Security Hub control for Secrets Manager and the AWS Config rule behind it. */
export interface ControlDefinition {
  readonly id: ControlId;
  readonly title: string;
  readonly configRule: string;
  /** The Config rule parameter the policy sets, if any. */
  readonly parameter?: string;
}

export const ControlId = {
  ROTATION_ENABLED: 'SecretsManager.1',
  ROTATION_SUCCEEDS: 'SecretsManager.2',
  UNUSED_REMOVED: 'SecretsManager.3',
  ROTATED_WITHIN_DAYS: 'SecretsManager.4',
} as const;
export type ControlId = (typeof ControlId)[keyof typeof ControlId];

/** The four controls, in Security Hub's order. */
export const CONTROLS: readonly ControlDefinition[] = [
  {
    id: ControlId.ROTATION_ENABLED,
    title: 'Secrets Manager secrets should have automatic rotation enabled',
    configRule: 'secretsmanager-rotation-enabled-check',
    parameter: 'maximumAllowedRotationFrequency',
  },
  {
    id: ControlId.ROTATION_SUCCEEDS,
    title: 'Secrets Manager secrets configured with automatic rotation should rotate successfully',
    configRule: 'secretsmanager-scheduled-rotation-success-check',
  },
  {
    id: ControlId.UNUSED_REMOVED,
    title: 'Remove unused Secrets Manager secrets',
    configRule: 'secretsmanager-secret-unused',
    parameter: 'unusedForDays',
  },
  {
    id: ControlId.ROTATED_WITHIN_DAYS,
    title: 'Secrets Manager secrets should be rotated within a specified number of days',
    configRule: 'secretsmanager-secret-periodic-rotation',
    parameter: 'maxDaysSinceRotation',
  },
];

/** What a control says about one secret. */
export interface ControlResult {
  readonly result: 'pass' | 'fail' | 'not-applicable';
  /** Why it fails (or does not apply), in an auditor's terms. */
  readonly reason?: string;
}

/**
 * The four Security Hub controls, as the auditor's AWS Config rules see the secret:
 * maximumAllowedRotationFrequency = maxDaysSinceRotation = the policy's max age, unusedForDays =
 * its unused days. SecretsManager.4 counts from `LastRotatedDate` (`CreatedDate` when never
 * rotated), which is what the rule sees, not `rotated_at`.
 */
export function evaluateControls(
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
