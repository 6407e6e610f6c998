/**
 * Reads the fleet within Secrets Manager's quotas: `ListSecrets` pages (100 secrets each)
 * one after another, and while the next page is listed, `BatchGetSecretValue` calls of 20
 * secrets, filled across pages, for the secrets whose status depends on `rotated_at`, plus one
 * `ListSecretVersionIds` for each secret with a pending rotation, all with bounded concurrency.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  effectivePolicy,
  type FleetEntry,
  needsRotatedAt,
  type PolicySettings,
  pendingVersionOf,
  type SecretMetadata,
} from '../policy/index.js';
import { BATCH_GET_LIMIT, listSecretPages, readRotatedAt, versionCreatedDate } from './calls.js';
import { boundedConcurrency } from './concurrency.js';

/** Options of {@link readFleet}. */
export interface FleetReadOptions {
  /** The moment the statuses are for (decides which values must be read). Default: now. */
  readonly now?: Date;
  /** Calls in flight at once besides the listing (default 8). */
  readonly concurrency?: number;
  /** Called with each group of completed entries, in no particular order, as they complete. */
  readonly onEntries?: (entries: readonly FleetEntry[]) => void | Promise<void>;
}

/** The API calls a read made. */
export interface FleetCalls {
  listSecrets: number;
  batchGetSecretValue: number;
  listSecretVersionIds: number;
  /** Values read again by label because BatchGetSecretValue returned another version. */
  getSecretValue: number;
}

/** The fleet, and what reading it cost. */
export interface FleetRead {
  readonly entries: readonly FleetEntry[];
  readonly calls: FleetCalls;
}

/**
 * Reads every secret under the managed prefixes, with the evidence the policy model needs
 * and no more: `rotated_at` only where `LastRotatedDate` does not settle the status (each
 * read counts as an access of the secret), the pending version's date only where a rotation
 * is pending. Values are never kept.
 * @throws {FleetReadError} when the fleet cannot be listed.
 */
export async function readFleet(
  client: SecretsManagerClient,
  settings: PolicySettings,
  options: FleetReadOptions = {},
): Promise<FleetRead> {
  const now = options.now ?? new Date();
  const run = boundedConcurrency(options.concurrency ?? 8);
  const calls: FleetCalls = {
    listSecrets: 0,
    batchGetSecretValue: 0,
    listSecretVersionIds: 0,
    getSecretValue: 0,
  };
  const entries: FleetEntry[] = [];
  const inFlight: Promise<void>[] = [];
  let failure: unknown;

  const complete = async (group: FleetEntry[]) => {
    entries.push(...group);
    if (group.length > 0) await options.onEntries?.(group);
  };
  const start = (work: () => Promise<void>) =>
    inFlight.push(
      run(work).catch((error: unknown) => {
        failure ??= error;
      }),
    );

  /** Looks up the pending version's date where there is one, then completes the entry. */
  const finish = async (secret: SecretMetadata, rotatedAt: FleetEntry['rotatedAt']): Promise<FleetEntry> => {
    const pending = pendingVersionOf(secret);
    if (!pending) return { secret, rotatedAt };
    calls.listSecretVersionIds++;
    return { secret, rotatedAt, pendingCreated: await versionCreatedDate(client, secret.arn, pending) };
  };

  let batch: SecretMetadata[] = [];
  const flush = () => {
    if (batch.length === 0) return;
    const secrets = batch;
    batch = [];
    start(async () => {
      calls.batchGetSecretValue++;
      const { evidence, rereads } = await readRotatedAt(client, secrets);
      calls.getSecretValue += rereads;
      const group = await Promise.all(
        secrets.map((secret) => finish(secret, evidence.get(secret.arn) ?? { state: 'not-read' })),
      );
      await complete(group);
    });
  };

  try {
    for await (const page of listSecretPages(client, settings.managedPrefixes)) {
      calls.listSecrets++;
      const settled: SecretMetadata[] = [];
      for (const secret of page) {
        if (needsRotatedAt(secret, effectivePolicy(secret, settings).policy, now)) {
          batch.push(secret);
          if (batch.length === BATCH_GET_LIMIT) flush();
        } else settled.push(secret);
      }
      if (settled.length > 0)
        start(async () =>
          complete(await Promise.all(settled.map((secret) => finish(secret, { state: 'not-read' })))),
        );
    }
    flush();
  } finally {
    await Promise.all(inFlight);
  }
  if (failure) throw failure;
  return { entries, calls };
}
