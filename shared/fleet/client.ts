import { SecretsManagerClient, type SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import { limitRate, SecretsManagerRateLimiter } from './quotas.js';

/** Options of {@link createFleetClient}. */
export interface FleetClientOptions {
  /** The limiter to share (one per process); a new one with the full quotas by default. */
  readonly limiter?: SecretsManagerRateLimiter;
  /** Attempts per call, retries included (default 8). */
  readonly maxAttempts?: number;
  /** Anything else the SDK client takes (region, endpoint, credentials, request handler). */
  readonly config?: SecretsManagerClientConfig;
}

/**
 * A Secrets Manager client for fleet-wide work: the SDK's adaptive retry mode (backs off and
 * slows its own sending rate on throttling), more attempts than the default 3, and every
 * attempt held to the published quotas by the limiter.
 */
export function createFleetClient(options: FleetClientOptions = {}): SecretsManagerClient {
  const client = new SecretsManagerClient({
    retryMode: 'adaptive',
    maxAttempts: options.maxAttempts ?? 8,
    ...options.config,
  });
  return limitRate(client, options.limiter ?? new SecretsManagerRateLimiter());
}
