import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { parseRotationEvent, type RotationEngine, type StepResult } from '../../shared/rotation/index.js';
import { logErrors } from './middleware.js';

/** Wires a rotation engine into a Lambda handler: context on every log line, errors logged once. */
export function createRotationHandler<T>(engine: RotationEngine<T>, logger: Logger) {
  return middy<unknown, StepResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logErrors(logger))
    .handler(async (event) => engine.run(parseRotationEvent(event)));
}
