import { countMetric, type MetricsSink, RotationMetric } from '../alerts/metrics.js';
import { awsErrorText } from '../logging/aws-error.js';
import { Stage } from '../rotation/constants.js';
import { MissingVersionError, RotationError } from '../rotation/errors.js';
import { parseJsonObject, parseSecretVersion } from '../rotation/parse.js';
import { type SecretDescription, type SecretStore, versionWithStage } from '../rotation/secret-store.js';
import type {
  CreateContext,
  DiscardContext,
  FinishContext,
  RotationStrategy,
  SecretFields,
  SecretVersion,
  SetOutcome,
  StepContext,
  TestContext,
} from '../rotation/strategy.js';
import type { SecretReader } from '../secrets/reader.js';
import { GracePeriodNotOverError } from './errors.js';
import { VersionsInUse } from './in-use.js';
import type { ApiKeyProvider, ProviderContext, RevokeOutcome } from './provider.js';
import type { RevocationScheduler } from './revocation.js';
import { STAGED_LABEL } from './staged.js';
import {
  assertRoomForRecords,
  type Supersession,
  type SupersessionRecords,
  supersessions,
} from './superseded.js';

/** Dependencies of {@link ApiKeyStrategy}. */
export interface ApiKeyStrategyOptions {
  readonly provider: ApiKeyProvider;
  /** Reads other secrets (admin keys, service accounts) and removes the staged label. */
  readonly store: SecretStore;
  /** Records on the secret when each version stopped being AWSCURRENT (the grace period's start). */
  readonly records: SupersessionRecords;
  /** Schedules the revocation of the superseded key when its grace period ends. */
  readonly scheduler: RevocationScheduler;
  /** How long a superseded key stays valid after it stopped being AWSCURRENT. */
  readonly gracePeriodMs: number;
  /**
   * Reads another secret (an admin key, a service account) by name or ARN: AWSCURRENT,
   * uncached, audited; `createWorkerSecretReader` from `shared/secrets` in production.
   */
  readonly readSecret: SecretReader;
  /** How long another attempt of a step may still be running (the function's timeout). Default 15 minutes. */
  readonly inFlightMs?: number;
  /** Counts revocations that are due but failed ({@link RotationMetric.REVOCATIONS_OVERDUE}). */
  readonly metrics?: MetricsSink;
  readonly now?: () => Date;
}

/**
 * Rotates third-party API keys with one {@link ApiKeyProvider}:
 * - createSecret first revokes a previous key whose grace period is over (so none is
 *   forgotten), takes a staged value for keys no API issues, and has the provider issue
 *   the new key while keeping AWSCURRENT's (and a previous key still in its grace period);
 * - setSecret has nothing to do: an issued key is live at the provider;
 * - testSecret has the provider prove the new key works;
 * - after finishSecret, the staged label is removed, the moment the old version stopped
 *   being AWSCURRENT is recorded on the secret (tag `rotation-superseded:<version id>`), and
 *   the old key's revocation is scheduled for the end of its grace period, which runs from
 *   that moment (or done at once when the period is zero).
 * A key is revoked only when a version of this secret held it and its grace period is over
 * by the record; a version without a record starts its grace period when first seen. A key
 * that a version still in use holds (AWSCURRENT, AWSPENDING, AWSPREVIOUS, or any version on
 * record inside its grace period) is never revoked, even when the old version holds it too:
 * every revocation and every issue is told them all (`keep`).
 * Nothing is revoked before the new key has passed its test, and a read any of these
 * decisions depends on that fails, fails the step.
 */
export class ApiKeyStrategy implements RotationStrategy<SecretFields> {
  readonly kind: string;
  readonly schema: ApiKeyProvider['schema'];
  readonly #provider: ApiKeyProvider;
  readonly #store: SecretStore;
  readonly #records: SupersessionRecords;
  readonly #scheduler: RevocationScheduler;
  readonly #graceMs: number;
  readonly #readSecret: SecretReader;
  readonly #inFlightMs: number;
  readonly #metrics: MetricsSink | undefined;
  readonly #now: () => Date;
  readonly #inUse: VersionsInUse;

