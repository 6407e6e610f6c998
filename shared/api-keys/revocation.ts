import { createHash } from 'node:crypto';
import {
  ConflictException,
  CreateScheduleCommand,
  GetScheduleCommand,
  type GetScheduleCommandOutput,
  ResourceNotFoundException,
  type SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { awsErrorText } from '../logging/aws-error.js';
import { RotationError } from '../rotation/errors.js';
import { notAJsonObject } from '../rotation/parse.js';
import * as z from '../zod.js';
import { RevocationNotScheduledError } from './errors.js';

/**
 * The input that makes `rotateApiKey` revoke the keys of one superseded version:
 * `{"action": "revoke", "SecretId": "<name or ARN>", "VersionId": "<version id>"}`, plus
 * `"force": true` to revoke before the version's grace period is over.
 */
export interface RevocationRequest {
  readonly action: 'revoke';
  readonly SecretId: string;
  readonly VersionId: string;
  /** Revoke even inside the grace period (or when its start is unknown). */
  readonly force?: boolean;
}

const requiredString = () => z.requiredString().check(z.trim());

const revocationSchema = z.object({
  action: z.literal('revoke', { error: 'must be "revoke"' }),
  SecretId: requiredString().check(z.minLength(1, 'is required')),
  VersionId: requiredString().check(z.minLength(1, 'is required'), z.maxLength(64, 'must be a version id')),
  force: z.optional(z.boolean({ error: 'must be true or false' })),
});

/** Thrown when a revoke input is malformed. */
export class InvalidRevocationRequestError extends RotationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidRevocationRequestError';
  }
}

/** True when an invocation asks for a revocation rather than a rotation step. */
export function isRevocationRequest(input: unknown): boolean {
  return notAJsonObject('input', input) === undefined && 'action' in (input as object);
}

