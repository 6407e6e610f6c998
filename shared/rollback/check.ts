import type { RotationTarget } from '../repair/index.js';
import type { RotationLogger } from '../rotation/strategy.js';

/** What a {@link PreviousCredentialCheck} is given. */
export interface CheckContext {
  readonly secret: RotationTarget;
  /** The AWSPREVIOUS version: its id and stored value (never logged). */
  readonly previous: { readonly versionId: string; readonly raw: string };
  readonly logger: RotationLogger;
}

/** What a passed check did. */
export interface CheckOutcome {
  /** How the previous credential was proven to work, for the result and the log. */
  readonly proof: string;
  /** Hints of keys reactivated to make the previous credential work (never the keys). */
  readonly reactivated: readonly string[];
  /**
   * What becomes of the demoted version's credential, where the kind revokes nothing itself
   * (database logins; API keys have their revocation instead), for the result and the log.
   */
  readonly demoted?: string;
  /** Undoes what the check changed (deactivates a reactivated key again), if the rollback cannot go on. */
  undo?(): Promise<void>;
}

/**
 * Proves, with the credential kind's own test, that the AWSPREVIOUS credential works now.
 * One per kind of credential: PostgreSQL (the rotation function's strategy tests the previous
 * login: alternating users' normally still works, a single user's old password no longer
 * does, an RDS master password is refused before any login), API keys (a key in its grace
 * period, or this secret's own IAM key deactivated on revocation, which it reactivates first).
 */
export interface PreviousCredentialCheck {
  readonly kind: string;
  /**
   * @throws {RollbackRefusedError} with the reason when the previous credential does not work
   * (anything it changed is undone first). Any other error means it could not be checked.
   */
  verify(context: CheckContext): Promise<CheckOutcome>;
}
