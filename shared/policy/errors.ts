/**
 * Errors of the policy model. Messages name the setting, tag or expression concerned;
 * the model never sees a secret value, so none can appear.
 */

/** Base class of every error the policy model raises. */
export class PolicyError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PolicyError';
  }
}

/** Thrown when policy settings contradict each other or are out of range. */
export class InvalidPolicySettingsError extends PolicyError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidPolicySettingsError';
  }
}

/** Thrown when a rotation schedule (`rate(…)`/`cron(…)`, `Duration`) is not one Secrets Manager accepts. */
export class InvalidScheduleError extends PolicyError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidScheduleError';
  }
}
