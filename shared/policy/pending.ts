/** A rotation in progress, or stuck: AWSPENDING on a version that is not AWSCURRENT. */
import { FindingKind, HOUR_MS, Severity } from './constants.js';
import type { Finding } from './finding.js';
import { iso } from './format.js';
import { type FleetEntry, pendingVersionOf } from './secret.js';
import type { PolicySettings } from './settings.js';

/** A rotation in progress or stuck. */
export interface PendingRotation {
  readonly versionId: string;
  /** When that version was created; undefined when it could not be looked up. */
  readonly since?: Date;
  /** Older than `stuckAfterHours`, or of unknown age. */
  readonly stuck: boolean;
}

/** The secret's pending rotation, if any, and a `rotation-stuck` finding when it is stuck. */
export function checkPendingRotation(
  entry: FleetEntry,
  settings: PolicySettings,
  now: Date,
): { pending?: PendingRotation; findings: Finding[] } {
  const versionId = pendingVersionOf(entry.secret);
  if (!versionId) return { findings: [] };
  const since = entry.pendingCreated?.state === 'found' ? entry.pendingCreated.date : undefined;
  const stuck = !since || now.getTime() - since.getTime() >= settings.stuckAfterHours * HOUR_MS;
  const pending: PendingRotation = { versionId, ...(since ? { since } : {}), stuck };
  if (!stuck) return { pending, findings: [] };
  const age = since
    ? `since ${iso(since)} (${Math.floor((now.getTime() - since.getTime()) / HOUR_MS)} hours)`
    : `for an unknown time (${entry.pendingCreated?.state === 'unreadable' ? `ListSecretVersionIds failed: ${entry.pendingCreated.message}` : 'its date was not looked up'})`;
  return {
    pending,
    findings: [
      {
        kind: FindingKind.ROTATION_STUCK,
        severity: Severity.CRITICAL,
        reason:
          `AWSPENDING is on version ${versionId}, which is not AWSCURRENT, ${age}: Secrets Manager refuses new rotations until it is finished. ` +
          `Finish it (run the four steps with ClientRequestToken=${versionId}); only a pending version that holds no value may simply be unlabelled`,
      },
    ],
  };
}