  constructor(options: ApiKeyStrategyOptions) {
    this.#provider = options.provider;
    this.#store = options.store;
    this.#records = options.records;
    this.#scheduler = options.scheduler;
    this.#graceMs = options.gracePeriodMs;
    this.#readSecret = options.readSecret;
    this.#inFlightMs = options.inFlightMs ?? 15 * 60_000;
    this.#metrics = options.metrics;
    this.#now = options.now ?? (() => new Date());
    this.kind = `api-key:${options.provider.name}`;
    this.schema = options.provider.schema;
    this.#inUse = new VersionsInUse({
      store: this.#store,
      parser: this,
      gracePeriodMs: this.#graceMs,
      now: this.#now,
    });
  }

  async createPending(context: CreateContext<SecretFields>): Promise<SecretFields> {
    const { current, logger } = context;
    // Before anything is created: this rotation must be able to record its supersessions.
    assertRoomForRecords(context.secret, current.versionId, this.#graceMs, this.#now());
    const providerContext = this.#providerContext(context);
    const previous = await this.#readPrevious(context);
    let keepPrevious = false;
    if (previous) {
      const since = await this.#supersededSince(context, previous.versionId, current.versionId);
      const endsAt = new Date(since.getTime() + this.#graceMs);
      keepPrevious = this.#now() < endsAt;
      if (keepPrevious) {
        logger.info('previous key kept: its grace period is not over', {
          versionId: previous.versionId,
          graceEndsAt: endsAt.toISOString(),
        });
      }
    }
    const gone = previous && !keepPrevious ? previous : undefined;
    const keep = await this.#inUse.values(context, {
      labelled: previous && !gone ? [current, previous] : [current],
      ...(gone ? { excluding: gone.versionId } : {}),
    });
    if (gone) await this.#revoke(gone, current.value, keep, providerContext);
    const staged = await this.#staged(context, current.fields);
    return this.#provider.issue({
      current: current.value,
      staged,
      keep,
      // Past its grace period (and revoked just above): the provider may delete its key to make room.
      superseded: gone ? [gone.value] : [],
      context: providerContext,
    });
  }

  async setPending(): Promise<SetOutcome> {
    // An issued key is live at the provider as soon as it exists.
    return 'applied';
  }

  /** Removes keys this rotation left behind (crashed or losing attempts), then proves the stored key works. */
  async testPending(context: TestContext<SecretFields>): Promise<void> {
    const providerContext = this.#providerContext(context);
    await this.#provider.cleanup?.({ value: context.pending.value, context: providerContext });
    await this.#provider.test({ value: context.pending.value, context: providerContext });
  }

  /** Another attempt stored its pending value first: the provider deletes what this attempt created. */
  async discardPending(context: DiscardContext<SecretFields>): Promise<void> {
    await this.#provider.discard?.({
      created: context.created,
      stored: context.stored.value,
      context: this.#providerContext(context),
    });
  }

  /**
   * After AWSCURRENT moved: removes the staged label, records when the previous version
   * stopped being AWSCURRENT (now: the label has moved), schedules its revocation for the end
   * of its grace period (or revokes at once when the period is zero), then repairs what
   * earlier rotations left: a recorded superseded version whose grace period is over is
   * revoked, one still in its grace period has its schedule made again. The repair never
   * fails the finish: what it cannot do is logged, counted and left on record.
   * @throws {MissingVersionError} when the superseded version could not be read.
   */
  async afterFinish(context: FinishContext<SecretFields>): Promise<void> {
    const { secret, token, previous, logger } = context;
    const stagedId = versionWithStage(secret, STAGED_LABEL);
    if (stagedId) {
      await this.#store.removeStage(secret.arn, STAGED_LABEL, stagedId);
      logger.info('staged label removed', { versionId: stagedId });
    }
    const supersededId = supersededAtFinish(secret, token);
    if (supersededId && previous?.versionId !== supersededId) {
      throw new MissingVersionError(
        `version ${supersededId} of secret ${secret.name}, which finishSecret superseded, could not be read: ` +
          'the revocation of its keys cannot be scheduled; retry finishSecret',
      );
    }
    const records = supersessions(secret);
    if (previous) await this.#supersede(context, previous, records.get(previous.versionId));
    await this.#repair(context, records);
  }

  /**
   * Revokes a superseded version's keys for the revoke input, once its grace period is over
   * (as recorded on the secret) or when `force` is set (logged as a warning).
   * @throws {GracePeriodNotOverError} saying when the period ends and how to force.
   */
  async revokeVersion(
    context: StepContext,
    old: SecretVersion<SecretFields>,
    current: SecretVersion<SecretFields>,
    options: { readonly force?: boolean } = {},
  ): Promise<RevokeOutcome> {
    const { secret, logger } = context;
    const record = supersessions(secret).get(old.versionId);
    const isPrevious = (secret.versions[old.versionId] ?? []).includes(Stage.PREVIOUS);
    // AWSPREVIOUS's record counts only if it names AWSCURRENT as the version that took over.
    const since = record && (!isPrevious || record.by === current.versionId) ? record.at : undefined;
    const endsAt = since && new Date(since.getTime() + this.#graceMs);
    const over = this.#graceMs <= 0 || (endsAt !== undefined && this.#now() >= endsAt);
    if (!over) {
      if (!options.force) throw gracePeriodNotOver(secret.name, old.versionId, since, endsAt);
      logger.warn('revoking keys inside their grace period: forced by the revoke input', {
        versionId: old.versionId,
        graceEndsAt: endsAt?.toISOString() ?? 'unknown (no record)',
      });
    }
    const labelled = await this.#inUse.labelled(
      context,
      [Stage.PENDING, Stage.PREVIOUS],
      [old.versionId, current.versionId],
    );
    const keep = await this.#inUse.values(context, {
      labelled: [current, ...labelled],
      excluding: old.versionId,
    });
    const outcome = await this.#revoke(old, current.value, keep, this.#providerContext(context));
    // AWSPREVIOUS keeps its record: the next createSecret reads it to let the key go.
    if (record && !isPrevious) await this.#records.remove(secret.arn, [old.versionId]);
    return outcome;
  }

  /** Has the provider revoke `old`'s keys, except any that a value in `keep` holds. */
  async #revoke(
    old: SecretVersion<SecretFields>,
    current: SecretFields,
    keep: readonly SecretFields[],
    context: ProviderContext,
  ): Promise<RevokeOutcome> {
    const { versionId } = old;
    const outcome = await this.#provider.revoke({
      old: old.value,
      current,
      keep,
      oldVersionId: versionId,
      context,
    });
    if (outcome.revoked.length > 0)
      context.logger.info('previous key revoked', { versionId, keys: outcome.revoked });
    for (const reminder of outcome.manual)
      context.logger.warn('previous key needs revoking by hand', { versionId, reminder });
    return outcome;
  }

  /**
   * AWSPREVIOUS, parsed, or undefined when no version carries the label. A failed read fails
   * the step: the previous key may still be in its grace period, and is never decided on
   * as if it were absent.
   */
  async #readPrevious(
    context: CreateContext<SecretFields>,
  ): Promise<SecretVersion<SecretFields> | undefined> {
    const id = versionWithStage(context.secret, Stage.PREVIOUS);
    if (!id) return undefined;
    const previous = await context.readStage(Stage.PREVIOUS);
    if (previous) return previous;
    const name = context.secret.name;
    throw new MissingVersionError(
      `the AWSPREVIOUS version ${id} of secret ${name} holds no value: its keys may still be in their grace period, ` +
        'so no key was created or revoked. If they are revoked already, remove the label ' +
        `(aws secretsmanager update-secret-version-stage --secret-id ${name} --version-stage AWSPREVIOUS --remove-from-version-id ${id}) and retry`,
    );
  }

  /**
   * When AWSPREVIOUS stopped being AWSCURRENT, from its record. Without a record naming
   * AWSCURRENT as its successor (superseded by hand, or by an older release), the grace
   * period starts now: the start is recorded, and the key is kept until it ends.
   */
  async #supersededSince(context: StepContext, previousId: string, currentId: string): Promise<Date> {
    const record = supersessions(context.secret).get(previousId);
    if (record?.by === currentId) return record.at;
    const now = this.#now();
    await this.#records.write(context.secret.arn, { versionId: previousId, at: now, by: currentId });
    context.logger.warn(
      'no record of when AWSPREVIOUS stopped being AWSCURRENT; its grace period starts now',
      { versionId: previousId, graceEndsAt: new Date(now.getTime() + this.#graceMs).toISOString() },
    );
    return now;
  }

  /** Records the previous version's supersession, then schedules (or does) its revocation. */
  async #supersede(
    context: FinishContext<SecretFields>,
    previous: SecretVersion<SecretFields>,
    existing: Supersession | undefined,
  ): Promise<void> {
    const { secret, token, logger } = context;
    // Now is no earlier than the move of AWSCURRENT; a later time already recorded for the
    // same move (a resumed finish on a skewed clock) wins.
    const now = this.#now();
    const at = existing?.by === token && existing.at > now ? existing.at : now;
    await this.#records.write(secret.arn, { versionId: previous.versionId, at, by: token });
    if (this.#graceMs <= 0) {
      const keep = await this.#inUse.values(context, {
        labelled: [context.current],
        excluding: previous.versionId,
      });
      await this.#revoke(previous, context.current.value, keep, this.#providerContext(context));
      return;
    }
    const endsAt = new Date(at.getTime() + this.#graceMs);
    await this.#scheduler.schedule(
      { action: 'revoke', SecretId: secret.arn, VersionId: previous.versionId },
      endsAt,
    );
    logger.info('revocation of the previous key scheduled', {
      versionId: previous.versionId,
      supersededAt: at.toISOString(),
      graceEndsAt: endsAt.toISOString(),
    });
    for (const reminder of this.#provider.manualRevocation?.(previous.value, context.current.value) ?? []) {
      logger.warn('previous key needs revoking by hand when its grace period ends', {
        versionId: previous.versionId,
        dueAt: endsAt.toISOString(),
        reminder,
      });
    }
  }

  /**
   * Older superseded versions still on record (their schedule failed or was lost, or a
   * rotation came within their grace period): revoked when their grace period is over,
   * else scheduled again (the later time wins). A record of the version now AWSCURRENT
   * (rolled back, then rotated again) is dropped.
   *
   * AWSCURRENT has already moved, so none of this may fail the finish: a version whose
   * revocation fails (for good, or for now) is logged at error with the reason, counted as
   * overdue ({@link RotationMetric.REVOCATIONS_OVERDUE}), and keeps its record, so that the
   * next rotation, or a revoke input, tries again. Nothing is revoked on a failed read.
   */
  async #repair(context: FinishContext<SecretFields>, records: Map<string, Supersession>): Promise<void> {
    const { secret, token, logger, current, previous } = context;
    const done: string[] = [];
    const due: Supersession[] = [];
    for (const record of records.values()) {
      if (record.versionId === previous?.versionId) continue;
      if (record.versionId === token) {
        done.push(record.versionId);
        continue;
      }
      const endsAt = new Date(record.at.getTime() + this.#graceMs);
      if (this.#now() >= endsAt) {
        due.push(record);
        continue;
      }
      const request = { action: 'revoke' as const, SecretId: secret.arn, VersionId: record.versionId };
      await this.#scheduler.schedule(request, endsAt).catch((error: unknown) =>
        // Its own schedule (made when it was superseded) may still stand; the next finish tries again.
        logger.error('revocation of an older superseded version not scheduled again', {
          versionId: record.versionId,
          graceEndsAt: endsAt.toISOString(),
          reason: reasonOf(error),
        }),
      );
    }
    if (due.length > 0) {
      const keep = await this.#inUse
        .values(context, {
          labelled: previous ? [current, previous] : [current],
        })
        .catch((error: unknown) => error as Error);
      for (const record of due) {
        if (keep instanceof Error) {
          this.#overdue(context, record, keep);
          continue;
        }
        try {
          const raw = await this.#store.getVersion(secret.arn, record.versionId);
          if (raw === undefined) {
            logger.warn(
              'a superseded version was deleted before its keys were revoked; check the provider by hand',
              { versionId: record.versionId },
            );
          } else {
            const old = parseSecretVersion(this, secret.name, record.versionId, 'superseded', raw);
            await this.#revoke(old, current.value, keep, this.#providerContext(context));
          }
          done.push(record.versionId);
        } catch (error) {
          this.#overdue(context, record, error);
        }
      }
    }
    await this.#records.remove(secret.arn, done);
  }

  /** Logs and counts a due revocation that failed; its record stays for the next attempt. */
  #overdue(context: StepContext, record: Supersession, error: unknown): void {
    context.logger.error(
      "superseded version's keys not revoked; its record is kept, and the next rotation tries again",
      {
        versionId: record.versionId,
        supersededAt: record.at.toISOString(),
        graceEndedAt: new Date(record.at.getTime() + this.#graceMs).toISOString(),
        reason: reasonOf(error),
      },
    );
    countMetric(this.#metrics, RotationMetric.REVOCATIONS_OVERDUE);
  }

  /** The staged fields that differ from AWSCURRENT's, if the provider rotates any from a staged value. */
  async #staged(
    context: CreateContext<SecretFields>,
    current: SecretFields,
  ): Promise<SecretFields | undefined> {
    const fields = this.#provider.stagedFields ?? [];
    if (fields.length === 0) return undefined;
    const id = versionWithStage(context.secret, STAGED_LABEL);
    if (!id) return undefined;
    const raw = await this.#store.getVersion(context.secret.arn, id);
    if (raw === undefined) {
      // Labelled but unreadable: never rotate as if nothing were staged.
      throw new MissingVersionError(
        `the ${STAGED_LABEL} version ${id} of secret ${context.secret.name} holds no value: stage the new value again`,
      );
    }
    const staged = parseJsonObject(raw, `the ${STAGED_LABEL} version ${id} of secret ${context.secret.name}`);
    const changed = Object.fromEntries(
      Object.entries(staged).filter(([field, value]) => value !== current[field]),
    );
    if (!fields.some((field) => field in changed)) {
      context.logger.warn('staged value is the current value; ignored', { versionId: id });
      return undefined;
    }
    return changed;
  }

  #providerContext(context: StepContext): ProviderContext {
    return {
      secret: context.secret,
      token: context.token,
      logger: context.logger,
      now: this.#now(),
      inFlightMs: this.#inFlightMs,
      rotationStartedAt: () => this.#store.versionCreatedDate(context.secret.arn, context.token),
      readSecret: this.#readSecret,
    };
  }
}

