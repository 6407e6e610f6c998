import type { RotationTarget } from '../repair/index.js';
import { ROTATED_AT_FIELD, Stage } from '../rotation/constants.js';
import { MalformedSecretError } from '../rotation/errors.js';
import { parseJsonObject } from '../rotation/parse.js';
import { type SecretStore, versionWithStage } from '../rotation/secret-store.js';
import type { RotationLogger } from '../rotation/strategy.js';
import type { PreviousCredentialCheck } from './check.js';
import { RollbackRefusedError } from './errors.js';
import type { AfterRollback, DemotedVersionRevocation } from './revocation.js';

/** Dependencies of {@link rollBack}. */
export interface RollbackDependencies {
  readonly store: SecretStore;
  readonly logger: RotationLogger;
  /** The check for the secret's kind of credential. */
  readonly checkFor: (secret: RotationTarget) => PreviousCredentialCheck;
  /** Re-reads the secret's labels (after a failed relabel, to see whether another attempt did it). */
  readonly describe: (secretId: string) => Promise<RotationTarget>;
  /** The credential kind's work once AWSCURRENT is back (API keys: the demoted version's revocation). */
  readonly afterRollback?: AfterRollback;
}

/** What a rollback did: version ids and the proof, never a value. */
export interface RollbackResult {
  readonly action: 'rollback';
  readonly secret: string;
  /** The version made AWSCURRENT again (it was AWSPREVIOUS). */
  readonly versionId: string;
  /** The version that was AWSCURRENT, now AWSPREVIOUS. */
  readonly previousVersionId: string;
  /** The restored version's `rotated_at`, if it has one. */
  readonly rotated_at?: string;
  /** How the restored credential was proven to work. */
  readonly proof: string;
  /** Hints of keys reactivated for the rollback. */
  readonly reactivated: readonly string[];
  /** API keys: the demoted version's supersession record and revocation schedule. */
  readonly revocation?: DemotedVersionRevocation;
  /** Database secrets: what becomes of the demoted version's login (nothing is revoked). */
  readonly demoted?: string;
}

/**
 * Makes AWSPREVIOUS current again (`UpdateSecretVersionStage`; Secrets Manager moves
 * AWSPREVIOUS to the version that was current), only where the previous credential still
 * works, as the credential kind's own check proves first. Refused, with the reason and
 * nothing changed, when:
 * - there is no AWSPREVIOUS version, or it holds no valid value;
 * - a rotation is in progress or stuck (AWSPENDING is staged);
 * - AWSPREVIOUS is newer than AWSCURRENT (`rotated_at`, else the versions' creation dates):
 *   a rollback already happened, so running it twice never rolls forward;
 * - the check fails (e.g. the old password no longer logs in).
 * Once AWSCURRENT is back, the credential kind's {@link AfterRollback} runs (API keys: the
 * demoted version's supersession is recorded and its revocation scheduled, as finishSecret
 * does); its outcome is part of the result, and its failure does not undo the rollback.
 * Database logins are not revoked: the result's `demoted` says what becomes of the demoted one.
 */
