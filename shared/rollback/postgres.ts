import {
  DatabaseAuthenticationError,
  describeTarget,
  EndpointMismatchError,
  otherLogin,
  PasswordReplacedError,
  type PostgresRotationStrategy,
  type PostgresSecret,
  RdsManagedSecretError,
  RotationMode,
  rotationModeOf,
} from '../postgres/index.js';
import { Stage } from '../rotation/constants.js';
import { MalformedSecretError, PendingTestFailedError } from '../rotation/errors.js';
import { parseSecretVersion } from '../rotation/parse.js';
import type { SecretDescription } from '../rotation/secret-store.js';
import type { SecretVersion } from '../rotation/strategy.js';
import type { CheckOutcome, PreviousCredentialCheck } from './check.js';
import { RollbackRefusedError } from './errors.js';

const ROTATE_INSTEAD = 'Nothing was changed. Rotate again instead (rotateNow without rollback)';

/**
 * The rollback check of PostgreSQL secrets: the rotation function's own strategy, resolved as
 * it resolves it (a secret RDS manages is refused), tests the AWSPREVIOUS version as testSecret
 * tests a pending one, with the same checks before any login
 * ({@link PostgresRotationStrategy.testPrevious}). By the version's mode:
 * - alternating users (`masterarn`): a rotation sets a new password on the other login only,
 *   so AWSPREVIOUS's login normally still works, and the rollback goes ahead once it logs in
 *   and passes the strategy's test; it is refused when its password was changed since;
 * - single user: the rotation replaced the old password, so this nearly always refuses;
 * - the master user of an RDS database (`dbInstanceIdentifier`, `dbClusterIdentifier`):
 *   refused before any login, since RDS keeps no previous master password.
 */
export function postgresCheck(
  strategyFor: (secret: SecretDescription) => PostgresRotationStrategy,
): PreviousCredentialCheck {
  return {
    kind: 'postgres',
    async verify({ secret, previous, logger }): Promise<CheckOutcome> {
      const refuse = (why: string, cause?: unknown) =>
        new RollbackRefusedError(
          `cannot roll back secret ${secret.name}: ${why}`,
          cause === undefined ? undefined : { cause },
        );
      let strategy: PostgresRotationStrategy;
      try {
        strategy = strategyFor(secret);
      } catch (error) {
        if (!(error instanceof RdsManagedSecretError)) throw error;
        throw refuse(error.message, error);
      }
      let version: SecretVersion<PostgresSecret>;
      try {
        version = parseSecretVersion(strategy, secret.name, previous.versionId, Stage.PREVIOUS, previous.raw);
      } catch (error) {
        if (!(error instanceof MalformedSecretError)) throw error;
        throw refuse(error.message);
      }
      const { value } = version;
      const alternating = rotationModeOf(value) === RotationMode.ALTERNATING_USERS;
      const target = describeTarget(value);
      try {
        await strategy.testPrevious({ secret, token: previous.versionId, logger, pending: version });
      } catch (error) {
        if (error instanceof PasswordReplacedError)
          throw refuse(`${error.message}. ${ROTATE_INSTEAD}`, error);
        if (error instanceof EndpointMismatchError) {
          throw refuse(`its AWSPREVIOUS version is refused before any login: ${error.message}`, error);
        }
        if (!(error instanceof PendingTestFailedError)) throw error;
        if (!(error.cause instanceof DatabaseAuthenticationError)) {
          throw refuse(
            `the AWSPREVIOUS login ${JSON.stringify(value.username)} fails the rotation's test (${error.message}). ${ROTATE_INSTEAD}`,
            error,
          );
        }
        throw refuse(
          alternating
            ? `the AWSPREVIOUS login ${JSON.stringify(value.username)} no longer logs in to ${target}: its password was changed since that version was current (outside rotation). Making it current would give every application a password the database refuses. ${ROTATE_INSTEAD}`
            : `the AWSPREVIOUS password no longer logs in to ${target}. A single-user rotation replaces the old password, so making it current again would give every application a password the database refuses. ${ROTATE_INSTEAD}`,
          error,
        );
      }
      if (alternating) {
        const other = otherLogin(value.username);
        return {
          proof: `the AWSPREVIOUS login ${JSON.stringify(value.username)} logs in to ${target} and passes the alternating-users test`,
          reactivated: [],
          demoted: `nothing is revoked: the other login ${JSON.stringify(other)} keeps its password, as after any alternating rotation, until the next rotation sets a new one on it; that rotation changes only ${JSON.stringify(other)}, never ${JSON.stringify(value.username)} (AWSCURRENT's)`,
        };
      }
      return {
        proof: `the AWSPREVIOUS password logs in to ${target}`,
        reactivated: [],
        demoted: `nothing is revoked: user ${JSON.stringify(value.username)} has one password, the one restored, so the demoted version's no longer logs in`,
      };
    },
  };
}
