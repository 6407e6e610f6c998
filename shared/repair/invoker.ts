import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { awsErrorText } from '../logging/aws-error.js';
import type { StepName } from '../rotation/constants.js';
import * as z from '../zod.js';
import { StepFailedError, StepInvocationError } from './errors.js';

/** The event Secrets Manager sends a rotation function for one step (no RotationToken: a person's run). */
export interface RotationStepEvent {
  readonly SecretId: string;
  readonly ClientRequestToken: string;
  readonly Step: StepName;
}

/** Which function runs a secret's steps. */
export interface StepTarget {
  readonly secretName: string;
  /** The secret's `RotationLambdaARN`, if it has one. */
  readonly functionArn: string | undefined;
}

/** How one step ended, as the rotation function answered (`done`, `already-done`, `already-current`). */
export interface StepReport {
  readonly step: StepName;
  readonly outcome: string;
}

/**
 * Runs one rotation step at a time and waits for its answer: in AWS a synchronous Lambda
 * invoke of the secret's rotation function, locally the real handlers in process.
 */
export interface RotationInvoker {
  /** Says how steps are run, for logs and the first line of local scripts. */
  readonly description: string;
  /**
   * Runs one step and returns how it ended.
   * @throws {StepFailedError} when the step ran and failed (its error type and message).
   * @throws {StepInvocationError} when the step could not be run at all.
   */
  invoke(target: StepTarget, event: RotationStepEvent): Promise<StepReport>;
}

/** The longest step error message kept; Lambda truncates payloads, this keeps alerts short. */
const MAX_MESSAGE = 1000;

const errorPayload = z.object({
  errorType: z.optional(z.string()),
  errorMessage: z.optional(z.string()),
});
const resultPayload = z.object({ outcome: z.string() });

/**
 * Runs steps with a synchronous Lambda invoke (`RequestResponse`) of the secret's rotation
 * function, with the event Secrets Manager would send. A function error is reported by its
 * `errorType` and `errorMessage` only (never its stack trace).
 */
export class LambdaRotationInvoker implements RotationInvoker {
  readonly description = "a synchronous Lambda invoke of the secret's rotation function";
  readonly #client: LambdaClient;

  constructor(client: LambdaClient) {
    this.#client = client;
  }

  async invoke(target: StepTarget, event: RotationStepEvent): Promise<StepReport> {
    const { functionArn } = target;
    if (!functionArn) {
      throw new StepInvocationError(
        `secret ${target.secretName} has no rotation function (RotationLambdaARN), so ${event.Step} cannot be run: configure rotation first`,
      );
    }
    let answer: InvokeAnswer;
    try {
      answer = await invokeSynchronously(this.#client, functionArn, event);
    } catch (error) {
      throw new StepInvocationError(
        `could not invoke ${functionArn} for ${event.Step} of secret ${target.secretName}: ${awsErrorText(error)}`,
        { cause: error },
      );
    }
    if (!answer.ok) throw new StepFailedError(event.Step, answer.errorType, answer.errorMessage);
    const parsed = resultPayload.safeParse(answer.body);
    if (!parsed.success) {
      throw new StepInvocationError(
        `${functionArn} answered ${event.Step} of secret ${target.secretName} without an outcome: it is not one of this product's rotation functions`,
      );
    }
    return { step: event.Step, outcome: parsed.data.outcome };
  }
}

/** The answer of a synchronous invoke: the function's JSON result, or its error's type and message (never its stack). */
export type InvokeAnswer =
  | { readonly ok: true; readonly body: unknown }
  | { readonly ok: false; readonly errorType: string; readonly errorMessage: string };

/**
 * Invokes `functionArn` synchronously (`RequestResponse`) with `event` as JSON and reads its
 * answer. A function error is reported by its `errorType` and `errorMessage` (truncated).
 * Throws the SDK's error when the invoke itself fails; callers wrap it in their own.
 */
export async function invokeSynchronously(
  client: LambdaClient,
  functionArn: string,
  event: unknown,
): Promise<InvokeAnswer> {
  const out = await client.send(
    new InvokeCommand({
      FunctionName: functionArn,
      InvocationType: 'RequestResponse',
      Payload: new TextEncoder().encode(JSON.stringify(event)),
    }),
  );
  const body = parseJson(out.Payload ? new TextDecoder().decode(out.Payload) : '');
  if (!out.FunctionError) return { ok: true, body };
  const parsed = errorPayload.safeParse(body);
  return {
    ok: false,
    errorType: (parsed.success && parsed.data.errorType) || out.FunctionError,
    errorMessage: truncate((parsed.success && parsed.data.errorMessage) || 'the function gave no message'),
  };
}

/** A rotation function's handler, called in process with a step event. */
export type StepHandler = (event: RotationStepEvent, target: StepTarget) => Promise<unknown>;

/**
 * Runs steps through the real handlers in this process (local runs: moto cannot invoke a
 * Lambda). A handler's error is reported as a Lambda function error would be: its name and
 * message only, without its cause.
 */
export class InProcessRotationInvoker implements RotationInvoker {
  readonly description = 'the real rotation handlers, called in this process';
  readonly #handlerFor: (target: StepTarget) => StepHandler;

  /** @param handlerFor picks the handler for a secret (by its category, locally). */
  constructor(handlerFor: (target: StepTarget) => StepHandler) {
    this.#handlerFor = handlerFor;
  }

  async invoke(target: StepTarget, event: RotationStepEvent): Promise<StepReport> {
    const handler = this.#handlerFor(target);
    let result: unknown;
    try {
      result = await handler(event, target);
    } catch (error) {
      const { name, message } =
        error instanceof Error ? error : { name: 'UnknownError', message: String(error) };
      throw new StepFailedError(event.Step, name, truncate(message));
    }
    const parsed = resultPayload.safeParse(result);
    return { step: event.Step, outcome: parsed.success ? parsed.data.outcome : 'done' };
  }
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

/** `text`, cut to the longest message kept. */
export function truncate(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text;
}
