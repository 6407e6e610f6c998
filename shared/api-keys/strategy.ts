import { Stage } from '../rotation/constants.js';
import { MalformedSecretError } from '../rotation/errors.js';
import { parseJsonObject } from '../rotation/parse.js';
import { type SecretStore, versionWithStage } from '../rotation/secret-store.js';
import type {
  CreateContext,
  DiscardContext,
  FinishContext,
  RotationStrategy,
  SecretFields,
  SetOutcome,
  StepContext,
  TestContext,
} from '../rotation/strategy.js';
import type { ApiKeyProvider, ProviderContext, RevokeOutcome } from './provider.js';
import type { RevocationScheduler } from './revocation.js';
import { STAGED_LABEL } from './staged.js';

/** Dependencies of {@link ApiKeyStrategy}. */
export interface ApiKeyStrategyOptions {
  readonly provider: ApiKeyProvider;
  /** Reads other secrets (admin keys, service accounts) and removes the staged label. */
  readonly store: SecretStore;
  /** Schedules the revocation of the superseded key when its grace period ends. */
  readonly scheduler: RevocationScheduler;
  /** How long a superseded key stays valid after finishSecret. */
  readonly gracePeriodMs: number;
  /** How long another attempt of a step may still be running (the function's timeout). Default 15 minutes. */
  readonly inFlightMs?: number;
  readonly now?: () => Date;
}

/**
 * Rotates third-party API keys with one {@link ApiKeyProvider}:
 * - createSecret first revokes a previous key whose grace period is over (so none is
 *   forgotten), takes a staged value for keys no API issues, and has the provider issue
 *   the new key while keeping AWSCURRENT's (and a previous key still in its grace period);
 * - setSecret has nothing to do: an issued key is live at the provider;
 * - testSecret has the provider prove the new key works;
 * - after finishSecret, the staged label is removed and the old key's revocation is
 *   scheduled for the end of its grace period (or done at once when the period is zero).
 * Nothing is revoked before the new key has passed its test.
 */
export class ApiKeyStrategy implements RotationStrategy<SecretFields> {
  readonly kind: string;
  readonly schema: ApiKeyProvider['schema'];
  readonly #provider: ApiKeyProvider;
  readonly #store: SecretStore;
  readonly #scheduler: RevocationScheduler;
  readonly #graceMs: number;
  readonly #inFlightMs: number;
  readonly #now: () => Date;

  constructor(options: ApiKeyStrategyOptions) {
    this.#provider = options.provider;
    this.#store = options.store;
    this.#scheduler = options.scheduler;
    this.#graceMs = options.gracePeriodMs;
    this.#inFlightMs = options.inFlightMs ?? 15 * 60_000;
    this.#now = options.now ?? (() => new Date());
    this.kind = `api-key:${options.provider.name}`;
    this.schema = options.provider.schema;
  }

  async createPending(context: CreateContext<SecretFields>): Promise<SecretFields> {
    const { current, readStage } = context;
    const providerContext = this.#providerContext(context);
    const previous = await readStage(Stage.PREVIOUS).catch((error: unknown) => {
      context.logger.warn('AWSPREVIOUS is unreadable; its keys are left alone', {
        error: (error as Error).message,
      });
      return undefined;
    });
    const previousInGrace = previous !== undefined && !this.#graceOver(current.fields, context);
    if (previous && !previousInGrace) {
      await this.#revoke(previous.value, current.value, providerContext, previous.versionId);
    }
    const staged = await this.#staged(context, current.fields);
    return this.#provider.issue({
      current: current.value,
      staged,
      keep: previousInGrace && previous ? [current.value, previous.value] : [current.value],
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

  async afterFinish(context: FinishContext<SecretFields>): Promise<void> {
    const { secret, previous, logger } = context;
    const stagedId = versionWithStage(secret, STAGED_LABEL);
    if (stagedId) {
      await this.#store.removeStage(secret.arn, STAGED_LABEL, stagedId);
      logger.info('staged label removed', { versionId: stagedId });
    }
    if (!previous) return;
    if (this.#graceMs <= 0) {
      await this.#revoke(
        previous.value,
        context.current.value,
        this.#providerContext(context),
        previous.versionId,
      );
      return;
    }
    const at = new Date(this.#now().getTime() + this.#graceMs);
    await this.#scheduler.schedule(
      { action: 'revoke', SecretId: secret.arn, VersionId: previous.versionId },
      at,
    );
    logger.info('revocation of the previous key scheduled', {
      versionId: previous.versionId,
      at: at.toISOString(),
    });
    for (const reminder of this.#provider.manualRevocation?.(previous.value, context.current.value) ?? []) {
      logger.warn('previous key needs revoking by hand when its grace period ends', {
        versionId: previous.versionId,
        dueAt: at.toISOString(),
        reminder,
      });
    }
  }

  /** Revokes a superseded version's keys now; used by createSecret and the revoke input. */
  async revokeVersion(
    context: StepContext,
    old: { versionId: string; value: SecretFields },
    current: SecretFields,
  ): Promise<RevokeOutcome> {
    return this.#revoke(old.value, current, this.#providerContext(context), old.versionId);
  }

  async #revoke(
    old: SecretFields,
    current: SecretFields,
    context: ProviderContext,
    versionId: string,
  ): Promise<RevokeOutcome> {
    const outcome = await this.#provider.revoke({ old, current, context });
    if (outcome.revoked.length > 0)
      context.logger.info('previous key revoked', { versionId, keys: outcome.revoked });
    for (const reminder of outcome.manual)
      context.logger.warn('previous key needs revoking by hand', { versionId, reminder });
    return outcome;
  }

  /** Whether the previous key's grace period is over: it began when AWSCURRENT was made. */
  #graceOver(current: SecretFields, context: CreateContext<SecretFields>): boolean {
    const stamped = typeof current.rotated_at === 'string' ? Date.parse(current.rotated_at) : Number.NaN;
    const since = Number.isFinite(stamped) ? stamped : context.secret.lastRotatedDate?.getTime();
    // No record of when it was superseded: it predates this product's rotations, so it is overdue.
    return since === undefined || this.#now().getTime() >= since + this.#graceMs;
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
    if (raw === undefined) return undefined;
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
      readSecret: async (secretId) => {
        const value = await this.#store.getStage(secretId, Stage.CURRENT);
        if (!value) throw new MalformedSecretError(`secret ${secretId} has no AWSCURRENT value`);
        return parseJsonObject(value.value, `the AWSCURRENT version of secret ${secretId}`);
      },
    };
  }
}
