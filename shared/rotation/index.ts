export { ROTATED_AT_FIELD, Stage, type StepName, Steps, VERSION_WRITES_PER_ROTATION } from './constants.js';
export { RotationEngine, type RotationEngineOptions, StepOutcome, type StepResult } from './engine.js';
export {
  InvalidRotationEventError,
  MalformedSecretError,
  MissingVersionError,
  PendingNotVerifiedError,
  PendingTestFailedError,
  PendingValueInvalidError,
  RotationError,
  RotationNotEnabledError,
  SecretStoreError,
  UnknownVersionError,
  VersionNotPendingError,
} from './errors.js';
export { parseRotationEvent, type RotationEvent } from './event.js';
export { notAJsonObject, parseJsonObject, parseSecretVersion } from './parse.js';
export {
  type SecretDescription,
  SecretStore,
  type SecretStoreOptions,
  versionWithStage,
} from './secret-store.js';
export type {
  CreateContext,
  DiscardContext,
  FinishContext,
  RotationLogger,
  RotationStrategy,
  SecretFields,
  SecretVersion,
  SetContext,
  SetOutcome,
  StepContext,
  TestContext,
  VersionReader,
} from './strategy.js';
