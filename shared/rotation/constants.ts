/** Staging labels Secrets Manager uses in the rotation protocol. */
export const Stage = {
  CURRENT: 'AWSCURRENT',
  PENDING: 'AWSPENDING',
  PREVIOUS: 'AWSPREVIOUS',
} as const;

/** The four steps Secrets Manager invokes, in order. */
export const Steps = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;

/** One of the four rotation steps. */
export type StepName = (typeof Steps)[number];

/** The field every rotated secret carries: when its value was last rotated (ISO 8601, UTC). */
export const ROTATED_AT_FIELD = 'rotated_at';

/**
 * Writes one rotation of this product makes against the account's shared 50/s
 * PutSecretValue/UpdateSecretVersionStage quota when no step is retried: createSecret's
 * PutSecretValue, then finishSecret's two UpdateSecretVersionStage calls (AWSCURRENT moved to
 * the new version, AWSPENDING removed from it). The same for every strategy the enforcer
 * starts unattended; an API key rotated from a staged value makes a fourth (its staging label
 * removed), but such a rotation waits for a person.
 */
export const VERSION_WRITES_PER_ROTATION = 3;
