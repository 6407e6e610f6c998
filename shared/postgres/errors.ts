import { RotationError } from '../rotation/errors.js';

/**
 * Errors about the database a PostgreSQL secret points at. Messages name the host, port,
 * database and user, never a password.
 */
export class DatabaseError extends RotationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DatabaseError';
  }
}

/** Thrown when the database refuses a login (SQLSTATE 28P01 or 28000). */
export class DatabaseAuthenticationError extends DatabaseError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DatabaseAuthenticationError';
  }
}

/** Thrown when the database cannot be reached, times out, or refuses TLS. Nothing was changed. */
export class DatabaseUnavailableError extends DatabaseError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DatabaseUnavailableError';
  }
}

/** Thrown when the server has no TLS and the secret asks for it; the message names the field that decides. */
export class TlsRefusedError extends DatabaseUnavailableError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TlsRefusedError';
  }
}

/** Thrown when the server's certificate is not trusted (unknown CA, expired, another host's name). */
export class TlsNotTrustedError extends DatabaseUnavailableError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TlsNotTrustedError';
  }
}

/** Thrown by setSecret when neither AWSCURRENT's, AWSPREVIOUS's nor AWSPENDING's password logs in. */
export class NoWorkingCredentialError extends DatabaseError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'NoWorkingCredentialError';
  }
}

/**
 * Thrown by setSecret, before it connects, when AWSCURRENT and the pending version disagree on
 * where or how to connect (host, port, database, username, sslmode): setSecret would change the
 * password through one connection and testSecret check it through another. The message names
 * the fields (never their values) and how to start over.
 */
export class ConnectionMismatchError extends DatabaseError {
  /** The fields that differ, e.g. `["sslmode"]`. */
  readonly fields: readonly string[];
  constructor(message: string, fields: readonly string[], options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConnectionMismatchError';
    this.fields = fields;
  }
}

/**
 * Thrown, before any login, when a superseded version's password cannot log in any more by
 * the way it was rotated: an RDS master password replaced through the RDS API, which keeps no
 * previous one.
 */
export class PasswordReplacedError extends DatabaseError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PasswordReplacedError';
  }
}
