export {
  createPostgresConnector,
  describeTarget,
  type PostgresConnector,
  type PostgresConnectorOptions,
  type PostgresSession,
  type PostgresTarget,
  tlsOptions,
} from './connection.js';
export {
  ConnectionMismatchError,
  DatabaseAuthenticationError,
  DatabaseError,
  DatabaseUnavailableError,
  NoWorkingCredentialError,
} from './errors.js';
export {
  DEFAULT_SSL_MODE,
  type PostgresSecret,
  postgresSecretSchema,
  type SslMode,
  SslModes,
  withPassword,
} from './secret.js';
export { alterRolePasswordSql, quoteIdentifier, quoteLiteral, scramSha256Verifier } from './sql.js';
export { type PostgresSingleUserOptions, PostgresSingleUserStrategy } from './strategy.js';
