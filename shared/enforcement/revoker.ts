/**
 * Delivers rotateApiKey's revoke input (`{"action": "revoke", "SecretId", "VersionId"}`, never
 * `force`) and reads its answer: in AWS a synchronous Lambda invoke of this product's API-key
 * function, locally its real handler in process. The revoke path itself checks the grace
 * period and that the keys are this secret's before it revokes anything.
 */
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { awsErrorText } from '../logging/aws-error.js';
import { type InvokeAnswer, invokeSynchronously, truncate } from '../repair/invoker.js';
import * as z from '../zod.js';
import { RevocationFailedError, RevocationInvocationError } from './errors.js';

/** The revoke input, exactly as a scheduled revocation sends it: never forced. */
export interface RevokeInput {
  readonly action: 'revoke';
  readonly SecretId: string;
  readonly VersionId: string;
}

/** What the revoke path answered: the hints of the keys it revoked, and reminders for a person. */
export interface RevokeAnswer {
  readonly revoked: readonly string[];
  readonly manual: readonly string[];
}

/** Sends revoke inputs to this product's API-key function. */
export interface RevocationInvoker {
  readonly description: string;
  /**
   * @throws {RevocationFailedError} when the function answered with an error (its type and message).
   * @throws {RevocationInvocationError} when the input could not be delivered.
   */
  revoke(functionArn: string, input: RevokeInput): Promise<RevokeAnswer>;
}

const answerSchema = z.object({
  action: z.literal('revoke'),
  revoked: z.array(z.string()),
  manual: z.array(z.string()),
});

function readAnswer(body: unknown, functionArn: string): RevokeAnswer {
  const parsed = answerSchema.safeParse(body);
  if (!parsed.success)
    throw new RevocationInvocationError(
      `${functionArn} answered the revoke input without a revocation result: it is not this product's API-key function`,
    );
  return { revoked: parsed.data.revoked, manual: parsed.data.manual };
}

/** Sends the revoke input with a synchronous Lambda invoke. */
export class LambdaRevocationInvoker implements RevocationInvoker {
  readonly description = "a synchronous Lambda invoke of this product's API-key function";
  readonly #client: LambdaClient;

  constructor(client: LambdaClient) {
    this.#client = client;
  }

  async revoke(functionArn: string, input: RevokeInput): Promise<RevokeAnswer> {
    let answer: InvokeAnswer;
    try {
      answer = await invokeSynchronously(this.#client, functionArn, input);
    } catch (error) {
      throw new RevocationInvocationError(
        `could not invoke ${functionArn} with the revoke input for version ${input.VersionId}: ${awsErrorText(error)}`,
        { cause: error },
      );
    }
    if (!answer.ok) throw new RevocationFailedError(answer.errorType, answer.errorMessage);
    return readAnswer(answer.body, functionArn);
  }
}

/** Calls the API-key function's handler in this process (local runs: moto cannot invoke a Lambda). */
export class InProcessRevocationInvoker implements RevocationInvoker {
  readonly description = 'the real rotateApiKey handler, called in this process';
  readonly #handler: (functionArn: string, input: RevokeInput) => Promise<unknown>;

  constructor(handler: (functionArn: string, input: RevokeInput) => Promise<unknown>) {
    this.#handler = handler;
  }

  async revoke(functionArn: string, input: RevokeInput): Promise<RevokeAnswer> {
    let result: unknown;
    try {
      result = await this.#handler(functionArn, input);
    } catch (error) {
      // As a Lambda function error would report it: name and message, no cause, no stack.
      const { name, message } =
        error instanceof Error ? error : { name: 'UnknownError', message: String(error) };
      throw new RevocationFailedError(name, truncate(message));
    }
    return readAnswer(result, functionArn);
  }
}
