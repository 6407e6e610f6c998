/**
 * Errors of the policy enforcer. Messages name secrets, versions, queues and AWS error codes,
 * never a secret value. They extend {@link RotationError}, so the handler boundary keeps their
 * messages (shared/logging/redact.ts).
 */
import { RotationError } from '../rotation/errors.js';
import type { ActionOutcome } from './outcome.js';

/** Base class of every error the enforcer raises. */
export class EnforcementError extends RotationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EnforcementError';
  }
}

/** Thrown when the enforcer is invoked with an input it does not take; nothing was read or changed. */
export class InvalidEnforcementInputError extends EnforcementError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidEnforcementInputError';
  }
}

/** Thrown when a queue message is not a work item of this product; nothing was changed for it. */
export class InvalidWorkItemError extends EnforcementError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidWorkItemError';
  }
}

/**
 * Thrown when an action of a work item failed in a way a retry may mend (an AWS call or an
 * invocation failed). `outcomes` says what each action of the item did; the actions are
 * idempotent, so the whole item may be run again.
 */
export class WorkItemFailedError extends EnforcementError {
  readonly outcomes: readonly ActionOutcome[];
  constructor(message: string, outcomes: readonly ActionOutcome[], options?: ErrorOptions) {
    super(message, options);
    this.name = 'WorkItemFailedError';
    this.outcomes = outcomes;
  }
}

/** Thrown when work items could not be handed to the queue (after retries); the message says how many. */
export class EnforcementQueueError extends EnforcementError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EnforcementQueueError';
  }
}

/** Thrown when a revoke input could not be delivered to the API-key function at all. */
export class RevocationInvocationError extends EnforcementError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RevocationInvocationError';
  }
}

/**
 * Thrown when the API-key function answered a revoke input with an error. `errorType` and
 * `errorMessage` are the function's own (value-free in this product).
 */
export class RevocationFailedError extends EnforcementError {
  readonly errorType: string;
  readonly errorMessage: string;
  constructor(errorType: string, errorMessage: string, options?: ErrorOptions) {
    super(`the revoke input failed: ${errorType}: ${errorMessage}`, options);
    this.name = 'RevocationFailedError';
    this.errorType = errorType;
    this.errorMessage = errorMessage;
  }
}
