import { describeTarget, type PostgresSecret, type PostgresSingleUserStrategy } from '../postgres/index.js';
import { Stage } from '../rotation/constants.js';
import { MalformedSecretError, PendingTestFailedError } from '../rotation/errors.js';
import { parseSecretVersion } from '../rotation/parse.js';
import type { SecretVersion } from '../rotation/strategy.js';
import type { CheckOutcome, PreviousCredentialCheck } from './check.js';
import { RollbackRefusedError } from './errors.js';

/**
 * The rollback check of single-user PostgreSQL secrets: the strategy's own test (a login
 * with the AWSPREVIOUS password). After a single-user rotation the old password has been
 * replaced, so this nearly always refuses, saying so.
 */
export function postgresSingleUserCheck(strategy: PostgresSingleUserStrategy): PreviousCredentialCheck {
  return {
    kind: strategy.kind,
    async verify({ secret, previous, logger }): Promise<CheckOutcome> {
      let version: SecretVersion<PostgresSecret>;
      try {
        version = parseSecretVersion(strategy, secret.name, previous.versionId, Stage.PREVIOUS, previous.raw);
      } catch (error) {
        if (!(error instanceof MalformedSecretError)) throw error;
        throw new RollbackRefusedError(`cannot roll back secret ${secret.name}: ${error.message}`);
      }
      // Alternating users and RDS master secrets need their own strategy's test (the endpoint
      // check before any login, the clone's ownership): until that check exists here, refuse
      // rather than send a password to a host nothing has checked.
      const kind = ['masterarn', 'dbInstanceIdentifier', 'dbClusterIdentifier'].find(
        (field) => version.fields[field] !== undefined,
      );
      if (kind) {
        throw new RollbackRefusedError(
          `cannot roll back secret ${secret.name}: it names ${kind}, and rotateNow rolls back only single-user database secrets; nothing was changed. Rotate again instead (rotateNow without rollback)`,
        );
      }
      try {
        await strategy.testPending({ secret, token: previous.versionId, logger, pending: version });
      } catch (error) {
        if (!(error instanceof PendingTestFailedError)) throw error;
        throw new RollbackRefusedError(
          `cannot roll back secret ${secret.name}: the AWSPREVIOUS password no longer logs in to ${describeTarget(version.value)}. ` +
            'A single-user rotation replaces the old password, so making it current again would give every application a password the database refuses. Rotate again instead (rotateNow without rollback)',
        );
      }
      return {
        proof: `the AWSPREVIOUS password logs in to ${describeTarget(version.value)}`,
        reactivated: [],
      };
    },
  };
}
