import {
  InvokeCommand,
  type InvokeCommandOutput,
  LambdaClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  InProcessRotationInvoker,
  LambdaRotationInvoker,
  StepFailedError,
  StepInvocationError,
} from '../../shared/repair/index.js';
import { rejectionOf } from '../support/rejection.js';

const lambda = mockClient(LambdaClient);
const FUNCTION_ARN =
  'arn:aws:lambda:us-east-1:123456789012:function:secrets-rotation-production-rotateDatabase';
const target = { secretName: 'production/database/primary', functionArn: FUNCTION_ARN };
const event = {
  SecretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:production/database/primary-AbCdEf',
  ClientRequestToken: '0b7d1f3e-4c5a-4e2b-9d8f-1a2b3c4d5e6f',
  Step: 'setSecret',
} as const;
/** A response payload as the SDK hands it over (its blob adapter is a Uint8Array with helpers the code does not use). */
const payload = (value: unknown) =>
  new TextEncoder().encode(JSON.stringify(value)) as InvokeCommandOutput['Payload'];

beforeEach(() => {
  lambda.reset();
});

describe('LambdaRotationInvoker', () => {
  it("invokes the secret's rotation function synchronously with the step event Secrets Manager sends", async () => {
    // Prepare
    lambda
      .on(InvokeCommand)
      .resolves({ StatusCode: 200, Payload: payload({ step: 'setSecret', outcome: 'done' }) });

    // Act
    const report = await new LambdaRotationInvoker(new LambdaClient({ region: 'us-east-1' })).invoke(
      target,
      event,
    );

    // Assess
    expect(report).toEqual({ step: 'setSecret', outcome: 'done' });
    const calls = lambda.commandCalls(InvokeCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    expect(input?.FunctionName).toBe(FUNCTION_ARN);
    expect(input?.InvocationType).toBe('RequestResponse');
    expect(JSON.parse(new TextDecoder().decode(input?.Payload as Uint8Array))).toEqual(event);
  });

  it("surfaces a function error's errorType and errorMessage, never its stack trace", async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: payload({
        errorType: 'NoWorkingCredentialError',
        errorMessage: 'none of the AWSCURRENT, AWSPREVIOUS or AWSPENDING passwords logs in',
        trace: ['NoWorkingCredentialError: at /var/task/secret-frame.cjs:1:1'],
      }),
    });

    const error = await rejectionOf(
      new LambdaRotationInvoker(new LambdaClient({ region: 'us-east-1' })).invoke(target, event),
    );

    expect(error).toBeInstanceOf(StepFailedError);
    expect(error).toMatchObject({
      step: 'setSecret',
      errorType: 'NoWorkingCredentialError',
      errorMessage: 'none of the AWSCURRENT, AWSPREVIOUS or AWSPENDING passwords logs in',
    });
    expect(JSON.stringify(error) + error.message + String(error.stack)).not.toContain('secret-frame');
  });

  it('falls back to the FunctionError kind when the payload carries no error type', async () => {
    lambda
      .on(InvokeCommand)
      .resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: payload('Task timed out') });

    const error = await rejectionOf(
      new LambdaRotationInvoker(new LambdaClient({ region: 'us-east-1' })).invoke(target, event),
    );

    expect(error).toMatchObject({ errorType: 'Unhandled', errorMessage: 'the function gave no message' });
  });

  it('throws a StepInvocationError naming the function when the invoke itself is refused', async () => {
    lambda
      .on(InvokeCommand)
      .rejects(new ResourceNotFoundException({ message: 'Function not found', $metadata: {} }));

    const error = await rejectionOf(
      new LambdaRotationInvoker(new LambdaClient({ region: 'us-east-1' })).invoke(target, event),
    );

    expect(error).toBeInstanceOf(StepInvocationError);
    expect(error.message).toContain(`could not invoke ${FUNCTION_ARN} for setSecret`);
    expect(error.message).toContain('ResourceNotFoundException');
  });

  it('refuses to run a step of a secret without a rotation function, calling nothing', async () => {
    const error = await rejectionOf(
      new LambdaRotationInvoker(new LambdaClient({ region: 'us-east-1' })).invoke(
        { secretName: 'production/database/primary', functionArn: undefined },
        event,
      ),
    );

    expect(error).toBeInstanceOf(StepInvocationError);
    expect(error.message).toContain('has no rotation function');
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
  });

  it('refuses an answer without an outcome: the function is not one of ours', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload(null) });

    const error = await rejectionOf(
      new LambdaRotationInvoker(new LambdaClient({ region: 'us-east-1' })).invoke(target, event),
    );

    expect(error.message).toContain('not one of this product');
  });
});

describe('InProcessRotationInvoker', () => {
  it('reports a handler error by name and message only, as a Lambda function error would be', async () => {
    const cause = new Error('value-bearing cause');
    const failing = new InProcessRotationInvoker(() => async () => {
      const error = new Error('the pending password does not log in', { cause });
      error.name = 'PendingTestFailedError';
      throw error;
    });

    const error = await rejectionOf(failing.invoke(target, { ...event, Step: 'testSecret' }));

    expect(error).toBeInstanceOf(StepFailedError);
    expect(error).toMatchObject({ step: 'testSecret', errorType: 'PendingTestFailedError' });
    expect(error.cause).toBeUndefined();
  });

  it("returns the handler's outcome", async () => {
    const invoker = new InProcessRotationInvoker(() => async (stepEvent) => ({
      step: stepEvent.Step,
      outcome: 'already-done',
    }));

    expect(await invoker.invoke(target, event)).toEqual({ step: 'setSecret', outcome: 'already-done' });
  });
});
