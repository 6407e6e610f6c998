import { parseSecretVersion } from '../rotation/parse.js';
import { type SecretStore, versionWithStage } from '../rotation/secret-store.js';
import type { SecretFields, SecretVersion, StepContext } from '../rotation/strategy.js';
import type * as z from '../zod.js';
import { supersessions } from './superseded.js';

/** Dependencies of {@link VersionsInUse}. */
export interface VersionsInUseOptions {
  readonly store: SecretStore;
  /** Parses a version of the secret (the provider's schema, under the strategy's kind). */
  readonly parser: { readonly kind: string; readonly schema: z.ZodMiniType<SecretFields> };
  /** How long a superseded version stays in use after it stopped being AWSCURRENT. */
  readonly gracePeriodMs: number;
  readonly now: () => Date;
}

/**
 * Finds the values whose keys must stay valid while a superseded version's keys are revoked
 * (the `keep` every revocation and issue is told): the labelled versions in use and every
 * version on record still inside its grace period. A read any of them depends on that fails,
 * fails the step: a version is never taken as absent because it could not be read.
 */
export class VersionsInUse {
  readonly #options: VersionsInUseOptions;

  constructor(options: VersionsInUseOptions) {
    this.#options = options;
  }

  /**
   * The values whose keys must stay valid while `excluding`'s are revoked: `labelled` (the
   * versions in use, read by the caller, who knows which labels are current: in finishSecret
   * the description predates the move of AWSCURRENT) and every version on record whose grace
   * period is not over. A recorded version that no longer exists is left out (nothing can
   * read it); one that cannot be read or parsed fails the step.
   */
  async values(
    context: StepContext,
    options: { readonly labelled: readonly SecretVersion<SecretFields>[]; readonly excluding?: string },
  ): Promise<SecretFields[]> {
    const { secret } = context;
    const known = new Set(options.labelled.map((version) => version.versionId));
    if (options.excluding !== undefined) known.add(options.excluding);
    const now = this.#options.now().getTime();
    const inGrace = [...supersessions(secret).values()].filter(
      (record) => !known.has(record.versionId) && now < record.at.getTime() + this.#options.gracePeriodMs,
    );
    const recorded = await Promise.all(
      inGrace.map(async (record) => (await this.#read(context, record.versionId, 'superseded'))?.value),
    );
    return [
      ...options.labelled.filter((version) => version.versionId !== options.excluding).map((v) => v.value),
      ...recorded.filter((value): value is SecretFields => value !== undefined),
    ];
  }

  /**
   * The versions carrying `stages` now (by the step's description), other than those in
   * `excluding`, parsed; a label on a version without a value (RotateSecret's placeholder) is
   * skipped. A version that cannot be read or parsed fails the step.
   */
  async labelled(
    context: StepContext,
    stages: readonly string[],
    excluding: readonly string[],
  ): Promise<SecretVersion<SecretFields>[]> {
    const { secret } = context;
    const ids = new Set(
      stages
        .map((stage) => versionWithStage(secret, stage))
        .filter((id): id is string => id !== undefined && !excluding.includes(id)),
    );
    const versions = await Promise.all(
      [...ids].map((id) => this.#read(context, id, (secret.versions[id] ?? []).join(','))),
    );
    return versions.filter((version): version is SecretVersion<SecretFields> => version !== undefined);
  }

  /** Version `versionId` parsed, or undefined when it holds no value (or no longer exists). */
  async #read(
    context: StepContext,
    versionId: string,
    label: string,
  ): Promise<SecretVersion<SecretFields> | undefined> {
    const { secret } = context;
    const raw = await this.#options.store.getVersion(secret.arn, versionId);
    return raw === undefined
      ? undefined
      : parseSecretVersion(this.#options.parser, secret.name, versionId, label, raw);
  }
}
