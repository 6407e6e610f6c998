import { CreateTopicCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { AlertConfig } from '../alerts/config.js';
import { type AlertPublisher, alertTopicArn, SnsAlertPublisher } from '../alerts/publisher.js';
import { awsErrorText } from '../logging/aws-error.js';
import { EnforcementError } from './errors.js';

/**
 * Where the enforcer's and the worker's alerts go: `ALERT_TOPIC_ARN`, else the topic
 * `ALERT_TOPIC_NAME` in the function's own account and region, or on a local emulator
 * (`createLocally`) that topic created if missing. Undefined when no topic can be known (a
 * local run without an emulator endpoint): the alert is then logged only.
 * @throws {EnforcementError} when the local topic cannot be created.
 */
export async function alertPublisher(
  sns: SNSClient,
  config: AlertConfig,
  options: { readonly functionArn?: string; readonly createLocally: boolean },
): Promise<AlertPublisher | undefined> {
  let topicArn = alertTopicArn({
    ...config,
    ...(options.functionArn ? { functionArn: options.functionArn } : {}),
  });
  if (!config.topicArn && options.createLocally && config.topicName) {
    try {
      topicArn = (await sns.send(new CreateTopicCommand({ Name: config.topicName }))).TopicArn;
    } catch (error) {
      throw new EnforcementError(
        `could not create the local alert topic ${config.topicName}: ${awsErrorText(error)}`,
        { cause: error },
      );
    }
  }
  return topicArn ? new SnsAlertPublisher(sns, topicArn) : undefined;
}
