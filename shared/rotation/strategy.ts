import type * as z from '../zod.js';
import type { SecretDescription } from './secret-store.js';

/** A secret value as stored: a JSON object whose unknown fields are carried over. */
export type SecretFields = Record<string, unknown>;

/** A parsed secret version: the strategy's typed view and the raw fields it came from. */
export interface SecretVersion<T> {
  readonly versionId: string;
  readonly value: T;
  readonly fields: SecretFields;
}

/** A minimal structured logger; the Powertools Logger satisfies it. */
export interface RotationLogger {
  debug(message: string, ...attributes: Record<string, unknown>[]): void;
  info(message: string, ...attributes: Record<string, unknown>[]): void;
  warn(message: string, ...attributes: Record<string, unknown>[]): void;
  error(message: string, ...attributes: Record<string, unknown>[]): void;
  appendKeys(keys: Record<string, unknown>): void;
  removeKeys(keys: string[]): void;
}

/** What every step tells a strategy. */
export interface StepContext {
  readonly secret: SecretDescription;
  /** The ClientRequestToken: the version id of the pending value. */
  readonly token: string;
  readonly logger: RotationLogger;
}

/**
 * Reads and parses the version of the secret that carries a staging label; `undefined` only
 * when no version carries it. A labelled version that cannot be read, holds no value or does
 * not parse throws (a step never decides as if it were absent).
 */
export type VersionReader<T> = (stage: string) => Promise<SecretVersion<T> | undefined>;

/** Input of {@link RotationStrategy.createPending}. */
export interface CreateContext<T> extends StepContext {
  readonly current: SecretVersion<T>;
  readonly readStage: VersionReader<T>;
}

/** Input of {@link RotationStrategy.setPending}. */
export interface SetContext<T> extends StepContext {
  readonly current: SecretVersion<T>;
  readonly pending: SecretVersion<T>;
  readonly readStage: VersionReader<T>;
}

/** Input of {@link RotationStrategy.testPending}. */
export interface TestContext<T> extends StepContext {
  readonly pending: SecretVersion<T>;
}

/** Input of {@link RotationStrategy.afterFinish}. */
export interface FinishContext<T> extends StepContext {
  /** The version just made AWSCURRENT (the token's). */
  readonly current: SecretVersion<T>;
  /**
   * The version that was AWSCURRENT before, now AWSPREVIOUS; `undefined` only when there was
   * none. When it cannot be read or parsed, the step fails instead (and is retried).
   */
  readonly previous: SecretVersion<T> | undefined;
}

/**
 * Input of {@link RotationStrategy.discardPending}: this attempt's createPending made a new
 * credential, but another attempt of the same step stored a different pending value first.
 */
export interface DiscardContext<T> extends StepContext {
  /** The fields this attempt's createPending returned and failed to store. */
  readonly created: SecretFields;
  /** The pending value another attempt stored for the token: its credential is the one that stays. */
  readonly stored: SecretVersion<T>;
}

/** How setSecret ended. */
export type SetOutcome = 'applied' | 'already-applied';

/**
 * The credential-specific half of a rotation. The engine runs the protocol (guard,
 * staging labels, idempotency, `rotated_at`) and calls these; a new kind of credential is
 * one more implementation of this interface, with no change to the engine.
 *
 * Every method must be idempotent: Secrets Manager retries steps, and a step may have
 * crashed half-way the last time.
 */
export interface RotationStrategy<T> {
  /** A short name for logs, e.g. `postgres-single-user`. */
  readonly kind: string;
  /** Validates a secret's fields and builds the typed view. Messages must not echo values. */
  readonly schema: z.ZodMiniType<T>;
  /**
   * Called as createSecret starts, before the guard has answered: a strategy may begin
   * work without side effects that createPending will need (generating a password), so it
   * overlaps the guard's round trip. Must not touch the target system.
   */
  prepare?(token: string): void;
  /**
   * Returns the fields that change in the pending version (a new password, a new key).
   * The engine carries every other field over and stamps `rotated_at`.
   */
  createPending(context: CreateContext<T>): Promise<SecretFields>;
  /**
   * Removes the credential this attempt created when another attempt stored its own pending
   * value first (two attempts of createSecret at once). Must remove only what `created`
   * holds and `stored` does not: the stored credential is the one the rotation goes on with.
   */
  discardPending?(context: DiscardContext<T>): Promise<void>;
  /** Makes the target system accept the pending credential (AWSCURRENT's must keep working where it can). */
  setPending(context: SetContext<T>): Promise<SetOutcome>;
  /** Proves the pending credential works; throws when it cannot prove it. */
  testPending(context: TestContext<T>): Promise<void>;
  /** Work after the pending version became AWSCURRENT, e.g. scheduling revocation of the old key. */
  afterFinish?(context: FinishContext<T>): Promise<void>;
}
