/** What every enforcement action shares: its dependencies, and how it reports. */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { functionArnBesideSecret } from '../fleet/index.js';
import { type Logger, RedactedError, redactError, summarizeError } from '../logging/index.js';
import type { PolicySettings, SecretMetadata } from '../policy/index.js';
import type { RotationInvoker } from '../repair/index.js';
import type { SecretStore } from '../rotation/secret-store.js';
import { type ActionKind, type ActionOutcome, NoticeKind, OutcomeStatus } from './outcome.js';
import type { RevocationInvoker } from './revoker.js';
import type { WorkItem } from './work-item.js';

/** What carrying out work items needs. */
export interface ExecutorDependencies {
  /** A fleet client (`createFleetClient`): adaptive retry, quota limiter. */
  readonly secretsManager: SecretsManagerClient;
  readonly store: SecretStore;
  /** Runs the rotation steps of a repair. */
  readonly steps: RotationInvoker;
  readonly revoker: RevocationInvoker;
  readonly settings: PolicySettings;
  /** Stuck rotations younger than this are left alone. */
  readonly repairMinAgeMs: number;
  readonly logger: Logger;
  readonly now: () => Date;
}

/** A failed action; an error this product did not raise is named, its message withheld (it may quote anything). */
export function failed(
  item: WorkItem,
  action: ActionKind,
  error: unknown,
  versionId?: string,
): ActionOutcome {
  const own = redactError(error);
  const { name, message } =
    own instanceof RedactedError ? { name: summarizeError(error), message: 'its message is withheld' } : own;
  return {
    secret: item.secret.name,
    action,
    ...(versionId ? { versionId } : {}),
    status: OutcomeStatus.FAILED,
    reason: `${name}: ${message}`,
    notice: NoticeKind.ACTION_FAILED,
  };
}

/** This product's rotation function for the secret, as an ARN, when its prefix has one. */
export function ourFunctionArn(
  settings: PolicySettings,
  secret: Pick<SecretMetadata, 'arn'>,
  prefix: string | undefined,
) {
  const configured = prefix ? settings.rotationFunctions[prefix] : undefined;
  return configured ? functionArnBesideSecret(configured, secret.arn) : undefined;
}

/** An action left undone, and why. */
export function skipped(
  secret: string,
  action: ActionKind,
  reason: string,
  versionId?: string,
): ActionOutcome {
  return { secret, action, status: OutcomeStatus.SKIPPED, reason, ...(versionId ? { versionId } : {}) };
}
