import type { Context } from 'aws-lambda';
import { createLogger, type Logger } from '../../shared/logging/index.js';
import { redactError } from '../../shared/logging/redact.js';

/** A Lambda handler as the runtime (and `serverless invoke local`) calls it. */
export type LambdaHandler<R> = (event: unknown, context: Context) => Promise<R>;

/**
 * The deployed handler, built (configuration read, clients created) at its first invocation
 * rather than when the module loads. A configuration error (`PASSWORD_LENGTH=8`) then ends
 * that invocation with the `ConfigurationError`, logged once as `invocation failed`, the way
 * every other error ends: a module that throws while loading leaves `serverless invoke local`
 * hanging (serverless-esbuild never disposes its build) and gives Lambda an init error with
 * no structured log line. A failed build is tried again at the next invocation.
 */
export function lazyHandler<R>(build: (logger: Logger) => LambdaHandler<R>): LambdaHandler<R> {
  const logger = createLogger();
  let built: LambdaHandler<R> | undefined;
  return async (event, context) => {
    if (!built) {
      try {
        built = build(logger);
      } catch (error) {
        const redacted = redactError(error);
        logger.addContext(context);
        logger.error('invocation failed', { error: redacted });
        throw redacted;
      }
    }
    return built(event, context);
  };
}
