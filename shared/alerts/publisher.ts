import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { awsErrorText } from '../logging/aws-error.js';
import { RotationError } from '../rotation/errors.js';
import type { Alert } from './alert.js';

/** Thrown when an alert could not be published; the event is retried by its invoker. */
export class AlertDeliveryError extends RotationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AlertDeliveryError';
  }
}

/** Sends alerts. */
export interface AlertPublisher {
  /** Publishes one alert; resolves with the message id. @throws {AlertDeliveryError} */
  publish(alert: Alert): Promise<string | undefined>;
}

/** Publishes alerts to an SNS topic, the body as indented JSON. */
export class SnsAlertPublisher implements AlertPublisher {
  readonly #sns: SNSClient;
  readonly #topicArn: string;

  constructor(sns: SNSClient, topicArn: string) {
    this.#sns = sns;
    this.#topicArn = topicArn;
  }

  async publish(alert: Alert): Promise<string | undefined> {
    try {
      const out = await this.#sns.send(
        new PublishCommand({
          TopicArn: this.#topicArn,
          Subject: alert.subject,
          Message: JSON.stringify(alert.body, null, 2),
          MessageAttributes: {
            alert: { DataType: 'String', StringValue: String(alert.body.alert ?? 'alert') },
          },
        }),
      );
      return out.MessageId;
    } catch (error) {
      throw new AlertDeliveryError(
        `could not publish the alert to ${this.#topicArn}: ${awsErrorText(error)}`,
        {
          cause: error,
        },
      );
    }
  }
}

/**
 * The SNS topic ARN of alerts: `ALERT_TOPIC_ARN` when set, else the topic `topicName` in the
 * partition, region and account of the function's own ARN; undefined when neither is known
 * (a local run without `ALERT_TOPIC_ARN`).
 */
export function alertTopicArn(options: {
  topicArn?: string;
  topicName?: string;
  functionArn?: string;
}): string | undefined {
  if (options.topicArn) return options.topicArn;
  if (!options.topicName || !options.functionArn) return undefined;
  const [, partition, , region, account] = options.functionArn.split(':');
  if (!partition || !region || !account) return undefined;
  return `arn:${partition}:sns:${region}:${account}:${options.topicName}`;
}
