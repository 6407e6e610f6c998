/**
 * Carries out one work item, in the enforcer's run or in the worker: repair, revoke,
 * configure, start, in that order. Every action reads the secret again and decides from what
 * it finds and from this function's own configuration, not from the plan: a secret rotated,
 * reconfigured, handed to another service or deleted since the plan is left alone. Every
 * action is idempotent, so an item may run twice (a repeated queue message, a retry).
 */
import {
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  ListSecretVersionIdsCommand,
  ResourceNotFoundException,
  RotateSecretCommand,
  type RotateSecretCommandInput,
  type SecretsManagerClient,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { describedSecretMetadata, functionArnBesideSecret, toRotationRulesType } from '../fleet/index.js';
import { type Logger, RedactedError, redactError, summarizeError } from '../logging/index.js';
import { functionName } from '../policy/format.js';
import {
  describeRotationRules,
  evaluateSecret,
  type PolicySettings,
  PolicyTag,
  pendingVersionOf,
  type SecretMetadata,
} from '../policy/index.js';
import {
  RepairStatus,
  type RotationInvoker,
  repairStuckRotation,
  StepInvocationError,
} from '../repair/index.js';
import { Stage } from '../rotation/constants.js';
import { SecretStoreError } from '../rotation/errors.js';
import type { SecretStore } from '../rotation/secret-store.js';
import { RevocationFailedError, WorkItemFailedError } from './errors.js';
import { ActionKind, type ActionOutcome, NoticeKind, OutcomeStatus } from './outcome.js';
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

/** Thrown by the step runner of a repair when a secret's rotation function is not this product's. */
export class ForeignRotationFunctionError extends StepInvocationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ForeignRotationFunctionError';
  }
}

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
 * Carries out `item` and says how each action ended.
 * @throws {WorkItemFailedError} (with every action's outcome) when an action failed in a way a
 * retry may mend; the item may then be run again as a whole.
 */
export async function executeWorkItem(deps: ExecutorDependencies, item: WorkItem): Promise<ActionOutcome[]> {
  const logger = deps.logger.createChild({
    persistentKeys: { secretName: item.secret.name, runId: item.run.id },
  });
  const scoped = { ...deps, logger };
  const outcomes: ActionOutcome[] = [];
  const record = (outcome: ActionOutcome) => {
    outcomes.push(outcome);
    const fields = {
      action: outcome.action,
      status: outcome.status,
      reason: outcome.reason,
      versionId: outcome.versionId,
      revoked: outcome.revoked,
    };
    if (outcome.status === OutcomeStatus.FAILED) logger.error('enforcement action failed', fields);
    else if (outcome.notice)
      logger.warn('enforcement action needs a person', { ...fields, notice: outcome.notice });
    else logger.info('enforcement action', fields);
  };
  const attempt = async (action: ActionKind, work: () => Promise<ActionOutcome[]>) => {
    try {
      for (const outcome of await work()) record(outcome);
    } catch (error) {
      record(failed(item, action, error));
    }
  };
  if (item.repair) await attempt(ActionKind.REPAIR, () => repair(scoped, item));
  if (item.revoke) await attempt(ActionKind.REVOKE, () => revoke(scoped, item, item.revoke ?? []));
  if (item.configure || item.start)
    await attempt(item.start ? ActionKind.START : ActionKind.CONFIGURE, () => configureOrStart(scoped, item));
  const failures = outcomes.filter((o) => o.status === OutcomeStatus.FAILED);
  if (failures.length > 0)
    throw new WorkItemFailedError(
      `${failures.map((f) => `${f.action} failed: ${f.reason}`).join('; ')} (secret ${item.secret.name})`,
      outcomes,
    );
  return outcomes;
}

/** A failed action; an error this product did not raise is named, its message withheld (it may quote anything). */
function failed(item: WorkItem, action: ActionKind, error: unknown, versionId?: string): ActionOutcome {
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
function ourFunctionArn(
  settings: PolicySettings,
  secret: Pick<SecretMetadata, 'arn'>,
  prefix: string | undefined,
) {
  const configured = prefix ? settings.rotationFunctions[prefix] : undefined;
  return configured ? functionArnBesideSecret(configured, secret.arn) : undefined;
}

async function repair(deps: ExecutorDependencies, item: WorkItem): Promise<ActionOutcome[]> {
  const name = item.secret.name;
  const secret = await describe(deps.secretsManager, item.secret.arn);
  if (!secret) return [skipped(name, ActionKind.REPAIR, 'the secret no longer exists')];
  const evaluation = evaluateSecret({ secret, rotatedAt: { state: 'not-read' } }, deps.settings, deps.now());
  const expected = ourFunctionArn(deps.settings, secret, evaluation.managedPrefix);
  if (secret.owningService || !expected)
    return [skipped(name, ActionKind.REPAIR, 'no longer a secret whose rotation this product manages')];
  // Another function's rotation, even its empty placeholder, is not ours to touch.
  if (!secret.rotationLambdaArn || functionName(secret.rotationLambdaArn) !== functionName(expected))
    return [
      {
        secret: name,
        action: ActionKind.REPAIR,
        status: OutcomeStatus.REFUSED,
        reason: `its rotation belongs to ${secret.rotationLambdaArn ? functionName(secret.rotationLambdaArn) : 'no function'}, not this product's ${functionName(expected)}: finish it with that function, or remove the label if its version holds no value`,
        notice: NoticeKind.STUCK_BEYOND_REPAIR,
      },
    ];
  const result = await repairStuckRotation(
    {
      secretsManager: deps.secretsManager,
      store: deps.store,
      invoker: ownFunctionOnly(deps.steps, expected),
      logger: deps.logger,
      now: deps.now,
    },
    secret.arn,
    { minAgeMs: deps.repairMinAgeMs },
  );
  const base = {
    secret: name,
    action: ActionKind.REPAIR,
    ...(result.versionId ? { versionId: result.versionId } : {}),
  };
  const said = `${result.action}: ${result.reason}`;
  switch (result.status) {
    case RepairStatus.REPAIRED:
      return [{ ...base, status: OutcomeStatus.DONE, reason: said }];
    case RepairStatus.NOT_NEEDED:
    case RepairStatus.PLANNED:
      return [{ ...base, status: OutcomeStatus.SKIPPED, reason: result.reason }];
    case RepairStatus.DEFERRED:
      return [
        {
          ...base,
          status: OutcomeStatus.SKIPPED,
          reason: result.reason,
          ...(result.ageMs === undefined ? { notice: NoticeKind.STUCK_BEYOND_REPAIR } : {}),
        },
      ];
    case RepairStatus.FAILED:
      if (result.failure?.errorType === 'StepInvocationError')
        return [{ ...base, status: OutcomeStatus.FAILED, reason: said, notice: NoticeKind.ACTION_FAILED }];
      return [
        { ...base, status: OutcomeStatus.REFUSED, reason: said, notice: NoticeKind.STUCK_BEYOND_REPAIR },
      ];
    default: {
      const unknown: never = result.status;
      throw new Error(`unhandled repair status ${String(unknown)}`);
    }
  }
}

/** A step runner that runs steps only through `expectedArn` (this product's function for the secret). */
function ownFunctionOnly(invoker: RotationInvoker, expectedArn: string): RotationInvoker {
  return {
    description: invoker.description,
    invoke: async (target, event) => {
      if (!target.functionArn || functionName(target.functionArn) !== functionName(expectedArn))
        throw new ForeignRotationFunctionError(
          `secret ${target.secretName} is rotated by ${target.functionArn ? functionName(target.functionArn) : 'no function'}, not this product's ${functionName(expectedArn)}: its steps are not run`,
        );
      return invoker.invoke(target, event);
    },
  };
}

async function revoke(deps: ExecutorDependencies, item: WorkItem, versionIds: readonly string[]) {
  const name = item.secret.name;
  const secret = await describe(deps.secretsManager, item.secret.arn);
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

/**
 * Corrects the rotation settings (`RotateImmediately: false`), or starts the rotation
 * (`RotateImmediately: true`, with the corrected settings in the same call when they need
 * correcting), after checking the fresh state: still ours to change, nothing pending, not
 * started today already (no version with today's token), not rotated since the plan, and
 * inside its rotation window unless the run ignores windows.
 */
async function configureOrStart(deps: ExecutorDependencies, item: WorkItem): Promise<ActionOutcome[]> {
  const name = item.secret.name;
  const action = item.start ? ActionKind.START : ActionKind.CONFIGURE;
  const secret = await describe(deps.secretsManager, item.secret.arn);
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
    const after = await describe(deps.secretsManager, secret.arn);
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
  if (await versionExists(deps.secretsManager, secret.arn, token))
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

/** RotateSecret; a failure becomes a {@link SecretStoreError} naming what was being done and AWS's error. */
async function rotateSecret(client: SecretsManagerClient, what: string, input: RotateSecretCommandInput) {
  try {
    return await client.send(new RotateSecretCommand(input));
  } catch (error) {
    const { name, message } =
      error instanceof Error ? error : { name: 'UnknownError', message: String(error) };
    throw new SecretStoreError(`Secrets Manager could not ${what}: ${name}: ${message}`, { cause: error });
  }
}

function skipped(secret: string, action: ActionKind, reason: string, versionId?: string): ActionOutcome {
  return { secret, action, status: OutcomeStatus.SKIPPED, reason, ...(versionId ? { versionId } : {}) };
}

/**
 * The secret's metadata now (`DescribeSecret`), or undefined when it no longer exists.
 * @throws {SecretStoreError} when the call fails otherwise.
 */
async function describe(client: SecretsManagerClient, arn: string): Promise<SecretMetadata | undefined> {
  let out: DescribeSecretCommandOutput;
  try {
    out = await client.send(new DescribeSecretCommand({ SecretId: arn }));
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    const { name, message } =
      error instanceof Error ? error : { name: 'UnknownError', message: String(error) };
    throw new SecretStoreError(`Secrets Manager could not describe secret ${arn}: ${name}: ${message}`, {
      cause: error,
    });
  }
  if (out.DeletedDate) return undefined;
  return describedSecretMetadata(out);
}

/**
 * True when the secret has a version `versionId`, labelled or not (`ListSecretVersionIds`
 * with `IncludeDeprecated`: a failed rotation's placeholder loses its label but keeps its id).
 * @throws {SecretStoreError} when the versions cannot be listed (the start fails closed).
 */
async function versionExists(client: SecretsManagerClient, arn: string, versionId: string): Promise<boolean> {
  let nextToken: string | undefined;
  try {
    do {
      const page = await client.send(
        new ListSecretVersionIdsCommand({
          SecretId: arn,
          IncludeDeprecated: true,
          MaxResults: 100,
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      );
      if (page.Versions?.some((version) => version.VersionId === versionId)) return true;
      nextToken = page.NextToken || undefined;
    } while (nextToken);
  } catch (error) {
    const { name, message } =
      error instanceof Error ? error : { name: 'UnknownError', message: String(error) };
    throw new SecretStoreError(`Secrets Manager could not list the versions of ${arn}: ${name}: ${message}`, {
      cause: error,
    });
  }
  return false;
}
