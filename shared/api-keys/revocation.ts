import { createHash } from 'node:crypto';
import { ConflictException, CreateScheduleCommand, type SchedulerClient } from '@aws-sdk/client-scheduler';
import { RotationError } from '../rotation/errors.js';
import { notAJsonObject } from '../rotation/parse.js';
import * as z from '../zod.js';

/**
 * The input that makes `rotateApiKey` revoke the keys of one superseded version:
 * `{"action": "revoke", "SecretId": "<name or ARN>", "VersionId": "<version id>"}`.
 */
export interface RevocationRequest {
  readonly action: 'revoke';
  readonly SecretId: string;
  readonly VersionId: string;
}

const requiredString = () => z.requiredString().check(z.trim());

const revocationSchema = z.object({
  action: z.literal('revoke', { error: 'must be "revoke"' }),
  SecretId: requiredString().check(z.minLength(1, 'is required')),
  VersionId: requiredString().check(z.minLength(1, 'is required'), z.maxLength(64, 'must be a version id')),
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
  /** Schedules `request` at `at`; scheduling the same request twice is one schedule. */
  schedule(request: RevocationRequest, at: Date): Promise<void>;
}

/** Where scheduled revocations are sent. */
export interface EventBridgeSchedulerOptions {
  /**
   * ARN of the function the schedules invoke: `rotateApiKey` itself, as it was invoked
   * (known only during an invocation, so no deployment-time reference is needed).
   */
  readonly targetArn: () => string | undefined;
  /** Name of the role EventBridge Scheduler assumes to invoke it, in the function's account. */
  readonly roleName: string;
  readonly groupName: string;
}

/** The ARN of role `roleName` in the partition and account of `functionArn`. */
export function roleArnBeside(functionArn: string, roleName: string): string {
  const [, partition, , , account] = functionArn.split(':');
  if (!partition || !account)
    throw new RotationError(`cannot read the account of function ARN ${functionArn}`);
  return `arn:${partition}:iam::${account}:role/${roleName}`;
}

/**
 * Schedules revocations as one-time EventBridge Scheduler schedules (`at(…)`, UTC) that
 * invoke `rotateApiKey` with the revoke input and delete themselves after running. The
 * schedule's name is derived from the secret and version, so a retried finishSecret finds
 * its schedule already there.
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
    if (!targetArn)
      throw new RotationError(
        'cannot schedule a revocation outside an invocation: the function ARN is unknown',
      );
    try {
      await this.#client.send(
        new CreateScheduleCommand({
          Name: scheduleName(request),
          GroupName: this.#options.groupName,
          ScheduleExpression: `at(${at.toISOString().slice(0, 19)})`,
          ScheduleExpressionTimezone: 'UTC',
          FlexibleTimeWindow: { Mode: 'OFF' },
          ActionAfterCompletion: 'DELETE',
          Description: `Revoke the keys of version ${request.VersionId} after their grace period`,
          Target: {
            Arn: targetArn,
            RoleArn: roleArnBeside(targetArn, this.#options.roleName),
            Input: JSON.stringify(request),
            RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 86_400 },
          },
        }),
      );
    } catch (error) {
      if (error instanceof ConflictException) return;
      throw new RotationError(
        `could not schedule the revocation of version ${request.VersionId}: ${(error as Error).name}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
}

/**
 * Stands in where no scheduler is configured (local runs): it says that the revocation is
 * left to the next rotation, which revokes every key whose grace period is over.
 */
export class UnscheduledRevocations implements RevocationScheduler {
  readonly #logger: { warn(message: string, ...attributes: Record<string, unknown>[]): void };
  constructor(logger: { warn(message: string, ...attributes: Record<string, unknown>[]): void }) {
    this.#logger = logger;
  }
  async schedule(request: RevocationRequest, at: Date): Promise<void> {
    this.#logger.warn(
      'revocation not scheduled: REVOKE_SCHEDULER_ROLE_NAME is unset; the next rotation revokes the key',
      {
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
