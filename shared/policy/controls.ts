/**
 * The checks auditors run on Secrets Manager: the AWS Config managed rules and the Security
 * Hub controls built on them. The model evaluates each one per secret, with the parameters
 * an auditor would use, so that the report shows a failure before the auditor sees it.
 */

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
