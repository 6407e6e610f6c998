/** Rotation settings and starts: RotateSecret, after checking the fresh state. */
import { toRotationRulesType } from '../fleet/index.js';
import { functionName } from '../policy/format.js';
import {
  describeRotationRules,
  evaluateSecret,
  pendingVersionOf,
  type SecretMetadata,
} from '../policy/index.js';
import { Stage } from '../rotation/constants.js';
import { type ExecutorDependencies, ourFunctionArn, skipped } from './action.js';
import { describeNow, rotateSecret } from './calls.js';
import { ActionKind, type ActionOutcome, NoticeKind, OutcomeStatus } from './outcome.js';
import type { WorkItem } from './work-item.js';

/**
 * Corrects the rotation settings (`RotateImmediately: false`), or starts the rotation
 * (`RotateImmediately: true`, with the corrected settings in the same call when they need
 * correcting), after checking the fresh state: still ours to change, nothing pending, not
 * started today already (no version with today's token), not rotated since the plan, and
 * inside its rotation window unless the run ignores windows.
 */
export async function configureOrStart(deps: ExecutorDependencies, item: WorkItem): Promise<ActionOutcome[]> {
  const name = item.secret.name;
  const action = item.start ? ActionKind.START : ActionKind.CONFIGURE;
  const secret = await describeNow(deps.secretsManager, item.secret.arn);
  if (!secret) return [skipped(name, action, 'the secret no longer exists')];
  const now = deps.now();
  const evaluation = evaluateSecret({ secret, rotatedAt: { state: 'not-read' } }, deps.settings, now);
  const { actions } = evaluation;
  const functionArn = ourFunctionArn(deps.settings, secret, evaluation.managedPrefix);
  if (secret.owningService)
    return [
      {
        ...skipped(
          name,
          action,
          `managed by ${secret.owningService} (OwningService) now: never changed by this product`,
        ),
        notice: NoticeKind.MANAGED_BY_ANOTHER_SERVICE,
      },
    ];
  if (!functionArn || !actions.mayChangeRotationSettings)
    return [
      skipped(
        name,
        action,
        `its rotation settings are not this product's to change (${actions.unattendedBlockers.join('; ') || 'no rotation function for its prefix'})`,
      ),
    ];
  const settings = actions.configureRotation;
  const rules = settings ? toRotationRulesType(settings.rotationRules) : undefined;
  const described = settings
    ? ` (${settings.reasons.join('; ')}: ${functionName(functionArn)}, ${describeRotationRules(settings.rotationRules)})`
    : '';

  const pending = pendingVersionOf(secret) !== undefined;
  const configure = async (): Promise<ActionOutcome> => {
    if (!settings)
      return skipped(name, ActionKind.CONFIGURE, "its rotation settings are already the policy's");
    if (pending)
      return skipped(
        name,
        ActionKind.CONFIGURE,
        'a rotation is pending: Secrets Manager refuses new settings until it ends; the next run corrects them',
      );
    await rotateSecret(deps.secretsManager, `set the rotation settings of ${name}`, {
      SecretId: secret.arn,
      RotationLambdaARN: functionArn,
      RotationRules: rules,
      RotateImmediately: false,
    });
    return {
      secret: name,
      action: ActionKind.CONFIGURE,
      status: OutcomeStatus.DONE,
      reason: `rotation settings set${described}`,
    };
  };
  if (!item.start) return [await configure()];

  // A start that is no longer wanted still leaves the settings corrected.
  const { token } = item.start;
  const notStarted = await whyNotStart(deps, item, secret, evaluation);
  if (notStarted)
    return [
      skipped(name, action, `not started: ${notStarted}`, token),
      ...(settings ? [await configure()] : []),
    ];
  try {
    await rotateSecret(deps.secretsManager, `start the rotation of ${name}`, {
      SecretId: secret.arn,
      ClientRequestToken: token,
      RotationLambdaARN: functionArn,
      ...(rules ? { RotationRules: rules } : {}),
      RotateImmediately: true,
    });
  } catch (error) {
    // A lost answer, or moto (which stages the version, then cannot invoke the function): the
    // rotation started if its version is staged AWSPENDING.
    const after = await describeNow(deps.secretsManager, secret.arn);
    if (!after?.versions[token]?.includes(Stage.PENDING)) throw error;
    deps.logger.warn(
      'RotateSecret answered an error after staging the new version; the rotation has started',
      {
        versionId: token,
        error: error instanceof Error ? error.name : 'UnknownError',
      },
    );
  }
  return [
    ...(settings
      ? [
          {
            secret: name,
            action: ActionKind.CONFIGURE,
            status: OutcomeStatus.DONE,
            reason: `rotation settings set with the start${described}`,
          },
        ]
      : []),
    { secret: name, action, status: OutcomeStatus.DONE, reason: 'rotation started', versionId: token },
  ];
}

/** Why the start must not happen now, from the fresh state; undefined when it may. */
async function whyNotStart(
  deps: ExecutorDependencies,
  item: WorkItem,
  secret: SecretMetadata,
  evaluation: ReturnType<typeof evaluateSecret>,
): Promise<string | undefined> {
  const { actions } = evaluation;
  const token = item.start?.token ?? '';
  // Unlabelled versions count: a failed start's placeholder loses its label, keeps its id.
  if (await deps.store.findVersion(secret.arn, token, { includeDeprecated: true }))
    return `version ${token} exists, so this rotation was already started today`;
  if (secret.lastRotatedDate && secret.lastRotatedDate.getTime() >= Date.parse(item.run.at))
    return `rotated at ${secret.lastRotatedDate.toISOString()}, after the plan`;
  if (pendingVersionOf(secret)) return 'a rotation is pending (in progress, or stuck until a repair)';
  // The age is not read again here (the plan read it); every other blocker counts.
  const blockers = actions.unattendedBlockers.filter((b) => b !== 'the age is unknown');
  if (blockers.length > 0) return blockers.join('; ');
  if (!item.run.ignoreWindows && !actions.insideRotationWindow)
    return 'outside its rotation window now; Secrets Manager rotates it when the window opens';
  return undefined;
}
