export {
  AccessOutcome,
  type AccessRecord,
  AUDIT_MARKER,
  SecretSource,
} from './audit.js';
export {
  type AuthenticationFailure,
  AWS_AUTH_ERROR_CODES,
  authenticationFailure,
  HTTP_AUTH_STATUSES,
  isAuthenticationError,
  isAwsAuthError,
  isHttpAuthError,
  isPostgresAuthError,
  POSTGRES_AUTH_SQLSTATES,
} from './auth-errors.js';
export { DEFAULT_CACHE_TTL_SECONDS, loadSecretsConfig, type SecretsConfig } from './config.js';
export { type DatabaseCredentials, type DatabaseTrust, databaseCredentials } from './database.js';
export { ENVIRONMENT_VARIABLES } from './environment.js';
export {
  AccessDeniedError,
  InvalidSecretValueError,
  SecretNotFoundError,
  SecretsError,
  SecretsManagerUnavailableError,
} from './errors.js';
export { type FreshAttempt, type FreshOptions, withFreshCredentials } from './fresh.js';
export {
  type AwsSecret,
  createSecrets,
  type GenericGetOptions,
  type GetOptions,
  type SecretFields,
  Secrets,
  type SecretsOptions,
} from './getters.js';
export { SECRET_KINDS, type SecretKind, SecretKinds, type SecretValues } from './kinds.js';
export { isFullSecretId, resolveSecretId, SECRET_NAME_FORMAT, type SecretRef, secretName } from './names.js';
export {
  createWorkerSecretReader,
  type SecretReader,
  type SecretReaderOptions,
  secretReader,
} from './reader.js';
export { GET_SECRET_VALUE } from './sdk-errors.js';
