export { type AgeSource, assessAge, needsRotatedAt, type SecretAge, statusForAge } from './age.js';
export { DAY_MS, FindingKind, HOUR_MS, PolicyTag, Severity, STATUSES, Status } from './constants.js';
export { CONTROLS, type ControlDefinition, ControlId, type ControlResult } from './controls.js';
export { InvalidPolicySettingsError, InvalidScheduleError, PolicyError } from './errors.js';
export {
  evaluateSecret,
  type PolicyActions,
  type RotationConfiguration,
  type SecretEvaluation,
} from './evaluate.js';
export type { Finding } from './finding.js';
export { type EffectivePolicy, effectivePolicy, type RotationMode } from './overrides.js';
export type { PendingRotation } from './pending.js';
export { providerOf } from './people.js';
export {
  describeRotationRules,
  isInsideRotationWindow,
  parseDuration,
  parseWindowTag,
  type RotationRules,
  scheduleIntervalDays,
  validateRotationRules,
} from './schedule.js';
export {
  type FleetEntry,
  type PendingVersionDate,
  parseRotatedAt,
  pendingVersionOf,
  type RotatedAtEvidence,
  type SecretMetadata,
} from './secret.js';
export {
  apiKeysPrefix,
  DEFAULT_POLICY,
  databasePrefix,
  defaultPolicySettings,
  managedPrefixOf,
  type PolicySettings,
  type StagedValueRule,
  validatePolicySettings,
} from './settings.js';
export { type FleetSummary, needsAttention, type SummarizableSecret, summarizeFleet } from './summary.js';
