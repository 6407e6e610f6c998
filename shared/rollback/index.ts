export { type ApiKeyCheckOptions, apiKeyCheck } from './api-key.js';
export type { CheckContext, CheckOutcome, PreviousCredentialCheck } from './check.js';
export { createRollbackChecks, type RollbackCheckParts } from './checks.js';
export { RollbackError, RollbackRefusedError } from './errors.js';
export { IamKeyReactivator, type ReactivatedKey } from './iam-reactivation.js';
export { postgresCheck } from './postgres.js';
export {
  type AfterRollback,
  type AfterRollbackContext,
  createRollbackRevocations,
  type DemotedVersionRevocation,
  type RevokeDemotedKeysOptions,
  type RollbackRevocationParts,
  revokeDemotedKeys,
} from './revocation.js';
export { type RollbackDependencies, type RollbackResult, rollBack } from './rollback.js';
