/** Where the report goes: the S3 bucket and the SNS topic, found or (on a local emulator) created. */
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, type SNSClient } from '@aws-sdk/client-sns';
import { sameAccountArn } from '../fleet/arn.js';
import { awsErrorText } from '../logging/aws-error.js';
import { ReportDeliveryError } from './errors.js';

/**
 * The ARN of topic `topicName` in the account and region of the function `functionArn`
 * (as the function was invoked): the topic's name is a plain setting, so that
 * `serverless invoke local` works without CloudFormation references.
 * @throws {ArnDerivationError}
 */
export function topicArnFor(functionArn: string, topicName: string): string {
  return sameAccountArn(functionArn, 'sns', topicName);
}

/**
 * Creates the bucket and the topic if they do not exist, and returns the topic's ARN. For a
 * local emulator only: on AWS they are the stack's resources and the function may not create them.
 */
export async function ensureLocalDestinations(
  s3: S3Client,
  sns: SNSClient,
  bucket: string,
  topicName: string,
): Promise<string> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch((error: Error) => {
      if (error.name !== 'BucketAlreadyOwnedByYou') throw error;
    });
    const topic = await sns.send(new CreateTopicCommand({ Name: topicName }));
    if (!topic.TopicArn) throw new Error('CreateTopic returned no TopicArn');
    return topic.TopicArn;
  } catch (error) {
    throw new ReportDeliveryError(
      `could not create the local bucket ${bucket} or topic ${topicName}: ${awsErrorText(error)}`,
      { cause: error },
    );
  }
}
