import { LambdaClient } from '@aws-sdk/client-lambda';
import type { Context } from 'aws-lambda';
import {
  InProcessRevocationInvoker,
  LambdaRevocationInvoker,
  type RevocationInvoker,
} from '../../shared/enforcement/revoker.js';
import {
  InProcessRotationInvoker,
  LambdaRotationInvoker,
  type RotationInvoker,
  type StepTarget,
} from '../../shared/repair/index.js';
import { managedCategory, StepRunner } from '../../shared/rotate-now/index.js';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

/** Where a step runs in process when the secret has no rotation function ARN (local runs). */
const LOCAL_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:local-rotation';

/**
 * Runs rotation steps through the real `rotateDatabase` and `rotateApiKey` handlers in this
 * process, picked by the secret's category (`{environment}/database/…`, `…/api-keys/…`), as
 * Secrets Manager would invoke them. For local runs against moto, which cannot invoke a
 * Lambda. The handlers are loaded on first use and read their configuration then.
 */
export function inProcessStepInvoker(environment: string): InProcessRotationInvoker {
  return new InProcessRotationInvoker((target) => async (event) => {
    const handler = await handlerFor(target, environment);
    return handler(event, contextFor(target));
  });
}

async function handlerFor(target: StepTarget, environment: string): Promise<Handler> {
  switch (managedCategory(target.secretName, environment)) {
    case 'database':
      return (await import('../rotate-database/handler.js')).handler;
    case 'api-keys':
      return (await import('../rotate-api-key/handler.js')).handler;
    default:
      throw new Error(`no rotation handler for secret ${target.secretName}`);
  }
}

/** The context Lambda would give the rotation function: its own ARN as invoked. */
function contextFor(target: StepTarget): Context {
  const arn = target.functionArn ?? LOCAL_ARN;
  const functionName = arn.split(':')[6] ?? 'local-rotation';
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: arn,
    memoryLimitInMB: '256',
    awsRequestId: 'in-process',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'in-process',
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * Sends rotateApiKey's revoke input to its real handler in this process, with the context
 * Lambda would give the function invoked by `functionArn`. For local runs against moto.
 */
export function inProcessRevoker(): InProcessRevocationInvoker {
  return new InProcessRevocationInvoker(async (functionArn, input) => {
    const { handler } = await import('../rotate-api-key/handler.js');
    return handler(input, contextFor({ secretName: input.SecretId, functionArn }));
  });
}

/** How repairs run steps and revocations reach rotateApiKey: Lambda invokes in AWS, the real handlers in process locally. */
export function enforcementRunners(
  runner: StepRunner,
  environment: string,
): { readonly steps: RotationInvoker; readonly revoker: RevocationInvoker } {
  if (runner === StepRunner.IN_PROCESS)
    return { steps: inProcessStepInvoker(environment), revoker: inProcessRevoker() };
  const lambda = new LambdaClient({});
  return { steps: new LambdaRotationInvoker(lambda), revoker: new LambdaRevocationInvoker(lambda) };
}
