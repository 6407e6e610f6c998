export {
  DEFAULT_STARTS_PER_SECOND,
  type EnforcementConfig,
  loadEnforcementConfig,
  loadStartsPerSecond,
  VERSION_WRITE_SHARE,
  WORKER_BATCH_SIZE,
  WORKER_PACING_BUDGET_MS,
} from './config.js';
export { alertPublisher } from './destinations.js';
export {
  type EnforcementDependencies,
  type EnforcementResult,
  HAND_OVER_RESERVE_MS,
  RESULT_LIMIT,
  type ReportedAction,
  runEnforcement,
} from './enforce.js';
export {
  EnforcementError,
  EnforcementQueueError,
  InvalidEnforcementInputError,
  InvalidWorkItemError,
  RevocationFailedError,
  RevocationInvocationError,
  WorkItemFailedError,
} from './errors.js';
export { type ExecutorDependencies, executeWorkItem, ForeignRotationFunctionError } from './execute.js';
export { type EnforcementRequest, parseEnforcementRequest } from './input.js';
export { ALERT_SECRET_LIMIT, enforcementAlert, recordEnforcementMetrics } from './notify.js';
export {
  ActionKind,
  type ActionOutcome,
  type Notice,
  NoticeKind,
  noticesOf,
  OutcomeStatus,
} from './outcome.js';
export {
  type EnforcementPlan,
  type PlannedAction,
  type PlanOptions,
  planEnforcement,
  type SecretDecision,
  type SpreadStart,
  spreadStarts,
} from './plan.js';
export { MAX_DELAY_SECONDS, type QueuedItem, resolveQueueUrl, sendWorkItems } from './queue.js';
export {
  InProcessRevocationInvoker,
  LambdaRevocationInvoker,
  type RevocationInvoker,
  type RevokeAnswer,
  type RevokeInput,
} from './revoker.js';
export { dayOf, rotationToken } from './token.js';
export { parseWorkItem, type RunReference, WORK_ITEM_VERSION, type WorkItem } from './work-item.js';
export { startWorkerBatch, type WorkerBatch, type WorkerDependencies } from './worker.js';
