/**
 * Secrets Manager's published request quotas (per account and region), and a token-bucket
 * limiter that keeps one process within them. Attach it to an SDK client with
 * {@link limitRate}: every attempt, retries included, waits for a token of its API's quota.
 */
import type {
  SecretsManagerClient,
  ServiceInputTypes,
  ServiceOutputTypes,
} from '@aws-sdk/client-secrets-manager';
// Type only (erased at build): the SDK's middleware signature, from the package the SDK itself depends on.
import type { FinalizeRequestMiddleware } from '@smithy/types';

/** A quota shared by one or more APIs, in requests per second. */
export interface Quota {
  readonly perSecond: number;
  readonly commands: readonly string[];
}

/** The published quotas of the APIs the policy job and the report use. */
export const SECRETS_MANAGER_QUOTAS = {
  listSecrets: { perSecond: 100, commands: ['ListSecrets'] },
  batchGetSecretValue: { perSecond: 100, commands: ['BatchGetSecretValue'] },
  rotation: { perSecond: 50, commands: ['RotateSecret', 'CancelRotateSecret'] },
  versionWrites: {
    perSecond: 50,
    commands: [
      'PutSecretValue',
      'UpdateSecret',
      'UpdateSecretVersionStage',
      'RemoveRegionsFromReplication',
      'ReplicateSecretToRegions',
      'StopReplicationToReplica',
    ],
  },
  tags: { perSecond: 50, commands: ['TagResource', 'UntagResource'] },
  getSecretValue: { perSecond: 10_000, commands: ['GetSecretValue'] },
  describeSecret: { perSecond: 40_000, commands: ['DescribeSecret'] },
} as const satisfies Record<string, Quota>;

/** A clock the limiter can wait on; tests and the benchmark's simulation pass a virtual one. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** Real time. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * A token bucket (as GCRA: each request reserves the next free slot, so concurrent callers
 * queue in order without a lock): `perSecond` sustained, up to `burst` at once.
 */
export class TokenBucket {
  readonly #interval: number;
  readonly #tolerance: number;
  readonly #clock: Clock;
  #theoreticalArrival = Number.NEGATIVE_INFINITY;

  constructor(perSecond: number, burst: number, clock: Clock = systemClock) {
    if (!(perSecond > 0) || !(burst >= 1))
      throw new RangeError('a token bucket needs perSecond > 0 and burst >= 1');
    this.#interval = 1000 / perSecond;
    this.#tolerance = (burst - 1) * this.#interval;
    this.#clock = clock;
  }

  /** Resolves when the caller may send one request. */
  take(): Promise<void> {
    const now = this.#clock.now();
    const arrival = Math.max(this.#theoreticalArrival, now);
    this.#theoreticalArrival = arrival + this.#interval;
    const wait = arrival - this.#tolerance - now;
    return wait > 0 ? this.#clock.sleep(wait) : Promise.resolve();
  }
}

/** Options of {@link SecretsManagerRateLimiter}. */
export interface RateLimiterOptions {
  /**
   * The fraction of each quota this process may use (default 1). Workers that run at once
   * (an SQS-driven worker with maximum concurrency 5) each take 1/5.
   */
  readonly share?: number;
  /**
   * The account-wide rate of the rotation quota's APIs (`RotateSecret`, `CancelRotateSecret`)
   * this product allows itself, before the share: the quota (50/s) by default, at most the
   * quota. The enforcer paces its starts by the writes each causes downstream
   * (`ENFORCE_STARTS_PER_SECOND`).
   */
  readonly rotationPerSecond?: number;
  /** A bucket holds this many seconds' worth of requests as burst (default 0.1 s: 10 of 100/s). */
  readonly burstSeconds?: number;
  readonly clock?: Clock;
}

/** One token bucket per quota, shared by the APIs that share the quota. */
export class SecretsManagerRateLimiter {
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(options: RateLimiterOptions = {}) {
    const share = options.share ?? 1;
    if (!(share > 0 && share <= 1)) throw new RangeError('share must be in (0, 1]');
    const rotation = SECRETS_MANAGER_QUOTAS.rotation;
    const rotationPerSecond = options.rotationPerSecond ?? rotation.perSecond;
    if (!(rotationPerSecond > 0 && rotationPerSecond <= rotation.perSecond))
      throw new RangeError(`rotationPerSecond must be in (0, ${rotation.perSecond}]`);
    const burstSeconds = options.burstSeconds ?? 0.1;
    for (const quota of Object.values(SECRETS_MANAGER_QUOTAS)) {
      const perSecond = (quota === rotation ? rotationPerSecond : quota.perSecond) * share;
      const bucket = new TokenBucket(
        perSecond,
        Math.max(1, Math.floor(perSecond * burstSeconds)),
        options.clock,
      );
      for (const command of quota.commands) this.#buckets.set(command, bucket);
    }
  }

  /** Waits for a token of `commandName`'s quota (`ListSecrets`, `RotateSecret`, …); APIs without one pass at once. */
  acquire(commandName: string): Promise<void> {
    const command = commandName.replace(/Command$/, '');
    return this.#buckets.get(command)?.take() ?? Promise.resolve();
  }
}

/**
 * Makes every attempt `client` sends (first tries and retries) wait for a token from
 * `limiter`. Returns the client.
 */
export function limitRate(
  client: SecretsManagerClient,
  limiter: SecretsManagerRateLimiter,
): SecretsManagerClient {
  const waitForToken: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> =
    (next, context) => async (args) => {
      await limiter.acquire(context.commandName ?? '');
      return next(args);
    };
  client.middlewareStack.addRelativeTo(waitForToken, {
    relation: 'after',
    toMiddleware: 'retryMiddleware',
    name: 'secretsManagerQuota',
    override: true,
  });
  return client;
}
