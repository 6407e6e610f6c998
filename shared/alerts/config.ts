import { ConfigurationError, getOptionalStringFromEnv } from '../config/env.js';

type Env = Record<string, string | undefined>;

/** Where rotationEvents publishes alerts. */
export interface AlertConfig {
  /** `ALERT_TOPIC_ARN`: the SNS topic, when given in full (local runs, or a topic of your own). */
  readonly topicArn?: string;
  /** `ALERT_TOPIC_NAME`: the topic's name in the function's own account and region (`serverless.yml` sets it). */
  readonly topicName?: string;
}

/** Reads `ALERT_TOPIC_ARN` and `ALERT_TOPIC_NAME`. */
export function loadAlertConfig(env: Env = process.env): AlertConfig {
  const topicArn = getOptionalStringFromEnv('ALERT_TOPIC_ARN', env);
  const topicName = getOptionalStringFromEnv('ALERT_TOPIC_NAME', env);
  if (topicArn !== undefined && !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/.test(topicArn)) {
    throw new ConfigurationError('environment variable ALERT_TOPIC_ARN must be an SNS topic ARN');
  }
  if (topicName !== undefined && !/^[\w-]{1,256}$/.test(topicName)) {
    throw new ConfigurationError('environment variable ALERT_TOPIC_NAME must be an SNS topic name');
  }
  return { ...(topicArn ? { topicArn } : {}), ...(topicName ? { topicName } : {}) };
}
