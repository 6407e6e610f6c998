import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { parseRotationEvent, type RotationEngine, type StepResult } from '../../shared/rotation/index.js';
import { logErrors } from './middleware.js';

/**
 * Wires a core function into a Lambda handler: context on every log line, errors logged once.
 * The event is never logged, whatever `POWERTOOLS_LOGGER_LOG_EVENT` says: a rotation event
 * carries a `RotationToken`, and other inputs may carry what a person pasted.
 */
export function createLambdaHandler<R>(
  logger: Logger,
  core: (event: unknown, context: Context) => Promise<R>,
) {
  return middy<unknown, R, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
    .use(logErrors(logger))
    .handler(core);
}

/** A handler that runs one rotation step per invocation. */
export function createRotationHandler<T>(engine: RotationEngine<T>, logger: Logger) {
  return createLambdaHandler<StepResult>(logger, (event) => engine.run(parseRotationEvent(event)));
}
