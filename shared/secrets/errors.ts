/**
 * Errors of the secrets library. Messages name the secret, the environment variable, the
 * IAM action and resource, never a value; none carries a value in `cause` either.
 */

/** Base class of every error the secrets library raises; catch it to handle them all. */
export class SecretsError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SecretsError';
  }
}

/** Where a secret was looked for. */
export interface SecretNotFoundDetails {
  /** The name (or ARN) looked for in Secrets Manager, or the seed name whose variables were read. */
  readonly secretName: string;
  /** The naming convention the name should follow: `{environment}/{category}/{name}`. */
  readonly expectedFormat: string;
  /** The environment variables that were missing, when the environment was the source. */
  readonly variables?: readonly string[];
}

/**
 * Thrown when Secrets Manager has no such secret (ResourceNotFoundException), or when the
 * environment lacks the variables of a secret it should provide. The seed's "Secret not found".
 */
export class SecretNotFoundError extends SecretsError {
  readonly secretName: string;
  readonly expectedFormat: string;
  readonly variables: readonly string[];
  constructor(message: string, details: SecretNotFoundDetails, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SecretNotFoundError';
    this.secretName = details.secretName;
    this.expectedFormat = details.expectedFormat;
    this.variables = details.variables ?? [];
  }
}

/** What IAM refused. */
export interface AccessDeniedDetails {
  /** The IAM action to allow, e.g. `secretsmanager:GetSecretValue`. */
  readonly action: string;
  /** The resource ARN (or ARN pattern) the policy's `Resource` must match. */
  readonly resource: string;
  /** The refused principal's ARN, when AWS named it. */
  readonly principal?: string;
  /** AWS's error code, e.g. `AccessDeniedException` or `UnrecognizedClientException`. */
  readonly code: string;
}

/**
 * Thrown when AWS refuses the read: IAM denies the action, or the caller's credentials are
 * refused. The seed's "Access denied". Never hidden by the environment fallback.
 */
export class AccessDeniedError extends SecretsError {
  readonly action: string;
  readonly resource: string;
  readonly principal: string | undefined;
  readonly code: string;
  constructor(message: string, details: AccessDeniedDetails, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AccessDeniedError';
    this.action = details.action;
    this.resource = details.resource;
    this.principal = details.principal;
    this.code = details.code;
  }
}

/**
 * Thrown when Secrets Manager could not answer (no route, timeout, throttling, 5xx) and no
 * environment fallback was allowed or possible. The AWS or network error travels as `cause`.
 */
export class SecretsManagerUnavailableError extends SecretsError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SecretsManagerUnavailableError';
  }
}

/**
 * Thrown when a secret's value is not a JSON object or does not have the shape its getter
 * expects. The message lists each field (or environment variable) and what is wrong, never a value.
 */
export class InvalidSecretValueError extends SecretsError {
  /** The fields that failed validation, e.g. `["password"]`. */
  readonly fields: readonly string[];
  constructor(message: string, fields: readonly string[] = [], options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidSecretValueError';
    this.fields = fields;
  }
}
