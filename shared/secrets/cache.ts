import { GetParameterError } from '@aws-lambda-powertools/parameters/errors';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsGetOptions } from '@aws-lambda-powertools/parameters/secrets/types';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { toSecretsError } from './sdk-errors.js';

/** Where a value came from. */
export type CachedSource = 'cache' | 'secrets-manager';

/** A value read from Secrets Manager, possibly through the cache. */
export interface CachedRead {
  /** The secret's string (a binary secret is read as UTF-8), or undefined when the version holds none. */
  readonly raw: string | undefined;
  readonly source: CachedSource;
  /** The AWSCURRENT version that answered, when known. */
  readonly versionId: string | undefined;
}

/**
 * Powertools' SecretsProvider, reading AWSCURRENT by name (moto's default read goes stale
 * after a staging change; AWS's does not, and naming the stage costs nothing). Powertools
 * keeps the cache; this subclass only notes, per call, whether it went to Secrets Manager
 * and which version answered, for the audit log.
 */
class ObservedSecretsProvider extends SecretsProvider {
  /** The options object of each call that reached Secrets Manager. */
  readonly fetched = new WeakSet<object>();
  /** Name → version id of its last fetch: the version the cache holds. */
  readonly versions = new Map<string, string | undefined>();

  protected override async _get(
    name: string,
    options?: NonNullable<SecretsGetOptions>,
  ): Promise<string | Uint8Array | undefined> {
    const out = await this.client.send(
      new GetSecretValueCommand({ ...options?.sdkOptions, SecretId: name, VersionStage: 'AWSCURRENT' }),
    );
    if (options) this.fetched.add(options);
    this.versions.set(name, out.VersionId);
    return out.SecretString ?? out.SecretBinary;
  }
}

/**
 * Secrets Manager behind Powertools Parameters' cache: a value is reused for `ttlSeconds`
 * (Powertools compares against `Date.now()`), and `refresh` fetches anew and re-caches.
 */
export class CachedSecretsManager {
  readonly #provider: ObservedSecretsProvider;
  readonly #client: SecretsManagerClient;
  readonly #ttlSeconds: number;

  constructor(client: SecretsManagerClient, ttlSeconds: number) {
    this.#client = client;
    this.#provider = new ObservedSecretsProvider({ awsSdkV3Client: client });
    this.#ttlSeconds = ttlSeconds;
  }

  /**
   * Reads `secretId`'s AWSCURRENT value.
   * @throws the typed error of {@link toSecretsError}.
   */
  async read(secretId: string, refresh: boolean): Promise<CachedRead> {
    const options = { maxAge: this.#ttlSeconds, forceFetch: refresh };
    let value: string | Uint8Array | undefined;
    try {
      value = await this.#provider.get(secretId, options);
    } catch (error) {
      const cause = error instanceof GetParameterError && error.cause !== undefined ? error.cause : error;
      throw toSecretsError(cause, { secretId, region: await this.#region() });
    }
    return {
      raw: value instanceof Uint8Array ? new TextDecoder().decode(value) : value,
      source: this.#provider.fetched.has(options) ? 'secrets-manager' : 'cache',
      versionId: this.#provider.versions.get(secretId),
    };
  }

  /** Forgets every cached value. */
  clear(): void {
    this.#provider.clearCache();
  }

  async #region(): Promise<string> {
    try {
      return await this.#client.config.region();
    } catch {
      return 'unknown-region';
    }
  }
}
