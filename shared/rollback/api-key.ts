import { type ApiKeyProvider, KeyTestFailedError, providerFor } from '../api-keys/index.js';
import type { ProviderContext } from '../api-keys/provider.js';
import { Stage } from '../rotation/constants.js';
import { MalformedSecretError } from '../rotation/errors.js';
import { parseSecretVersion } from '../rotation/parse.js';
import type { SecretFields } from '../rotation/strategy.js';
import type { CheckOutcome, PreviousCredentialCheck } from './check.js';
import { RollbackRefusedError } from './errors.js';
import type { IamKeyReactivator, ReactivatedKey } from './iam-reactivation.js';

/** Dependencies of {@link apiKeyCheck}. */
export interface ApiKeyCheckOptions {
  /** The providers by name, as `rotateApiKey` has them. */
  readonly providers: ReadonlyMap<string, ApiKeyProvider>;
  /** Reads another secret's AWSCURRENT fields (a provider's admin key or service account). */
  readonly readSecret: (secretId: string) => Promise<SecretFields>;
  /** Reactivates an `aws` key that its revocation deactivated. */
  readonly reactivator: IamKeyReactivator;
  readonly now?: () => Date;
}

/**
 * The rollback check of API-key secrets: the provider's own test of the AWSPREVIOUS keys. A
 * key in its grace period passes; a revoked key fails, and the rollback is refused. An IAM
 * key (`aws` provider) that its revocation deactivated is made Active first, and made
 * Inactive again when the test fails.
 */
export function apiKeyCheck(options: ApiKeyCheckOptions): PreviousCredentialCheck {
  return {
    kind: 'api-key',
    async verify({ secret, previous, logger }): Promise<CheckOutcome> {
      const provider = providerFor(secret, options.providers);
      const kind = `api-key:${provider.name}`;
      let value: SecretFields;
      try {
        value = parseSecretVersion(
          { kind, schema: provider.schema },
          secret.name,
          previous.versionId,
          Stage.PREVIOUS,
          previous.raw,
        ).value;
      } catch (error) {
        if (!(error instanceof MalformedSecretError)) throw error;
        throw new RollbackRefusedError(`cannot roll back secret ${secret.name}: ${error.message}`);
      }
      let reactivated: ReactivatedKey | undefined;
      if (provider.name === 'aws' && typeof value.access_key_id === 'string') {
        reactivated = await options.reactivator.activate(secret, value.access_key_id, logger);
      }
      const context: ProviderContext = {
        secret,
        token: previous.versionId,
        logger,
        now: (options.now ?? (() => new Date()))(),
        // No rotation is running: nothing is in flight, and no key is this rollback's to create.
        inFlightMs: 0,
        rotationStartedAt: async () => undefined,
        readSecret: options.readSecret,
      };
      try {
        await provider.test({ value, context });
      } catch (error) {
        if (reactivated) await reactivated.restore();
        if (!(error instanceof KeyTestFailedError)) throw error;
        throw new RollbackRefusedError(
          `cannot roll back secret ${secret.name}: the AWSPREVIOUS key no longer works (${error.message}); its grace period is over and it was revoked. Rotate again instead (rotateNow without rollback)`,
        );
      }
      return {
        proof: `the AWSPREVIOUS key passes the ${provider.name} provider's test`,
        reactivated: reactivated ? [reactivated.hint] : [],
        ...(reactivated ? { undo: () => reactivated.restore() } : {}),
      };
    },
  };
}
