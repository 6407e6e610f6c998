export { ArnDerivationError, functionArn, functionArnBesideSecret, sameAccountArn } from './arn.js';
export {
  BATCH_GET_LIMIT,
  LIST_PAGE_SIZE,
  listSecretPages,
  readRotatedAt,
  versionCreatedDate,
} from './calls.js';
export { createFleetClient, type FleetClientOptions } from './client.js';
export { boundedConcurrency } from './concurrency.js';
export { BatchTooLargeError, FleetError, FleetReadError } from './errors.js';
export { describedSecretMetadata, toRotationRulesType, toSecretMetadata } from './metadata.js';
export {
  type Clock,
  limitRate,
  type Quota,
  type RateLimiterOptions,
  SECRETS_MANAGER_QUOTAS,
  SecretsManagerRateLimiter,
  systemClock,
  TokenBucket,
} from './quotas.js';
export { type FleetCalls, type FleetRead, type FleetReadOptions, readFleet } from './read.js';
