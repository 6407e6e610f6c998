import { Stage } from '../rotation/constants.js';
import { MissingVersionError, UnknownVersionError } from '../rotation/errors.js';
import { parseSecretVersion } from '../rotation/parse.js';
import { type SecretDescription, type SecretStore, versionWithStage } from '../rotation/secret-store.js';
import type { RotationLogger } from '../rotation/strategy.js';
import { RevokeRefusedError } from './errors.js';
import type { RevocationRequest } from './revocation.js';
import type { ApiKeyStrategy } from './strategy.js';

/** What a revocation returns: identifiers and reminders, never a key. */
export interface RevocationResult {
  readonly action: 'revoke';
  readonly secretName: string;
  readonly versionId: string;
  readonly revoked: readonly string[];
  readonly manual: readonly string[];
}

/** Dependencies of {@link revokeSupersededVersion}. */
export interface RevokeDependencies {
  readonly store: SecretStore;
  readonly strategyFor: (secret: SecretDescription) => ApiKeyStrategy;
  readonly logger: RotationLogger;
}

/**
 * Revokes the keys of one superseded version (the input a scheduled revocation sends, or a
 * person's). Idempotent: keys already revoked count as done. The version's grace period must
 * be over by its record on the secret, unless the input says `"force": true`.
 * A version without staging labels is found by id: Secrets Manager's DescribeSecret lists
 * only labelled versions, and a version superseded twice has none.
 * @throws {RevokeRefusedError} when the version is AWSCURRENT's or AWSPENDING's.
 * @throws {GracePeriodNotOverError} inside the grace period, or when its start is not recorded.
 */
export async function revokeSupersededVersion(
  deps: RevokeDependencies,
  request: RevocationRequest,
): Promise<RevocationResult> {
  const { store, logger } = deps;
  logger.appendKeys({ secretId: request.SecretId, action: 'revoke', versionId: request.VersionId });
  try {
    const secret = await store.describe(request.SecretId);
    logger.appendKeys({ secretName: secret.name });
    const stages = secret.versions[request.VersionId] ?? [];
    if (stages.includes(Stage.CURRENT) || stages.includes(Stage.PENDING)) {
      throw new RevokeRefusedError(
        `version ${request.VersionId} of secret ${secret.name} is ${stages.join(', ')}: only a superseded version's keys are revoked`,
      );
    }
    const currentId = versionWithStage(secret, Stage.CURRENT);
    if (!currentId) throw new MissingVersionError(`secret ${secret.name} has no AWSCURRENT version`);
    const [oldRaw, currentRaw] = await Promise.all([
      store.getVersion(secret.arn, request.VersionId),
      store.getVersion(secret.arn, currentId),
    ]);
    if (oldRaw === undefined && !Object.hasOwn(secret.versions, request.VersionId)) {
      throw new UnknownVersionError(`version ${request.VersionId} is not a version of secret ${secret.name}`);
    }
    if (oldRaw === undefined || currentRaw === undefined) {
      throw new MissingVersionError(
        `a version of secret ${secret.name} needed for the revocation holds no value`,
      );
    }
    const strategy = deps.strategyFor(secret);
    const old = parseSecretVersion(
      strategy,
      secret.name,
      request.VersionId,
      stages.join(',') || 'superseded',
      oldRaw,
    );
    const current = parseSecretVersion(strategy, secret.name, currentId, Stage.CURRENT, currentRaw);
    const outcome = await strategy.revokeVersion({ secret, token: request.VersionId, logger }, old, current, {
      force: request.force === true,
    });
    return {
      action: 'revoke',
      secretName: secret.name,
      versionId: request.VersionId,
      revoked: outcome.revoked,
      manual: outcome.manual,
    };
  } finally {
    logger.removeKeys(['secretId', 'secretName', 'action', 'versionId']);
  }
}
