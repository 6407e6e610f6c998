import { GetRandomPasswordCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { RotationError } from '../rotation/errors.js';
import type { PasswordPolicy } from './policy.js';

export {
  effectivePasswordPolicy,
  InvalidPasswordPolicyError,
  MIN_PASSWORD_BITS,
  type PasswordLimits,
  type PasswordPolicy,
  type PasswordPolicyOverride,
  POSTGRES_USER_LIMITS,
  passwordPolicyOverrideSchema,
  RDS_CLUSTER_MASTER_LIMITS,
  RDS_INSTANCE_MASTER_LIMITS,
} from './policy.js';

/**
 * Characters excluded by default: those that need escaping in a connection URI, a shell,
 * JSON or SQL (`/ @ " ' \ : ; ? # % & + , < > | ` $ ! * ( ) { } [ ] ^ ~ =` and space).
 * What remains is letters, digits, `-`, `_` and `.`: about 5.9 bits a character.
 */
export const DEFAULT_EXCLUDED_CHARACTERS = ' /@"\'\\:;?#%&+,<>|`$!*(){}[]^~=';

/** Thrown when Secrets Manager cannot generate a password. */
export class PasswordGenerationError extends RotationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PasswordGenerationError';
  }
}

/** Something that makes new passwords. */
export interface PasswordSource {
  /** A new password, with `policy` or the source's own. */
  generate(policy?: PasswordPolicy): Promise<string>;
}

/** Generates passwords with Secrets Manager's GetRandomPassword (a CSPRNG, no modulo bias). */
export class SecretsManagerPasswordSource implements PasswordSource {
  readonly #client: SecretsManagerClient;
  readonly #policy: PasswordPolicy;

  constructor(client: SecretsManagerClient, policy: PasswordPolicy) {
    this.#client = client;
    this.#policy = policy;
  }

  async generate(policy: PasswordPolicy = this.#policy): Promise<string> {
    let password: string | undefined;
    try {
      const out = await this.#client.send(
        new GetRandomPasswordCommand({
          PasswordLength: policy.length,
          ExcludeCharacters: policy.excludeCharacters || undefined,
          ExcludeUppercase: policy.excludeUppercase === true || undefined,
          ExcludeLowercase: policy.excludeLowercase === true || undefined,
          ExcludeNumbers: policy.excludeNumbers === true || undefined,
          ExcludePunctuation: policy.excludePunctuation === true || undefined,
          IncludeSpace: false,
          RequireEachIncludedType: policy.requireEachIncludedType !== false,
        }),
      );
      password = out.RandomPassword;
    } catch (error) {
      const name = error instanceof Error ? error.name : 'UnknownError';
      throw new PasswordGenerationError(`GetRandomPassword failed: ${name}`, { cause: error });
    }
    if (!password || password.length !== policy.length) {
      throw new PasswordGenerationError('GetRandomPassword returned no password of the requested length');
    }
    return password;
  }
}
