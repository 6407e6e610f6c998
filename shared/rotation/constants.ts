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