/**
 * The version a finishSecret superseded: AWSCURRENT as the step found it, or AWSPREVIOUS
 * when the label had already moved (a resumed finish).
 */
function supersededAtFinish(secret: SecretDescription, token: string): string | undefined {
  const current = versionWithStage(secret, Stage.CURRENT);
  return current && current !== token ? current : versionWithStage(secret, Stage.PREVIOUS);
}

/** Why a step failed, for a log line: this product's messages, only the name of any other error. */
function reasonOf(error: unknown): string {
  return error instanceof RotationError ? `${error.name}: ${error.message}` : awsErrorText(error);
}

function gracePeriodNotOver(
  secretName: string,
  versionId: string,
  since: Date | undefined,
  endsAt: Date | undefined,
): GracePeriodNotOverError {
  const force = `To revoke now anyway, send the same input with "force": true.`;
  return new GracePeriodNotOverError(
    since && endsAt
      ? `version ${versionId} of secret ${secretName} stopped being AWSCURRENT at ${since.toISOString()}: ` +
          `its keys may be in use until its grace period ends at ${endsAt.toISOString()}, when its scheduled revocation runs. ${force}`
      : `there is no record of when version ${versionId} of secret ${secretName} stopped being AWSCURRENT ` +
          '(superseded by hand, or by an older release), so its grace period cannot be shown to be over; ' +
          `the next rotation starts it. ${force}`,
    endsAt ? { endsAt } : {},
  );
}
