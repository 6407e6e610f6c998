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
  /** Drops this value from the cache (a value that turned out unusable is read anew next time). */
  discard(): void;
}

/** One answer of Secrets Manager, known by the byte array it was returned (and cached) as. */
interface Answer {
  readonly name: string;
  /** Order of the request that got it: a later request saw a later state of the secret. */
  readonly generation: number;
  readonly versionId: string | undefined;
  /** The options object of the call that fetched it: that call's source is Secrets Manager. */
  readonly fetchedBy: object | undefined;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Powertools' SecretsProvider, reading AWSCURRENT by name (moto's default read goes stale
 * after a staging change; AWS's does not, and naming the stage costs nothing). Powertools
 * keeps the cache; this subclass only
 * - returns each answer as a new byte array, so that the value Powertools caches and hands
 *   back identifies its answer: which version, which call fetched it, in which order;
 * - never lets an answer replace a newer one in the cache (a read in flight across a
 *   rotation finishing after a `refresh` read);
 * - drops a value on request.
 */
class ObservedSecretsProvider extends SecretsProvider {
  readonly #answers = new WeakMap<Uint8Array, Answer>();
  /** Name → generation of the answer last cached. */
  readonly #cached = new Map<string, number>();
  #generation = 0;

  protected override async _get(
    name: string,
    options?: NonNullable<SecretsGetOptions>,
  ): Promise<string | Uint8Array | undefined> {
    const generation = ++this.#generation;
    const out = await this.client.send(
      new GetSecretValueCommand({ ...options?.sdkOptions, SecretId: name, VersionStage: 'AWSCURRENT' }),
    );
    const value =
      out.SecretString !== undefined
        ? encoder.encode(out.SecretString)
        : out.SecretBinary && Uint8Array.from(out.SecretBinary);
    if (value) this.#answers.set(value, { name, generation, versionId: out.VersionId, fetchedBy: options });
    return value;
  }

  /** Powertools caches every answer here: an older answer than the one cached is not kept. */
  override addToCache(key: string, value: unknown, maxAge: number): void {
    const answer = value instanceof Uint8Array ? this.#answers.get(value) : undefined;
    if (answer) {
      if ((this.#cached.get(answer.name) ?? 0) > answer.generation) return;
      this.#cached.set(answer.name, answer.generation);
    }
    super.addToCache(key, value, maxAge);
  }

  /** What is known of a value {@link get} returned. */
  answerOf(value: Uint8Array): Answer | undefined {
    return this.#answers.get(value);
  }

  /** Drops `value` from the cache, if it is still there. */
  evict(value: Uint8Array): void {
    for (const [key, entry] of this.store) if (entry.value === value) this.store.delete(key);
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
    if (!(value instanceof Uint8Array)) {
      return { raw: value, source: 'secrets-manager', versionId: undefined, discard: () => undefined };
    }
    const answer = this.#provider.answerOf(value);
    return {
      raw: decoder.decode(value),
      source: answer?.fetchedBy === options ? 'secrets-manager' : 'cache',
      versionId: answer?.versionId,
      discard: () => this.#provider.evict(value),
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
