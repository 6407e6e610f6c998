export {
  GracePeriodNotOverError,
  KeyTestFailedError,
  ProviderAuthError,
  ProviderError,
  ProviderRateLimitError,
  ProviderResponseError,
  ProviderUnavailableError,
  RevocationNotScheduledError,
  RevokeRefusedError,
  StagedValueMissingError,
  SupersessionRecordLimitError,
  UnknownProviderError,
} from './errors.js';
export { DEFAULT_RETRY, keyHint, type RetryPolicy, requestJson } from './http.js';
export type {
  ApiKeyProvider,
  IssueInput,
  ProviderContext,
  RevokeInput,
  RevokeOutcome,
  TestInput,
} from './provider.js';
export { PROVIDER_TAG, providerFor } from './registry.js';
export {
  atExpression,
  EventBridgeRevocationScheduler,
  type EventBridgeSchedulerOptions,
  InvalidRevocationRequestError,
  isRevocationRequest,
  parseRevocationRequest,
  type RevocationRequest,
  type RevocationScheduler,
  roleArnBeside,
  scheduleName,
  UnscheduledRevocations,
} from './revocation.js';
export { type RevocationResult, type RevokeDependencies, revokeSupersededVersion } from './revoke.js';
export { STAGED_LABEL, stagedValueMissing } from './staged.js';
export { ApiKeyStrategy, type ApiKeyStrategyOptions } from './strategy.js';
export {
  SECRET_TAG_LIMIT,
  SUPERSEDED_TAG_PREFIX,
  type Supersession,
  SupersessionRecords,
  supersessions,
  supersessionTag,
  supersessionTagKey,
} from './superseded.js';
