import { awsErrorText } from '../logging/aws-error.js';
import { ROTATED_AT_FIELD, Stage, type StepName } from './constants.js';
import {
  MalformedSecretError,
  MissingVersionError,
  PendingNotVerifiedError,
  PendingValueInvalidError,
  RotationError,
  RotationNotEnabledError,
  UnknownVersionError,
  VersionNotPendingError,
} from './errors.js';
import type { RotationEvent } from './event.js';
import { parseSecretVersion } from './parse.js';
import { type SecretDescription, type SecretStore, versionWithStage } from './secret-store.js';
import type {
  RotationLogger,
  RotationStrategy,
  SecretFields,
  SecretVersion,
  StepContext,
} from './strategy.js';

/** How a step ended. */
export const StepOutcome = {
  /** The step did its work. */
  DONE: 'done',
  /** A retry found the step's work already done and changed nothing. */
  ALREADY_DONE: 'already-done',
  /** The token's version is already AWSCURRENT: the rotation is over. */
  ALREADY_CURRENT: 'already-current',
} as const;

/** One of {@link StepOutcome}'s values. */
export type StepOutcome = (typeof StepOutcome)[keyof typeof StepOutcome];

/** What a step returns: identifiers only, never a value. */
export interface StepResult {
  readonly step: StepName;
  readonly secretName: string;
  readonly versionId: string;
  readonly outcome: StepOutcome;
}

/** Dependencies of {@link RotationEngine}. */
export interface RotationEngineOptions<T> {
  readonly store: SecretStore;
  /**
   * The credential kind's strategy, or a function choosing one for each secret (from its
   * name or tags); the function is called once a step has described the secret.
   */
  readonly strategy: RotationStrategy<T> | ((secret: SecretDescription) => RotationStrategy<T>);
  readonly logger: RotationLogger;
  /** Clock for `rotated_at`; defaults to the system clock. */
  readonly now?: () => Date;
}

/** Reads started before the guard, for the step to use. */
interface Prefetched {
  readonly pending?: Promise<string | undefined>;
  readonly current?: Promise<{ versionId: string; value: string } | undefined>;
}

const LOG_KEYS = ['secretId', 'secretName', 'step', 'clientRequestToken', 'credentialKind'];

/**
 * The Secrets Manager rotation protocol, written once for every kind of credential.
 *
 * Each step first checks the secret (rotation enabled, the token a version of it, staged
 * AWSPENDING; already AWSCURRENT means the rotation is over and the step does nothing),
 * then does its part, idempotently:
 * - createSecret stores the pending value (every field carried over, `rotated_at` stamped)
 *   unless the token's version already holds one;
 * - setSecret and testSecret hand the parsed versions to the strategy;
 * - finishSecret reads the token's version and refuses it when it holds no value or one that
 *   does not parse ({@link PendingValueInvalidError}) or when its credential fails the
 *   strategy's test ({@link PendingNotVerifiedError}: setSecret may never have applied it),
 *   reads the version it replaces (for the after-finish work), then moves AWSCURRENT, runs
 *   the strategy's after-finish work and removes AWSPENDING. A retried finish whose version
 *   is already AWSCURRENT but still carries AWSPENDING resumes where the last attempt stopped
 *   (no test: the label has moved, and applications already read that version).
 *
 * A read a decision depends on never counts a failure as "absent": the step fails, and
 * Secrets Manager retries it.
 */
export class RotationEngine<T> {
  readonly #store: SecretStore;
  readonly #fixed: RotationStrategy<T> | undefined;
  readonly #resolve: (secret: SecretDescription) => RotationStrategy<T>;
  readonly #logger: RotationLogger;
  readonly #now: () => Date;

  constructor(options: RotationEngineOptions<T>) {
    this.#store = options.store;
    const { strategy } = options;
    this.#fixed = typeof strategy === 'function' ? undefined : strategy;
    this.#resolve = typeof strategy === 'function' ? strategy : () => strategy;
    this.#logger = options.logger;
    this.#now = options.now ?? (() => new Date());
  }

