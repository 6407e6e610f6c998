export { type PostgresAlternatingUsersOptions, PostgresAlternatingUsersStrategy } from './alternating.js';
export {
  createPostgresConnector,
  describeTarget,
  type PostgresConnector,
  type PostgresConnectorOptions,
  type PostgresSession,
  type PostgresTarget,
  SESSION_OPTIONS,
  tlsOptions,
} from './connection.js';
export {
  databaseStrategyResolver,
  type PostgresRotationOptions,
  PostgresRotationStrategy,
  RotationMode,
  rotationModeOf,
} from './database-strategy.js';
export {
  ConnectionMismatchError,
  DatabaseAuthenticationError,
  DatabaseError,
  DatabaseUnavailableError,
  NoWorkingCredentialError,
  PasswordReplacedError,
  TlsNotTrustedError,
  TlsRefusedError,
} from './errors.js';
export { type MasterCredentials, MasterSecrets, type MasterSecretsOptions } from './master.js';
export { HeldLogins, logsIn, tryLogin } from './proof.js';
export {
  EndpointMismatchError,
  type RdsDatabase,
  RdsDatabaseNotFoundError,
  RdsDatabases,
  RdsError,
  RdsManagedSecretError,
  rdsManagedSecretOwner,
} from './rds.js';
export {
  type MasterPasswordWait,
  type PostgresRdsMasterOptions,
  PostgresRdsMasterStrategy,
} from './rds-master.js';
export {
  CLONE_SUFFIX,
  type CloneEvidence,
  CloneOwnershipError,
  cloneMarker,
  ForeignRoleError,
  MAX_ROLE_NAME_BYTES,
  otherLogin,
  RoleNameTooLongError,
  type RolePair,
  rolePairOf,
  settingValueSql,
  splitSettingList,
} from './roles.js';
export {
  DEFAULT_SSL_MODE,
  type PostgresSecret,
  postgresSecretSchema,
  type RdsDatabaseRef,
  type SslMode,
  type SslModeSource,
  SslModes,
  tlsOffHint,
  withPassword,
  withUsername,
} from './secret.js';
export {
  alterRolePasswordSql,
  nameLiteral,
  quoteIdentifier,
  quoteLiteral,
  scramSha256Verifier,
} from './sql.js';
export { type PostgresSingleUserOptions, PostgresSingleUserStrategy } from './strategy.js';
export {
  isRdsHost,
  RDS_CA_BUNDLE_FILE,
  RdsCaBundleError,
  rdsBundleCertificates,
  rdsTrustedCertificates,
  splitPem,
  type TlsVerification,
  tlsVerification,
} from './tls.js';
