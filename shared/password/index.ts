import { GetRandomPasswordCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { RotationError } from '../rotation/errors.js';

/** What a generated password looks like. */
export interface PasswordPolicy {
  /** Number of characters, 8 to 4096. */
  readonly length: number;
  /** Characters never used. */
  readonly excludeCharacters: string;
}

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
  generate(): Promise<string>;
}

/** Generates passwords with Secrets Manager's GetRandomPassword (a CSPRNG, no modulo bias). */
export class SecretsManagerPasswordSource implements PasswordSource {
  readonly #client: SecretsManagerClient;
  readonly #policy: PasswordPolicy;

  constructor(client: SecretsManagerClient, policy: PasswordPolicy) {
    this.#client = client;
    this.#policy = policy;
  }

  async generate(): Promise<string> {
    let password: string | undefined;
    try {
      const out = await this.#client.send(
        new GetRandomPasswordCommand({
          PasswordLength: this.#policy.length,
          ExcludeCharacters: this.#policy.excludeCharacters || undefined,
          IncludeSpace: false,
          RequireEachIncludedType: true,
        }),
      );
      password = out.RandomPassword;
    } catch (error) {
      const name = error instanceof Error ? error.name : 'UnknownError';
      throw new PasswordGenerationError(`GetRandomPassword failed: ${name}`, { cause: error });
    }
    if (!password || password.length !== this.#policy.length) {
      throw new PasswordGenerationError('GetRandomPassword returned no password of the requested length');
    }
    return password;
  }
}