export async function rollBack(deps: RollbackDependencies, secret: RotationTarget): Promise<RollbackResult> {
  const { store, logger } = deps;
  const refuse = (why: string) => new RollbackRefusedError(`cannot roll back secret ${secret.name}: ${why}`);
  const currentId = versionWithStage(secret, Stage.CURRENT);
  const previousId = versionWithStage(secret, Stage.PREVIOUS);
  const pendingId = versionWithStage(secret, Stage.PENDING);
  if (pendingId) {
    throw refuse(
      `a rotation is in progress or stuck (AWSPENDING is on version ${pendingId}); let it finish, or clear it with {"repair": true}, then roll back`,
    );
  }
  if (!currentId || !previousId || currentId === previousId) {
    throw refuse('it has no AWSPREVIOUS version to roll back to');
  }
  const [previousRaw, currentRaw] = await Promise.all([
    store.getVersion(secret.arn, previousId),
    store.getVersion(secret.arn, currentId),
  ]);
  if (previousRaw === undefined) throw refuse(`its AWSPREVIOUS version ${previousId} holds no value`);
  const previousRotatedAt = rotatedAt(
    previousRaw,
    `the AWSPREVIOUS version ${previousId} of secret ${secret.name}`,
  );
  const currentRotatedAt = currentRaw === undefined ? undefined : rotatedAtOrUndefined(currentRaw);
  await assertPreviousIsOlder(deps, secret, { previousId, currentId, previousRotatedAt, currentRotatedAt });

  const check = deps.checkFor(secret);
  const outcome = await check.verify({
    secret,
    previous: { versionId: previousId, raw: previousRaw },
    logger,
  });
  try {
    await store.moveStage(secret.arn, Stage.CURRENT, previousId, currentId);
  } catch (error) {
    const again = await deps.describe(secret.arn).catch(() => undefined);
    if (!again?.versions[previousId]?.includes(Stage.CURRENT)) {
      await outcome.undo?.();
      throw error;
    }
    logger.info('rollback: another attempt made AWSPREVIOUS current first', { versionId: previousId });
  }
  const revocation = await deps.afterRollback?.run({
    secret,
    restored: previousId,
    demoted: currentId,
    logger,
  });
  logger.warn('rolled back: AWSPREVIOUS is AWSCURRENT again', {
    secretName: secret.name,
    versionId: previousId,
    previousVersionId: currentId,
    proof: outcome.proof,
    reactivated: outcome.reactivated,
    ...(revocation ? { revocation } : {}),
    ...(outcome.demoted ? { demoted: outcome.demoted } : {}),
  });
  return {
    action: 'rollback',
    secret: secret.name,
    versionId: previousId,
    previousVersionId: currentId,
    ...(previousRotatedAt ? { rotated_at: previousRotatedAt } : {}),
    proof: outcome.proof,
    reactivated: outcome.reactivated,
    ...(revocation ? { revocation } : {}),
    ...(outcome.demoted ? { demoted: outcome.demoted } : {}),
  };
}

/** Refuses unless AWSPREVIOUS is provably older than AWSCURRENT. */
async function assertPreviousIsOlder(
  deps: RollbackDependencies,
  secret: RotationTarget,
  versions: {
    previousId: string;
    currentId: string;
    previousRotatedAt: string | undefined;
    currentRotatedAt: string | undefined;
  },
): Promise<void> {
  const order = compare(versions.previousRotatedAt, versions.currentRotatedAt);
  const byDate =
    order ??
    compare(
      (await deps.store.versionCreatedDate(secret.arn, versions.previousId))?.toISOString(),
      (await deps.store.versionCreatedDate(secret.arn, versions.currentId))?.toISOString(),
    );
  if (byDate === undefined) {
    throw new RollbackRefusedError(
      `cannot roll back secret ${secret.name}: neither rotated_at nor the versions' creation dates tell whether AWSPREVIOUS (${versions.previousId}) is older than AWSCURRENT (${versions.currentId})`,
    );
  }
  if (byDate >= 0) {
    throw new RollbackRefusedError(
      `cannot roll back secret ${secret.name}: AWSPREVIOUS (${versions.previousId}) is not older than AWSCURRENT (${versions.currentId}), so a rollback already happened; to move forward again, rotate (rotateNow without rollback)`,
    );
  }
}

/** Negative when a is older than b, positive when newer, undefined when either is missing or they are equal. */
function compare(a: string | undefined, b: string | undefined): number | undefined {
  const [x, y] = [a === undefined ? Number.NaN : Date.parse(a), b === undefined ? Number.NaN : Date.parse(b)];
  if (!Number.isFinite(x) || !Number.isFinite(y) || x === y) return undefined;
  return x - y;
}

/** The `rotated_at` of a stored value, if it is a string. @throws {RollbackRefusedError} when the value is not a JSON object. */
function rotatedAt(raw: string, where: string): string | undefined {
  try {
    const value = parseJsonObject(raw, where)[ROTATED_AT_FIELD];
    return typeof value === 'string' ? value : undefined;
  } catch (error) {
    if (error instanceof MalformedSecretError)
      throw new RollbackRefusedError(`cannot roll back: ${error.message}`);
    throw error;
  }
}

function rotatedAtOrUndefined(raw: string): string | undefined {
  try {
    const value = parseJsonObject(raw, 'AWSCURRENT')[ROTATED_AT_FIELD];
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}
