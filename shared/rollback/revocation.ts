import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  EventBridgeRevocationScheduler,
  type RevocationScheduler,
  SupersessionRecords,
  supersessionTagKey,
  UnscheduledRevocations,
} from '../api-keys/index.js';
import type { ApiKeyRotationConfig } from '../config/index.js';
import { awsErrorText } from '../logging/aws-error.js';
import type { RotationTarget } from '../repair/index.js';
import { RotationError } from '../rotation/errors.js';
import type { RotationLogger } from '../rotation/strategy.js';

/** What a rollback did about the keys of the version it demoted (ids and times, never a key). */
export interface DemotedVersionRevocation {
  /** The version the rollback demoted (the rotation's new one), now AWSPREVIOUS. */
  readonly versionId: string;
  /**
   * `scheduled`: the moment it stopped being AWSCURRENT is recorded and its revocation
   * scheduled for the end of its grace period; `recorded`: recorded, not scheduled (`reason`
   * says why; the next rotation revokes it once the period is over); `failed`: not recorded
   * (`reason`), so the next rotation starts its grace period when it first sees it.
   */
  readonly status: 'scheduled' | 'recorded' | 'failed';
  /** When it stopped being AWSCURRENT (ISO 8601), once recorded. */
  readonly supersededAt?: string;
  /** When its grace period ends and the revocation runs (ISO 8601), once recorded. */
  readonly revokeAt?: string;
  readonly reason?: string;
}

/** What {@link AfterRollback.run} is told. */
export interface AfterRollbackContext {
  readonly secret: RotationTarget;
  /** The version made AWSCURRENT again. */
  readonly restored: string;
  /** The version that was AWSCURRENT, now AWSPREVIOUS. */
  readonly demoted: string;
  readonly logger: RotationLogger;
}

/** A credential kind's work once a rollback has moved AWSCURRENT back. */
export interface AfterRollback {
  /** Never throws: a failure is reported in the result (the rollback itself is done). */
  run(context: AfterRollbackContext): Promise<DemotedVersionRevocation>;
}

/** Dependencies of {@link revokeDemotedKeys}. */
export interface RevokeDemotedKeysOptions {
  readonly records: SupersessionRecords;
  /**
   * The scheduler of revocations for this secret (they invoke its rotation function with the
   * revoke input), or why there is none.
   */
  readonly schedulerFor: (secret: RotationTarget) => RevocationScheduler | string;
  readonly gracePeriodMs: number;
  readonly now?: () => Date;
}

/**
 * The after-rollback work of API-key secrets, as finishSecret does it for a rotation: the
 * restored version's supersession record is removed (it is AWSCURRENT again, so an old record
 * must never count for it later), the moment the demoted version stopped being AWSCURRENT is
 * recorded, and its revocation is scheduled for the end of its grace period. The rollback's
 * moment is taken after the label moved, so no record is earlier than that move.
 */
export function revokeDemotedKeys(options: RevokeDemotedKeysOptions): AfterRollback {
  const now = options.now ?? (() => new Date());
  return {
    async run({ secret, restored, demoted, logger }) {
      let recordedAt: Date | undefined;
      try {
        if (Object.hasOwn(secret.tags, supersessionTagKey(restored))) {
          await options.records.remove(secret.arn, [restored]);
        }
        const at = now();
        await options.records.write(secret.arn, { versionId: demoted, at, by: restored });
        recordedAt = at;
        const revokeAt = new Date(at.getTime() + options.gracePeriodMs);
        const recorded = {
          versionId: demoted,
          supersededAt: at.toISOString(),
          revokeAt: revokeAt.toISOString(),
        };
        const scheduler =
          options.gracePeriodMs > 0 ? options.schedulerFor(secret) : 'the grace period is zero';
        if (typeof scheduler === 'string') {
          const reason = `${scheduler}: the revocation is not scheduled; the next rotation revokes the key, or send the revoke input after ${recorded.revokeAt}`;
          logger.warn('rollback: revocation of the demoted version recorded, not scheduled', {
            ...recorded,
            reason,
          });
          return { ...recorded, status: 'recorded', reason };
        }
        await scheduler.schedule({ action: 'revoke', SecretId: secret.arn, VersionId: demoted }, revokeAt);
        logger.info('rollback: revocation of the demoted version scheduled', recorded);
        return { ...recorded, status: 'scheduled' };
      } catch (error) {
        const why = error instanceof RotationError ? error.message : awsErrorText(error);
        const at = recordedAt;
        const reason = at
          ? `recorded, but the revocation could not be scheduled (${why}); the next rotation revokes the key once its grace period is over`
          : `the moment it stopped being AWSCURRENT could not be recorded (${why}); the next rotation starts its grace period when it first sees it`;
        logger.error('rollback: revocation of the demoted version not scheduled', {
          versionId: demoted,
          reason,
        });
        return at
          ? {
              versionId: demoted,
              status: 'recorded',
              supersededAt: at.toISOString(),
              revokeAt: new Date(at.getTime() + options.gracePeriodMs).toISOString(),
              reason,
            }
          : { versionId: demoted, status: 'failed', reason };
      }
    },
  };
}

/** The clients and settings {@link createRollbackRevocations} builds from. */
export interface RollbackRevocationParts {
  readonly secretsManager: SecretsManagerClient;
  readonly schedulerClient: SchedulerClient;
  /** `rotateApiKey`'s settings: the grace period, the scheduler role and group. */
  readonly apiKeys: Pick<ApiKeyRotationConfig, 'gracePeriodMs' | 'revocation'>;
  readonly logger: RotationLogger;
  readonly now?: () => Date;
}

/**
 * The after-rollback work by category: API-key secrets get {@link revokeDemotedKeys}, with
 * schedules that invoke the secret's own rotation function (the function, alias or version
 * Secrets Manager invokes, as finishSecret's schedules do); database secrets have none: an
 * alternating rotation keeps the other login's password until the next rotation replaces it,
 * and a rollback does the same (the check's `demoted` says so in the result).
 */
export function createRollbackRevocations(
  parts: RollbackRevocationParts,
): (secret: RotationTarget, category: string) => AfterRollback | undefined {
  const { revocation } = parts.apiKeys;
  const apiKeys = revokeDemotedKeys({
    records: new SupersessionRecords(parts.secretsManager),
    gracePeriodMs: parts.apiKeys.gracePeriodMs,
    ...(parts.now ? { now: parts.now } : {}),
    schedulerFor: (secret) => {
      if (!revocation) return 'REVOKE_SCHEDULER_ROLE_NAME is unset (a local run)';
      const target = secret.rotationLambdaArn;
      if (!target) return `secret ${secret.name} has no rotation function for a schedule to invoke`;
      return new EventBridgeRevocationScheduler(parts.schedulerClient, {
        ...revocation,
        targetArn: () => target,
        withoutTarget: new UnscheduledRevocations(parts.logger),
      });
    },
  });
  return (_secret, category) => (category === 'api-keys' ? apiKeys : undefined);
}