  /** Runs one step of a rotation for a validated event. */
  async run(event: RotationEvent): Promise<StepResult> {
    const token = event.ClientRequestToken;
    this.#logger.appendKeys({
      secretId: event.SecretId,
      step: event.Step,
      clientRequestToken: token,
      ...(this.#fixed ? { credentialKind: this.#fixed.kind } : {}),
    });
    try {
      // Reads that do not depend on the guard's answer start alongside it: one round trip, not two.
      const prefetched = this.#prefetch(event);
      const secret = await this.#store.describe(event.SecretId);
      const strategy = this.#resolve(secret);
      this.#logger.appendKeys({ secretName: secret.name, credentialKind: strategy.kind });
      const result = (outcome: StepOutcome): StepResult => ({
        step: event.Step,
        secretName: secret.name,
        versionId: token,
        outcome,
      });
      const stages = this.#guard(secret, token);
      if (stages.includes(Stage.CURRENT)) {
        if (event.Step === 'finishSecret' && stages.includes(Stage.PENDING)) {
          this.#logger.info('resuming an interrupted finishSecret');
          const previousId = versionWithStage(secret, Stage.PREVIOUS);
          const [current, previous] = await Promise.all([
            this.#readPromotable(strategy, secret, token, true),
            strategy.afterFinish && previousId
              ? this.#readVersion(strategy, secret, previousId, Stage.PREVIOUS)
              : undefined,
          ]);
          await this.#completeFinish(strategy, secret, token, current, previous);
          return result(StepOutcome.DONE);
        }
        this.#logger.info('version is already AWSCURRENT; nothing to do');
        return result(StepOutcome.ALREADY_CURRENT);
      }
      const outcome = await this.#runStep(strategy, event, secret, prefetched);
      this.#logger.info('step finished', { outcome });
      return result(outcome);
    } finally {
      this.#logger.removeKeys(LOG_KEYS);
    }
  }

  /** Starts the reads a step will need, before the guard; their failures surface when used. */
  #prefetch(event: RotationEvent): Prefetched {
    const quiet = <P>(promise: Promise<P>): Promise<P> => {
      promise.catch(() => undefined);
      return promise;
    };
    const { SecretId: id, ClientRequestToken: token } = event;
    switch (event.Step) {
      case 'createSecret':
        this.#fixed?.prepare?.(token);
        return {
          pending: quiet(this.#store.getVersion(id, token)),
          current: quiet(this.#store.getStage(id, Stage.CURRENT)),
        };
      case 'setSecret':
      case 'testSecret':
        return { pending: quiet(this.#store.getVersion(id, token)) };
      default:
        return {};
    }
  }

  async #runStep(
    strategy: RotationStrategy<T>,
    event: RotationEvent,
    secret: SecretDescription,
    prefetched: Prefetched,
  ): Promise<StepOutcome> {
    const token = event.ClientRequestToken;
    const context = { secret, token, logger: this.#logger };
    switch (event.Step) {
      case 'createSecret': {
        const [current, pendingValue] = await Promise.all([
          this.#readCurrent(strategy, secret, prefetched.current),
          prefetched.pending ?? this.#store.getVersion(secret.arn, token),
        ]);
        if (pendingValue !== undefined) {
          parseSecretVersion(strategy, secret.name, token, Stage.PENDING, pendingValue);
          this.#logger.info('pending version already exists');
          return StepOutcome.ALREADY_DONE;
        }
        const changes = await strategy.createPending({
          ...context,
          current,
          readStage: this.#reader(strategy, secret),
        });
        const fields: SecretFields = {
          ...current.fields,
          ...changes,
          [ROTATED_AT_FIELD]: this.#now()
            .toISOString()
            .replace(/\.\d{3}Z$/, 'Z'),
        };
        const serialized = JSON.stringify(fields);
        parseSecretVersion(strategy, secret.name, token, Stage.PENDING, serialized);
        return this.#storePending(strategy, context, changes, serialized, event.RotationToken);
      }
      case 'setSecret': {
        const [current, pending] = await Promise.all([
          this.#readCurrent(strategy, secret),
          this.#readVersion(strategy, secret, token, Stage.PENDING, prefetched.pending),
        ]);
        const outcome = await strategy.setPending({
          ...context,
          current,
          pending,
          readStage: this.#reader(strategy, secret),
        });
        return outcome === 'applied' ? StepOutcome.DONE : StepOutcome.ALREADY_DONE;
      }
      case 'testSecret': {
        const pending = await this.#readVersion(strategy, secret, token, Stage.PENDING, prefetched.pending);
        await strategy.testPending({ ...context, pending });
        return StepOutcome.DONE;
      }
      case 'finishSecret': {
        const currentId = versionWithStage(secret, Stage.CURRENT);
        // Everything the finish decides on is read before AWSCURRENT moves: a failed read changes nothing.
        const [pending, previous] = await Promise.all([
          this.#readPromotable(strategy, secret, token, false),
          strategy.afterFinish && currentId
            ? this.#readVersion(strategy, secret, currentId, Stage.CURRENT)
            : undefined,
        ]);
        await this.#verify(strategy, context, pending);
        await this.#store.moveStage(secret.arn, Stage.CURRENT, token, currentId);
        this.#logger.info('AWSCURRENT moved to the pending version', {
          versionId: token,
          previousVersionId: currentId,
        });
        await this.#completeFinish(strategy, secret, token, pending, previous);
        return StepOutcome.DONE;
      }
      default: {
        const unknown: never = event.Step;
        throw new Error(`unhandled step ${String(unknown)}`);
      }
    }
  }

  /**
   * Stores the pending value. When another attempt of createSecret stored a different value
   * first (AWS answers ResourceExistsException), or the write failed and a read shows another
   * value, this attempt's credential is discarded through the strategy and the stored one
   * stays. A write that failed but took effect (its answer lost) counts as stored. When the
   * outcome cannot be proven (the version is still empty, or unreadable), nothing is discarded
   * and the write's error is thrown: the write may still land, and a retry sorts it out.
   */
  async #storePending(
    strategy: RotationStrategy<T>,
    context: StepContext,
    created: SecretFields,
    serialized: string,
    rotationToken: string | undefined,
  ): Promise<StepOutcome> {
    const { secret, token } = context;
    let failure: unknown;
    try {
      if ((await this.#store.putPending(secret.arn, token, serialized, rotationToken)) === 'stored') {
        this.#logger.info('pending version stored', { versionId: token });
        return StepOutcome.DONE;
      }
    } catch (error) {
      failure = error;
    }
    const stored = await this.#store.getVersion(secret.arn, token).catch(() => undefined);
    if (stored === serialized) {
      this.#logger.info('pending version stored (the write failed after it took effect)', {
        versionId: token,
      });
      return StepOutcome.DONE;
    }
    if (stored === undefined) {
      if (failure !== undefined) throw failure;
      // ResourceExistsException, yet no value readable: cannot tell whose value it is.
      throw new MissingVersionError(
        `secret ${secret.name} refused the pending version ${token} as existing, but it holds no readable value; retry createSecret`,
      );
    }
    const winner = parseSecretVersion(strategy, secret.name, token, Stage.PENDING, stored);
    this.#logger.warn(
      "another attempt stored the pending version first; discarding this attempt's credential",
      {
        versionId: token,
      },
    );
    await strategy.discardPending?.({ ...context, created, stored: winner });
    return StepOutcome.ALREADY_DONE;
  }

  /**
   * The part of finishSecret after AWSCURRENT has moved: strategy work, then AWSPENDING
   * removed. `current` is the token's version; `previous` the one it replaced, read before
   * (never skipped because its read failed: the step fails instead, and is retried).
   */
  async #completeFinish(
    strategy: RotationStrategy<T>,
    secret: SecretDescription,
    token: string,
    current: SecretVersion<T>,
    previous: SecretVersion<T> | undefined,
  ): Promise<void> {
    await strategy.afterFinish?.({ secret, token, logger: this.#logger, current, previous });
    await this.#store.removeStage(secret.arn, Stage.PENDING, token);
    this.#logger.info('AWSPENDING removed; rotation complete', { versionId: token });
  }

  /**
   * Reads the token's version for finishSecret and refuses, with what to do, when it holds
   * no value or one that does not parse: AWSCURRENT must never name such a version.
   * `promoted` says whether AWSCURRENT is already on it (an interrupted finish).
   * A read that fails for another reason is thrown as it is, and the step is retried.
   */
  async #readPromotable(
    strategy: RotationStrategy<T>,
    secret: SecretDescription,
    token: string,
    promoted: boolean,
  ): Promise<SecretVersion<T>> {
    const label = promoted ? Stage.CURRENT : Stage.PENDING;
    try {
      return await this.#readVersion(strategy, secret, token, label);
    } catch (error) {
      if (!(error instanceof MissingVersionError || error instanceof MalformedSecretError)) throw error;
      const name = secret.name;
      const problem =
        error instanceof MissingVersionError
          ? `version ${token} of secret ${name} holds no value`
          : error.message;
      if (promoted) {
        const previousId = versionWithStage(secret, Stage.PREVIOUS);
        const fix = previousId
          ? `put AWSCURRENT back on the version it replaced: aws secretsmanager update-secret-version-stage --secret-id ${name} --version-stage AWSCURRENT --move-to-version-id ${previousId} --remove-from-version-id ${token}`
          : `store a valid value: aws secretsmanager put-secret-value --secret-id ${name} --secret-string file://value.json`;
        throw new PendingValueInvalidError(
          `${problem}, yet it is AWSCURRENT: applications reading the secret fail. finishSecret stops here; ${fix}`,
          { cause: error },
        );
      }
      const unlabel = `aws secretsmanager update-secret-version-stage --secret-id ${name} --version-stage AWSPENDING --remove-from-version-id ${token}`;
      const next =
        error instanceof MissingVersionError
          ? `It is the empty placeholder RotateSecret stages: createSecret has not run for this token, so no step has changed the credential. Run createSecret, setSecret and testSecret with this token first, then finishSecret; or abandon this rotation by removing the label (${unlabel})`
          : `No step applies a value that does not parse, so nothing was changed with it, and a version cannot be edited: remove the label (${unlabel}), then start a new rotation (aws secretsmanager rotate-secret --secret-id ${name})`;
      throw new PendingValueInvalidError(
        `finishSecret refuses to make version ${token} AWSCURRENT: ${problem}. AWSCURRENT is unchanged. ${next}`,
        { cause: error },
      );
    }
  }

  /**
   * Runs the strategy's test of the pending credential before finishSecret promotes it: a
   * value that parses may still be one the target never received (finishSecret run on its
   * own after setSecret failed). Any failure refuses, AWSCURRENT unchanged.
   * @throws {PendingNotVerifiedError} with the test's failure as `cause`.
   */
  async #verify(
    strategy: RotationStrategy<T>,
    context: StepContext,
    pending: SecretVersion<T>,
  ): Promise<void> {
    try {
      await strategy.testPending({ ...context, pending });
    } catch (error) {
      const { secret, token } = context;
      // This product's errors keep their messages; any other is named only (it may quote a value).
      const why = error instanceof RotationError ? `${error.name}: ${error.message}` : awsErrorText(error);
      throw new PendingNotVerifiedError(
        `finishSecret refuses to make version ${token} of secret ${secret.name} AWSCURRENT: its credential fails the test testSecret runs (${why}). ` +
          'AWSCURRENT is unchanged, and applications keep the credential that works. If setSecret has not completed for this token ' +
          '(it applies the credential), run setSecret and testSecret with it, then finishSecret; if the target was unreachable, retry. ' +
          'Never move AWSCURRENT to this version by hand.',
        { cause: error },
      );
    }
    this.#logger.info('pending credential tested before promotion', { versionId: context.token });
  }

  #guard(secret: SecretDescription, token: string): readonly string[] {
    if (!secret.rotationEnabled) {
      throw new RotationNotEnabledError(
        `rotation is not enabled for secret ${secret.name}: turn it on with \`aws secretsmanager rotate-secret --secret-id ${secret.name} --rotation-lambda-arn …\` before invoking a rotation step`,
      );
    }
    const stages = secret.versions[token];
    if (!stages) {
      throw new UnknownVersionError(
        `ClientRequestToken ${token} is not a version of secret ${secret.name}: a rotation starts with RotateSecret, which creates that version`,
      );
    }
    if (!stages.includes(Stage.CURRENT) && !stages.includes(Stage.PENDING)) {
      throw new VersionNotPendingError(
        `version ${token} of secret ${secret.name} is not staged AWSPENDING (its stages: ${stages.join(', ') || 'none'}): it belongs to an earlier rotation; start a new one`,
      );
    }
    return stages;
  }

  /** Reads AWSCURRENT as the guard saw it; a prefetched read by label is used when it is the same version. */
  async #readCurrent(
    strategy: RotationStrategy<T>,
    secret: SecretDescription,
    prefetched?: Promise<{ versionId: string; value: string } | undefined>,
  ): Promise<SecretVersion<T>> {
    const id = versionWithStage(secret, Stage.CURRENT);
    if (!id) throw new MissingVersionError(`secret ${secret.name} has no AWSCURRENT version to rotate from`);
    const early = await prefetched;
    const value = early?.versionId === id ? Promise.resolve(early.value) : undefined;
    return this.#readVersion(strategy, secret, id, Stage.CURRENT, value);
  }

  async #readVersion(
    strategy: RotationStrategy<T>,
    secret: SecretDescription,
    versionId: string,
    label: string,
    prefetched?: Promise<string | undefined>,
  ): Promise<SecretVersion<T>> {
    const raw = await (prefetched ?? this.#store.getVersion(secret.arn, versionId));
    if (raw === undefined) {
      throw new MissingVersionError(
        label === Stage.PENDING
          ? `the pending version ${versionId} of secret ${secret.name} holds no value: createSecret has not run for this token`
          : `version ${versionId} (${label}) of secret ${secret.name} holds no value`,
      );
    }
    return parseSecretVersion(strategy, secret.name, versionId, label, raw);
  }

  /**
   * Reads the version carrying `stage`: undefined only when no version carries it. A labelled
   * version that cannot be read, holds no value or does not parse throws: never "absent".
   */
  #reader(strategy: RotationStrategy<T>, secret: SecretDescription) {
    return async (stage: string): Promise<SecretVersion<T> | undefined> => {
      const id = versionWithStage(secret, stage);
      return id ? this.#readVersion(strategy, secret, id, stage) : undefined;
    };
  }
}
