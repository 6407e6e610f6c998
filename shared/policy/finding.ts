import type { FindingKind, Severity } from './constants.js';

/** Something about a secret an operator should know or do, with the reason in plain words. */
export interface Finding {
  readonly kind: FindingKind;
  readonly severity: Severity;
  /** What is wrong and what to do about it. Names, dates and ids only, never a value. */
  readonly reason: string;
}
