/**
 * Errors raised by the rotation engine. Messages name the secret, version and field
 * concerned, never a secret value, so they are safe to log and to return to Secrets Manager.
 */

/** Base class of every error the rotation engine raises; catch it to handle them all. */
export class RotationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RotationError';
  }
}

/** Thrown when the invocation event is not a rotation event (missing or unknown field). */
export class InvalidRotationEventError extends RotationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidRotationEventError';
  }
}

/** Thrown when rotation is invoked for a secret whose rotation is not enabled. */
export class RotationNotEnabledError extends RotationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RotationNotEnabledError';
  }
}

/** Thrown when the ClientRequestToken is not a version of the secret. */
export class UnknownVersionError extends RotationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UnknownVersionError';
  }
}

/** Thrown when the token's version is neither AWSCURRENT nor AWSPENDING. */
export class VersionNotPendingError extends RotationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'VersionNotPendingError';
  }
}

/** Thrown when a step needs a version (AWSCURRENT, or the pending value) that holds no value. */
export class MissingVersionError extends RotationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MissingVersionError';
  }
}

/**
 * Thrown by finishSecret, before it moves AWSCURRENT, when the token's version holds no value
 * (the empty placeholder RotateSecret stages) or one that does not parse for the secret's
 * kind: promoting it would break every application that reads the secret. The message says
 * what to run instead; AWSCURRENT is unchanged.
 */
export class PendingValueInvalidError extends RotationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PendingValueInvalidError';
  }
}

/**
 * Thrown by finishSecret, before it moves AWSCURRENT, when the pending credential fails the
 * test testSecret runs (setSecret never applied it, or the target refuses it now): promoting
 * it would give every application a credential the target refuses. The original failure is
 * the `cause`; the message says what to run. AWSCURRENT is unchanged.
 */
export class PendingNotVerifiedError extends RotationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PendingNotVerifiedError';
  }
}

/**
 * Thrown when a secret value is not JSON or lacks a field the credential kind needs.
 * The message lists field paths and what is wrong with them, never the values.
 */
export class MalformedSecretError extends RotationError {
  /** The field paths that failed validation, e.g. `["port", "username"]`. */
  readonly fields: readonly string[];
  constructor(message: string, fields: readonly string[] = [], options?: ErrorOptions) {
    super(message, options);
    this.name = 'MalformedSecretError';
    this.fields = fields;
  }
}

/** Thrown when a Secrets Manager call fails; the AWS error travels as `cause`. */
export class SecretStoreError extends RotationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SecretStoreError';
  }
}

/** Thrown when the pending credential fails its test: it is not promoted to AWSCURRENT. */
export class PendingTestFailedError extends RotationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PendingTestFailedError';
  }
}
