import type { SecretDescription } from '../rotation/secret-store.js';
import type { RotationLogger, SecretFields } from '../rotation/strategy.js';
import type * as z from '../zod.js';

/** What every provider call is told. */
export interface ProviderContext {
  /** The secret being rotated (name, ARN, tags). */
  readonly secret: SecretDescription;
  /** The rotation's ClientRequestToken; keys a provider creates carry it in their name, so a retry finds them. */
  readonly token: string;
  readonly logger: RotationLogger;
  /** Reads another secret's AWSCURRENT value (an admin key, a service account), by name or ARN. */
  readSecret(secretId: string): Promise<SecretFields>;
  readonly now: Date;
  /**
   * When the rotation began: the creation date of the token's version (RotateSecret creates
   * it), or undefined when Secrets Manager does not say. A key created before this moment
   * cannot be one this rotation created.
   */
  rotationStartedAt(): Promise<Date | undefined>;
  /**
   * How long another attempt of this step may still be running (the function's timeout):
   * a key younger than this that no version holds may be on its way to Secrets Manager.
   */
  readonly inFlightMs: number;
}

/** Input of {@link ApiKeyProvider.discard}. */
export interface DiscardInput<S> {
  /** The fields this attempt's `issue` returned, which it failed to store. */
  readonly created: SecretFields;
  /** The pending value another attempt stored first: none of its keys may be touched. */
  readonly stored: S;
  readonly context: ProviderContext;
}

/** Input of {@link ApiKeyProvider.cleanup}. */
export interface CleanupInput<S> {
  /** The stored pending value (final: Secrets Manager never changes a version's value). */
  readonly value: S;
  readonly context: ProviderContext;
}

/** Input of {@link ApiKeyProvider.issue}. */
export interface IssueInput<S> {
  /** AWSCURRENT's value. */
  readonly current: S;
  /**
   * Fields an operator staged for this rotation (the version labelled `STAGED`), for keys
   * no API issues. Present only for providers with {@link ApiKeyProvider.stagedFields}.
   */
  readonly staged: SecretFields | undefined;
  /**
   * Versions whose keys must stay valid: AWSCURRENT's, AWSPREVIOUS's while its grace period
   * runs, and every other version on record still inside its grace period.
   */
  readonly keep: readonly S[];
  /**
   * Versions of this secret superseded for longer than the grace period (AWSPREVIOUS's once
   * its grace period is over, or any labelled version the strategy knows of): their keys were
   * this secret's, so a provider that must make room may delete them. A key that `keep` also
   * holds is never deleted. Absent: none.
   */
  readonly superseded?: readonly S[];
  readonly context: ProviderContext;
}

/** Input of {@link ApiKeyProvider.test}. */
export interface TestInput<S> {
  /** The pending value: every key in it must work. */
  readonly value: S;
  readonly context: ProviderContext;
}

/** Input of {@link ApiKeyProvider.revoke}. */
export interface RevokeInput<S> {
  /** The superseded value whose keys are to be revoked. */
  readonly old: S;
  /** AWSCURRENT's value: none of its keys may be revoked. */
  readonly current: S;
  /**
   * Every value whose keys must stay valid, AWSCURRENT's included: AWSPENDING's, AWSPREVIOUS's
   * and any other version still inside its grace period. A key any of them holds is never
   * revoked, even when `old` holds it too (a value restored by hand shares its keys).
   * `current` is kept whether or not it is listed here.
   */
  readonly keep?: readonly S[];
  /**
   * The id of the version `old` is (the token of the rotation that created its keys). A
   * provider that proves ownership by a marker derived from the secret and that token (Resend's
   * key name, Google's key id) needs it: without it such a key is unproven, and its revocation
   * is left to a person (a `manual` reminder).
   */
  readonly oldVersionId?: string;
  readonly context: ProviderContext;
}

/** What a revocation did, for logs and the compliance report: key ids, never keys. */
export interface RevokeOutcome {
  /** Ids of keys revoked (or found already revoked). */
  readonly revoked: readonly string[];
  /** What a person must still do by hand, e.g. "delete the old Clerk secret key sk_live_…abcd in the dashboard". */
  readonly manual: readonly string[];
}

/**
 * One third-party key issuer. A provider is a small module: it validates its secret's
 * shape, issues a key, tests a key, revokes an old key. The shared API-key strategy does
 * the rest (grace periods, staged values, scheduling revocation, the rotation protocol).
 *
 * Every method is idempotent: Secrets Manager retries steps, and a step may have crashed
 * between the provider call and the Secrets Manager write.
 */
export interface ApiKeyProvider<S extends SecretFields = SecretFields> {
  /** Registry name, e.g. `resend`; also the fallback taken from a secret named `…/api-keys/resend`. */
  readonly name: string;
  /** Validates a version of the secret (a loose object: unknown fields are carried over). */
  readonly schema: z.ZodMiniType<S>;
  /**
   * Fields rotated from a staged value because no API issues them (e.g. Clerk's
   * `secret_key`). Empty or absent when the provider issues every key itself.
   */
  readonly stagedFields?: readonly string[];
  /**
   * Issues the new key(s) and returns the fields that change, including each key's id
   * (e.g. `api_key_id`) so that revocation knows what to revoke. A key created by an earlier
   * attempt of this rotation (same token) is reused or deleted, never left behind.
   */
  issue(input: IssueInput<S>): Promise<SecretFields>;
  /**
   * Deletes the keys of `created` that `stored` does not hold: this attempt lost the race to
   * store the pending value. Absent when `issue` creates nothing an attempt could lose
   * (a staged value, or a key id derived from the secret and token, which both attempts share).
   */
  discard?(input: DiscardInput<S>): Promise<void>;
  /**
   * Called by testSecret once the pending value is stored: deletes keys that this rotation
   * provably created (the provider's marker for this secret and token) and that the stored
   * value does not hold, i.e. leftovers of attempts that crashed or lost the race.
   */
  cleanup?(input: CleanupInput<S>): Promise<void>;
  /** Proves every key in the value works; throws {@link KeyTestFailedError} when one does not. */
  test(input: TestInput<S>): Promise<void>;
  /** Revokes the keys of `old` that `current` does not hold. Already revoked counts as done. */
  revoke(input: RevokeInput<S>): Promise<RevokeOutcome>;
  /**
   * What {@link revoke} will leave to a person (its `manual` reminders), known without any
   * call, so that finishSecret can say it at once rather than when the grace period ends.
   */
  manualRevocation?(old: S, current: S): readonly string[];
}