/** Validates a revoke input; the error names what is wrong (the input's type, each field's), never a value. */
export function parseRevocationRequest(input: unknown): RevocationRequest {
  const notObject = notAJsonObject('revoke input', input);
  if (notObject) throw new InvalidRevocationRequestError(`invalid revoke input: ${notObject}`);
  const parsed = revocationSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'input'} ${issue.message}`);
  throw new InvalidRevocationRequestError(`invalid revoke input: ${problems.join('; ')}`);
}

/** Arranges for a revocation to run later. */
export interface RevocationScheduler {
  /**
   * Schedules `request` no earlier than `at`. Scheduling the same request twice is one
   * schedule, at the later of the two times.
   */
  schedule(request: RevocationRequest, at: Date): Promise<void>;
}

/** Where scheduled revocations are sent. */
export interface EventBridgeSchedulerOptions {
  /**
   * ARN of the function the schedules invoke: `rotateApiKey` itself, as it was invoked
   * (known only during an invocation, so no deployment-time reference is needed). A
   * qualified ARN (alias or version) is kept, so the revocation runs the code that rotated.
   */
  readonly targetArn: () => string | undefined;
  /** Name of the role EventBridge Scheduler assumes to invoke it, in the function's account. */
  readonly roleName: string;
  readonly groupName: string;
  /** The SQS queue, in the function's account and region, that receives a schedule's failed invocation. */
  readonly deadLetterQueueName?: string;
  /**
   * Used when the invocation names no function ARN (`serverless invoke local`): there is
   * nothing a schedule could invoke, so the revocation is left to the next rotation.
   */
  readonly withoutTarget: RevocationScheduler;
}

/** The ARN of role `roleName` in the partition and account of `functionArn`. */
export function roleArnBeside(functionArn: string, roleName: string): string {
  const [, partition, , , account] = functionArn.split(':');
  if (!partition || !account)
    throw new RotationError(`cannot read the account of function ARN ${functionArn}`);
  return `arn:${partition}:iam::${account}:role/${roleName}`;
}

/** The ARN of SQS queue `queueName` in the partition, region and account of `functionArn`. */
export function queueArnBeside(functionArn: string, queueName: string): string {
  const [, partition, , region, account] = functionArn.split(':');
  if (!partition || !region || !account)
    throw new RotationError(`cannot read the region and account of function ARN ${functionArn}`);
  return `arn:${partition}:sqs:${region}:${account}:${queueName}`;
}

/** EventBridge Scheduler's one-time expression for `at`, rounded UP to its whole second. */
export function atExpression(at: Date): string {
  const second = new Date(Math.ceil(at.getTime() / 1000) * 1000);
  return `at(${second.toISOString().slice(0, 19)})`;
}

/** The time of a one-time `at(…)` expression in UTC, or undefined for any other expression. */
function timeOf(expression: string | undefined, timezone: string | undefined): number | undefined {
  const match = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/.exec(expression ?? '');
  if (!match || (timezone !== undefined && timezone !== 'UTC')) return undefined;
  const time = Date.parse(`${match[1]}Z`);
  return Number.isNaN(time) ? undefined : time;
}

/**
 * Schedules revocations as one-time EventBridge Scheduler schedules (`at(…)`, UTC, the grace
 * period's end rounded up to the second) that invoke `rotateApiKey` with the revoke input and
 * delete themselves after running. The schedule's name is derived from the secret and version:
 * when one of that name exists (a retried finishSecret, or a version superseded again after a
 * rollback), the later of the two times wins, so a revocation is never brought forward.
 */
export class EventBridgeRevocationScheduler implements RevocationScheduler {
  readonly #client: SchedulerClient;
  readonly #options: EventBridgeSchedulerOptions;

  constructor(client: SchedulerClient, options: EventBridgeSchedulerOptions) {
    this.#client = client;
    this.#options = options;
  }

  async schedule(request: RevocationRequest, at: Date): Promise<void> {
    const targetArn = this.#options.targetArn();
    if (!targetArn) return this.#options.withoutTarget.schedule(request, at);
    const name = scheduleName(request);
    const { groupName, deadLetterQueueName } = this.#options;
    const definition = (expression: string) => ({
      Name: name,
      GroupName: groupName,
      ScheduleExpression: expression,
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' as const },
      ActionAfterCompletion: 'DELETE' as const,
      State: 'ENABLED' as const,
      Description: `Revoke the keys of version ${request.VersionId} after their grace period`,
      Target: {
        Arn: targetArn,
        RoleArn: roleArnBeside(targetArn, this.#options.roleName),
        // Only the three fields: a schedule never forces a revocation.
        Input: JSON.stringify({ action: 'revoke', SecretId: request.SecretId, VersionId: request.VersionId }),
        RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 86_400 },
        ...(deadLetterQueueName
          ? { DeadLetterConfig: { Arn: queueArnBeside(targetArn, deadLetterQueueName) } }
          : {}),
      },
    });
    const wanted = definition(atExpression(at));
    const failed = (error: unknown) =>
      new RevocationNotScheduledError(
        `could not schedule the revocation of version ${request.VersionId} (schedule ${groupName}/${name}): ${awsErrorText(error)}`,
        { cause: error },
      );
    // Create; on a name clash read the schedule there and keep the later time. A schedule
    // that runs (and deletes itself) in between makes the loop try again.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.#client.send(new CreateScheduleCommand(wanted));
        return;
      } catch (error) {
        if (!(error instanceof ConflictException)) throw failed(error);
      }
      let existing: GetScheduleCommandOutput;
      try {
        existing = await this.#client.send(new GetScheduleCommand({ Name: name, GroupName: groupName }));
      } catch (error) {
        if (error instanceof ResourceNotFoundException) continue;
        throw failed(error);
      }
      const theirs = timeOf(existing.ScheduleExpression, existing.ScheduleExpressionTimezone);
      const ours = timeOf(wanted.ScheduleExpression, 'UTC') ?? 0;
      const same =
        existing.State !== 'DISABLED' &&
        existing.Target?.Arn === wanted.Target.Arn &&
        existing.Target?.RoleArn === wanted.Target.RoleArn &&
        existing.Target?.Input === wanted.Target.Input;
      if (same && theirs !== undefined && theirs >= ours) return;
      const later =
        theirs !== undefined && theirs > ours ? definition(atExpression(new Date(theirs))) : wanted;
      try {
        await this.#client.send(new UpdateScheduleCommand(later));
        return;
      } catch (error) {
        if (error instanceof ResourceNotFoundException) continue;
        throw failed(error);
      }
    }
    throw new RevocationNotScheduledError(
      `could not schedule the revocation of version ${request.VersionId}: schedule ${groupName}/${name} kept appearing and disappearing; retry`,
    );
  }
}

/**
 * Stands in where no schedule can be made (local runs: no scheduler role, or no function
 * ARN): it says why, and that the next rotation revokes the key once its grace period is
 * over (its start is recorded on the secret either way).
 */
export class UnscheduledRevocations implements RevocationScheduler {
  readonly #logger: { warn(message: string, ...attributes: Record<string, unknown>[]): void };
  readonly #reason: string;
  constructor(
    logger: { warn(message: string, ...attributes: Record<string, unknown>[]): void },
    reason = 'REVOKE_SCHEDULER_ROLE_NAME is unset',
  ) {
    this.#logger = logger;
    this.#reason = reason;
  }
  async schedule(request: RevocationRequest, at: Date): Promise<void> {
    this.#logger.warn(
      'revocation not scheduled; the next rotation revokes the key once its grace period is over',
      {
        reason: this.#reason,
        versionId: request.VersionId,
        dueAt: at.toISOString(),
      },
    );
  }
}

/** `revoke-` and a hash of the secret and version: at most 64 characters, as Scheduler requires. */
export function scheduleName(request: RevocationRequest): string {
  const digest = createHash('sha256').update(`${request.SecretId}\n${request.VersionId}`).digest('hex');
  return `revoke-${digest.slice(0, 40)}`;
}
