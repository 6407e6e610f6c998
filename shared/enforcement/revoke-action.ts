/** Revoking superseded API keys: rotateApiKey's revoke input, whose own checks decide. */
import { TagResourceCommand } from '@aws-sdk/client-secrets-manager';
import { summarizeError } from '../logging/index.js';
import { evaluateSecret, PolicyTag } from '../policy/index.js';
import { Stage } from '../rotation/constants.js';
import { type ExecutorDependencies, failed, ourFunctionArn, skipped } from './action.js';
import { describeNow } from './calls.js';
import { RevocationFailedError } from './errors.js';
import { ActionKind, type ActionOutcome, NoticeKind, OutcomeStatus } from './outcome.js';
import type { WorkItem } from './work-item.js';

/** Revoke errors that are the revoke path's own checks saying "not yet" or "not this one": nobody needs telling. */
const REVOKE_DECLINED = new Set(['GracePeriodNotOverError', 'RevokeRefusedError']);
/** Revoke errors a retry may mend. */
const REVOKE_RETRYABLE = new Set([
  'ProviderRateLimitError',
  'ProviderUnavailableError',
  'SecretStoreError',
  'AccessKeyInFlightError',
  'RedactedError',
]);

/**
 * Sends the revoke input for each superseded version to this product's API-key function, and
 * sorts its answers: revoked, declined by its own checks, refused (a person decides), or failed
 * (retried). A revoked AWSPREVIOUS is then tagged `rotation-previous-revoked`.
 */
export async function revoke(deps: ExecutorDependencies, item: WorkItem, versionIds: readonly string[]) {
  const name = item.secret.name;
  const secret = await describeNow(deps.secretsManager, item.secret.arn);
  if (!secret) return [skipped(name, ActionKind.REVOKE, 'the secret no longer exists')];
  const prefix = evaluateSecret(
    { secret, rotatedAt: { state: 'not-read' } },
    deps.settings,
    deps.now(),
  ).managedPrefix;
  const target = ourFunctionArn(deps.settings, secret, prefix);
  if (!target || secret.owningService)
    return [skipped(name, ActionKind.REVOKE, 'no longer a secret whose keys this product manages')];
  const outcomes: ActionOutcome[] = [];
  for (const versionId of versionIds) {
    const base = { secret: name, action: ActionKind.REVOKE, versionId };
    try {
      const answer = await deps.revoker.revoke(target, {
        action: 'revoke',
        SecretId: secret.arn,
        VersionId: versionId,
      });
      outcomes.push({
        ...base,
        status: OutcomeStatus.DONE,
        reason:
          answer.revoked.length > 0
            ? `revoked ${answer.revoked.join(', ')}`
            : answer.manual.length > 0
              ? `only a person can revoke it: ${answer.manual.join('; ')}`
              : 'nothing left to revoke (already revoked)',
        revoked: answer.revoked,
        ...(answer.manual.length > 0 ? { notice: NoticeKind.MANUAL_ACTION } : {}),
      });
    } catch (error) {
      if (!(error instanceof RevocationFailedError)) {
        outcomes.push(failed(item, ActionKind.REVOKE, error, versionId));
        continue;
      }
      const reason = `${error.errorType}: ${error.errorMessage}`;
      if (REVOKE_RETRYABLE.has(error.errorType))
        outcomes.push({ ...base, status: OutcomeStatus.FAILED, reason, notice: NoticeKind.ACTION_FAILED });
      else if (REVOKE_DECLINED.has(error.errorType))
        outcomes.push({ ...base, status: OutcomeStatus.REFUSED, reason });
      else
        outcomes.push({ ...base, status: OutcomeStatus.REFUSED, reason, notice: NoticeKind.KEY_NOT_REVOKED });
    }
  }
  // The record of AWSPREVIOUS stays (the next rotation reads it), so a run would ask for the
  // same revocation every day: the version is marked revoked, and later runs leave it alone.
  const previous = outcomes.find(
    (o) =>
      o.status === OutcomeStatus.DONE &&
      (o.revoked?.length ?? 0) > 0 &&
      o.versionId !== undefined &&
      secret.versions[o.versionId]?.includes(Stage.PREVIOUS),
  )?.versionId;
  if (previous) {
    try {
      await deps.secretsManager.send(
        new TagResourceCommand({
          SecretId: secret.arn,
          Tags: [{ Key: PolicyTag.PREVIOUS_REVOKED, Value: previous }],
        }),
      );
    } catch (error) {
      deps.logger.warn(
        'the revoked AWSPREVIOUS could not be marked revoked; the next run asks for its revocation again',
        {
          versionId: previous,
          error: summarizeError(error),
        },
      );
    }
  }
  return outcomes;
}
