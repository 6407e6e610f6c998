export { RepairError, StepFailedError, StepInvocationError } from './errors.js';
export {
  InProcessRotationInvoker,
  type InvokeAnswer,
  invokeSynchronously,
  LambdaRotationInvoker,
  type RotationInvoker,
  type RotationStepEvent,
  type StepHandler,
  type StepReport,
  type StepTarget,
  truncate,
} from './invoker.js';
export {
  DEFAULT_REPAIR_MIN_AGE_MS,
  formatAge,
  type PendingVersion,
  pendingVersion,
  planRepair,
  RepairAction,
  type RepairFacts,
  type RepairPlan,
} from './plan.js';
export {
  type RepairDependencies,
  type RepairOptions,
  type RepairResult,
  RepairStatus,
  repairStuckRotation,
} from './repair.js';
export { describeRotationTarget, type RotationTarget, SecretNotFoundError } from './secret-state.js';
