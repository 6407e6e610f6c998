import { Logger } from '@aws-lambda-powertools/logger';

/** The service name on every log line unless `POWERTOOLS_SERVICE_NAME` says otherwise. */
export const SERVICE_NAME = 'secrets-rotation';

/**
 * Creates the structured JSON logger. Level from `POWERTOOLS_LOG_LEVEL` (default INFO).
 * Log fixed messages with an object of identifiers; never a secret value.
 */
export function createLogger(): Logger {
  return new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME });
}

export type { Logger } from '@aws-lambda-powertools/logger';
export { RedactedError, redactError, summarizeError } from './redact.js';
