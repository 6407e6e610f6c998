export { loadRotateNowConfig, loadStepRunner, StepRunner } from './config.js';
export {
  InvalidRotateNowInputError,
  ManagedByServiceError,
  RepairFailedError,
  RotateNowError,
  RotationInProgressError,
  RotationNotConfiguredError,
  RotationStartError,
  UnmanagedSecretError,
} from './errors.js';
export { parseRotateNowRequest, type RotateNowRequest } from './input.js';
export { ManagedCategory, managedCategory, requireManaged, resolveSecretId } from './names.js';
export {
  type RepairSummary,
  type RotateNowConfig,
  type RotateNowDependencies,
  type RotateNowResult,
  type RotationReport,
  rotateNow,
} from './rotate-now.js';
export { type RotationOutcome, type WaitDependencies, type WaitOptions, waitForRotation } from './wait.js';
