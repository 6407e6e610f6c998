/**
 * A revocation schedule's failed invocation goes to the stack's dead-letter queue: the
 * rotateApiKey handler, configured from the environment serverless.yml gives it, schedules the
 * revocation with the queue in its own account and region.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { CreateScheduleGroupCommand, GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRotateApiKeyHandler } from '../../functions/rotate-api-key/handler.js';
import { scheduleName } from '../../shared/api-keys/index.js';
import { createProviders } from '../../shared/api-keys/providers/index.js';
import { ConfigurationError, loadApiKeyRotationConfig } from '../../shared/config/index.js';
import {
  lambdaContext,
  runSteps,
  secretsManager,
  stack,
  stagesOf,
  startRotation,
  uniqueName,
} from '../support/bed.js';
import { type FakeResend, startFakeResend } from '../support/fakes/resend-server.js';

const FUNCTION_ARN =
  'arn:aws:lambda:eu-west-1:111122223333:function:secrets-rotation-production-rotateApiKey';

describe('rotateApiKey revocation schedules', () => {
  let resend: FakeResend;
  const scheduler = new SchedulerClient({
    region: 'us-east-1',
    endpoint: stack().awsEndpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });

  beforeAll(async () => {
    resend = await startFakeResend();
  });

  afterAll(async () => {
    await resend?.close();
  });

  it('send a failed invocation to REVOKE_DEAD_LETTER_QUEUE_NAME in the function’s account and region', async () => {
    // Prepare: the environment serverless.yml sets, a Resend key's secret, a rotation started.
    const group = uniqueName('revocations');
    await scheduler.send(new CreateScheduleGroupCommand({ Name: group }));
    const config = loadApiKeyRotationConfig({
      REVOKE_SCHEDULER_ROLE_NAME: 'secrets-rotation-production-eu-west-1-revoke-scheduler',
      REVOKE_SCHEDULE_GROUP: group,
      REVOKE_DEAD_LETTER_QUEUE_NAME: 'secrets-rotation-production-dead-letters',
      RESEND_API_URL: resend.url,
    });
    const sm = secretsManager();
    const name = uniqueName('production/api-keys/resend');
    const { id, token } = resend.seedKey({ name, permission: 'full_access' });
    const { ARN: arn = '' } = await sm.send(
      new CreateSecretCommand({
        Name: name,
        SecretString: JSON.stringify({ api_key: token, api_key_id: id, rotated_at: '2024-01-01T00:00:00Z' }),
        Tags: [{ Key: 'rotation-provider', Value: 'resend' }],
      }),
    );
    const previous = Object.entries(await stagesOf(sm, arn)).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
    const rotation = await startRotation(sm, arn);
    const handler = buildRotateApiKeyHandler({
      config,
      secretsManager: sm,
      logger: new Logger({ serviceName: 'revocation-dead-letter-e2e', logLevel: 'ERROR' }),
      providers: createProviders(config, {
        retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1, timeoutMs: 2000 },
      }),
      schedulerClient: scheduler,
    });

    // Act: the four steps, invoked by the function's ARN.
    await runSteps(
      (event) => handler(event, { ...lambdaContext, invokedFunctionArn: FUNCTION_ARN } as Context),
      arn,
      rotation,
    );

    // Assess
    const schedule = await scheduler.send(
      new GetScheduleCommand({
        GroupName: group,
        Name: scheduleName({ action: 'revoke', SecretId: arn, VersionId: previous ?? '' }),
      }),
    );
    expect(schedule.Target?.DeadLetterConfig?.Arn).toBe(
      'arn:aws:sqs:eu-west-1:111122223333:secrets-rotation-production-dead-letters',
    );
    expect(schedule.Target?.RoleArn).toBe(
      'arn:aws:iam::111122223333:role/secrets-rotation-production-eu-west-1-revoke-scheduler',
    );
  });

  it('refuses a REVOKE_DEAD_LETTER_QUEUE_NAME that is not an SQS queue name', () => {
    expect(() =>
      loadApiKeyRotationConfig({
        REVOKE_SCHEDULER_ROLE_NAME: 'r',
        REVOKE_DEAD_LETTER_QUEUE_NAME: 'arn:aws:sqs:x',
      }),
    ).toThrow(ConfigurationError);
  });
});
