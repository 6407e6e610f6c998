/**
 * What the policy model knows about a secret: its metadata as `ListSecrets` lists it, and
 * the evidence of its AWSCURRENT value's `rotated_at` (never the value itself).
 */
import { ROTATED_AT_FIELD, Stage } from '../rotation/constants.js';
import type { RotationRules } from './schedule.js';

/** A secret's metadata from `ListSecrets` (a `SecretListEntry`), no value. */
export interface SecretMetadata {
  readonly arn: string;
  readonly name: string;
  readonly createdDate?: Date;
  /** When Secrets Manager last rotated the secret; absent when rotation never ran. */
  readonly lastRotatedDate?: Date;
  readonly lastChangedDate?: Date;
  /** The last day the secret was read: a date without a time (midnight UTC). */
  readonly lastAccessedDate?: Date;
  /** Rotation is due on or before this date; in the past when rotation failed. */
  readonly nextRotationDate?: Date;
  readonly rotationEnabled: boolean;
  readonly rotationLambdaArn?: string;
  readonly rotationRules?: RotationRules;
  readonly tags: Readonly<Record<string, string>>;
  /** Version id → staging labels (`SecretVersionsToStages`). */
  readonly versions: Readonly<Record<string, readonly string[]>>;
  /** Set when another AWS service manages the secret (e.g. `rds` for `rds!db-…` master secrets). */
  readonly owningService?: string;
}

/**
 * What reading AWSCURRENT's `rotated_at` found. `unreadable` is kept apart from `absent`:
 * a value that could not be read says nothing about `rotated_at` (fail closed).
 */
export type RotatedAtEvidence =
  | { readonly state: 'not-read' }
  | { readonly state: 'found'; readonly date: Date }
  | { readonly state: 'absent'; readonly detail: string }
  | { readonly state: 'invalid'; readonly detail: string }
  | { readonly state: 'unreadable'; readonly errorCode: string; readonly message: string };

/** When the version staged AWSPENDING (and not AWSCURRENT) was created, from `ListSecretVersionIds`. */
export type PendingVersionDate =
  | { readonly state: 'found'; readonly date: Date }
  | { readonly state: 'unreadable'; readonly message: string };

/** One secret of the fleet, as the model evaluates it. */
export interface FleetEntry {
  readonly secret: SecretMetadata;
  readonly rotatedAt: RotatedAtEvidence;
  /** Present when the secret has a pending version that is not AWSCURRENT and its date was looked up. */
  readonly pendingCreated?: PendingVersionDate;
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/;

/**
 * Extracts `rotated_at` from a secret value. The value is parsed here and dropped: the
 * result holds a date or a description of what was wrong, never any part of the value.
 */
export function parseRotatedAt(secretString: string | undefined): RotatedAtEvidence {
  if (secretString === undefined)
    return { state: 'absent', detail: 'the value is binary, not a JSON object' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    return { state: 'absent', detail: 'the value is not JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return { state: 'absent', detail: 'the value is not a JSON object' };
  const raw = (parsed as Record<string, unknown>)[ROTATED_AT_FIELD];
  if (raw === undefined || raw === null || raw === '')
    return { state: 'absent', detail: `the value has no ${ROTATED_AT_FIELD}` };
  if (typeof raw !== 'string' || !ISO_8601.test(raw) || Number.isNaN(Date.parse(raw)))
    return { state: 'invalid', detail: `${ROTATED_AT_FIELD} is not an ISO 8601 date` };
  return { state: 'found', date: new Date(raw) };
}

/** The version staged AWSPENDING that is not AWSCURRENT (a rotation in progress or stuck), if any. */
export function pendingVersionOf(secret: SecretMetadata): string | undefined {
  return Object.entries(secret.versions).find(
    ([, stages]) => stages.includes(Stage.PENDING) && !stages.includes(Stage.CURRENT),
  )?.[0];
}
