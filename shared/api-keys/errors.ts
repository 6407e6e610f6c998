import { MalformedSecretError, RotationError } from '../rotation/errors.js';

/**
 * Errors from an API-key provider (Resend, Google, Clerk, AWS IAM). Messages name the
 * provider, the operation and the HTTP status or error code, never a key.
 */
export class ProviderError extends RotationError {
  /** The provider's name, e.g. `resend`. */
  readonly provider: string;
  /** The HTTP status, when there was one. */
  readonly status: number | undefined;
  constructor(provider: string, message: string, options?: ErrorOptions & { status?: number }) {
    super(`${provider}: ${message}`, options);
    this.name = 'ProviderError';
    this.provider = provider;
    this.status = options?.status;
  }
}

/** The provider refused the credentials used to manage keys (HTTP 401 or 403). */
export class ProviderAuthError extends ProviderError {
  constructor(provider: string, message: string, options?: ErrorOptions & { status?: number }) {
    super(provider, message, options);
    this.name = 'ProviderAuthError';
  }
}

/** The provider kept answering 429 after the bounded retries. */
export class ProviderRateLimitError extends ProviderError {
  constructor(provider: string, message: string, options?: ErrorOptions & { status?: number }) {
    super(provider, message, options);
    this.name = 'ProviderRateLimitError';
  }
}

/** The provider was unreachable, timed out or answered 5xx after the bounded retries. */
export class ProviderUnavailableError extends ProviderError {
  constructor(provider: string, message: string, options?: ErrorOptions & { status?: number }) {
    super(provider, message, options);
    this.name = 'ProviderUnavailableError';
  }
}

/** The provider answered with a status or a body this product does not understand. */
export class ProviderResponseError extends ProviderError {
  constructor(provider: string, message: string, options?: ErrorOptions & { status?: number }) {
    super(provider, message, options);
    this.name = 'ProviderResponseError';
  }
}

/** A new key failed its test: it is not promoted, and nothing is revoked. */
export class KeyTestFailedError extends ProviderError {
  constructor(provider: string, message: string, options?: ErrorOptions & { status?: number }) {
    super(provider, message, options);
    this.name = 'KeyTestFailedError';
  }
}

/** A key that no API issues has no staged value to rotate to. The message says what to run. */
export class StagedValueMissingError extends RotationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StagedValueMissingError';
  }
}

/** A revocation was refused: the version is AWSCURRENT's or AWSPENDING's, or holds the current key. */
export class RevokeRefusedError extends RotationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RevokeRefusedError';
  }
}

/** No provider is registered for the secret (by tag, field or name). */
export class UnknownProviderError extends RotationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UnknownProviderError';
  }
}

/**
 * The revoke input named a version whose grace period is not over, or whose start is not
 * recorded: its keys may still be in use. The message says when the period ends and how to
 * force the revocation.
 */
export class GracePeriodNotOverError extends RevokeRefusedError {
  /** When the grace period ends; undefined when its start is not recorded. */
  readonly endsAt: Date | undefined;
  constructor(message: string, options?: ErrorOptions & { endsAt?: Date }) {
    super(message, options);
    this.name = 'GracePeriodNotOverError';
    this.endsAt = options?.endsAt;
  }
}

/**
 * The secret has no room for the tags that record when its versions stopped being AWSCURRENT
 * (AWS allows 50 per secret). Thrown by createSecret before anything is created; the message
 * lists the records and what a person can remove.
 */
export class SupersessionRecordLimitError extends RotationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SupersessionRecordLimitError';
  }
}

/** A revocation could not be scheduled (EventBridge Scheduler refused or failed). */
export class RevocationNotScheduledError extends RotationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RevocationNotScheduledError';
  }
}

/**
 * A secret names a provider credential (`admin_secret_id`, `service_account_secret_id`)
 * outside `{environment}/rotation/`: it is refused before any read, so that a secret cannot
 * borrow another secret's key (another team's full-access key, say).
 */
export class CredentialSecretRefusedError extends MalformedSecretError {
  constructor(message: string, options?: ErrorOptions & { field?: string }) {
    super(message, options?.field ? [options.field] : [], options);
    this.name = 'CredentialSecretRefusedError';
  }
}
