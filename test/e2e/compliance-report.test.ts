import { Logger } from '@aws-lambda-powertools/logger';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  RotateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildComplianceReportHandler } from '../../functions/compliance-report/handler.js';
import scheduledEvent from '../../functions/events/compliance-report-scheduled.json' with { type: 'json' };
import { buildRotateDatabaseHandler } from '../../functions/rotate-database/handler.js';
import { loadDatabaseRotationConfig } from '../../shared/config/index.js';
import { loadReportConfig } from '../../shared/config/policy.js';
import { createFleetClient } from '../../shared/fleet/index.js';
import { createMetrics } from '../../shared/metrics/index.js';
import { parseCsv, type ReportJobResult } from '../../shared/report/index.js';
import {
  captureOutput,
  createRole,
  createRotatingSecret,
  findLeaks,
  injectFault,
  lambdaContext,
  runSteps,
  secretsManager,
  seedDatabaseSecret,
  stack,
  uniqueName,
  valueAt,
} from '../support/bed.js';
import { createSeedSecret, seedName, uniqueEnvironment } from '../support/fleet.js';

const region = 'us-east-1';
const aws = () => ({
  region,
  endpoint: stack().awsEndpoint,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
const s3 = () => new S3Client({ ...aws(), forcePathStyle: true });
const sns = () => new SNSClient(aws());
const sqs = () => new SQSClient(aws());

let output: ReturnType<typeof captureOutput>;
let seen: string[];

beforeEach(() => {
  seen = [];
  output = captureOutput();
});

afterEach(() => {
  output.stop();
  expect(findLeaks(output.text(), seen), 'secret values in captured output').toEqual([]);
});

async function readObject(bucket: string, uri: string): Promise<string> {
  const key = uri.replace(`s3://${bucket}/`, '');
  const out = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await out.Body?.transformToString('utf8')) ?? '';
}

/** An SQS queue subscribed to the alert topic, so that the test reads what SNS delivered. */
async function subscribeQueue(topicArn: string) {
  const queueUrl =
    (await sqs().send(new CreateQueueCommand({ QueueName: uniqueName('alerts') }))).QueueUrl ?? '';
  const attributes = await sqs().send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  await sns().send(
    new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: attributes.Attributes?.QueueArn }),
  );
  return async () => {
    const received = await sqs().send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }),
    );
    return (received.Messages ?? []).map(
      (m) => JSON.parse(m.Body ?? '{}') as { Subject?: string; Message?: string },
    );
  };
}

/** A database secret rotated end to end through the real rotateDatabase handler (stamps rotated_at). */
async function rotatedDatabaseSecret(environment: string) {
  const username = uniqueName('report_user');
  const password = `pw-${uniqueName('x')}`;
  await createRole(username, password);
  const name = `${environment}/database/rotated`;
  const { arn, token } = await createRotatingSecret(
    secretsManager(),
    name,
    seedDatabaseSecret({ username, password }),
  );
  const rotate = buildRotateDatabaseHandler({
    config: loadDatabaseRotationConfig({}),
    secretsManager: secretsManager(),
    logger: new Logger({ serviceName: 'report-e2e' }),
  });
  await runSteps(rotate, arn, token);
  const after = await valueAt(secretsManager(), arn, 'AWSCURRENT');
  return { name, secrets: [password, after?.password ?? ''] };
}

describe('complianceReport on moto', () => {
  it('reports every status for secrets in the seed shapes, writes JSON, CSV and HTML, alerts, and leaks no value', async () => {
    // Prepare
    const environment = uniqueEnvironment();
    const sm = secretsManager();
    const made = await Promise.all([
      createSeedSecret(sm, seedName(environment, 'resend'), 'resend', { rotatedDaysAgo: 10 }),
      createSeedSecret(sm, seedName(environment, 'aws'), 'aws', { rotatedDaysAgo: 80 }),
      createSeedSecret(sm, seedName(environment, 'database'), 'database', { rotatedDaysAgo: 800 }),
      createSeedSecret(sm, seedName(environment, 'google'), 'google'),
      createSeedSecret(sm, seedName(environment, 'clerk'), 'clerk', { rotatedDaysAgo: 100 }),
    ]);
    const rotated = await rotatedDatabaseSecret(environment);
    seen.push(...made.flatMap((m) => m.secrets), ...rotated.secrets);
    const doomed = made[4]?.arn ?? '';
    const bucket = uniqueName('reports');
    const topicName = uniqueName('alerts');
    const config = loadReportConfig({
      ENVIRONMENT: environment,
      REPORT_BUCKET: bucket,
      ALERT_TOPIC_NAME: topicName,
      ROTATION_FUNCTION_DATABASE: 'rotateDatabase',
      AWS_ENDPOINT_URL: stack().awsEndpoint,
    });
    const topicArn = (await sns().send(new CreateTopicCommand({ Name: topicName }))).TopicArn ?? '';
    const received = await subscribeQueue(topicArn);
    const fleet = createFleetClient({ config: aws() });
    let deleted = 0;
    // The clerk secret is deleted between the listing and the read: its age cannot be known.
    fleet.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'BatchGetSecretValueCommand' && deleted++ === 0)
          await secretsManager().send(
            new DeleteSecretCommand({ SecretId: doomed, ForceDeleteWithoutRecovery: true }),
          );
        return next(args);
      },
      { step: 'initialize', name: 'deleteBeforeRead' },
    );
    const handler = buildComplianceReportHandler({
      config,
      secretsManager: fleet,
      s3: s3(),
      sns: sns(),
      logger: new Logger({ serviceName: 'report-e2e' }),
      metrics: createMetrics(environment),
    });

    // Act
    const result = (await handler({}, lambdaContext)) as ReportJobResult;

    // Assess: every status, from the real values' rotated_at and the real rotation's stamp
    expect(deleted).toBeGreaterThan(0);
    expect(result.summary.byStatus).toEqual({
      compliant: 2,
      'due-soon': 1,
      overdue: 1,
      'never-rotated': 1,
      unknown: 1,
    });
    expect(result.summary.needAttention).toBe(6);
    expect(result.alerted).toBe(true);
    const json = JSON.parse(await readObject(bucket, result.reports.json));
    const csv = await readObject(bucket, result.reports.csv);
    const html = await readObject(bucket, result.reports.html);
    const byName = Object.fromEntries(json.secrets.map((s: { name: string }) => [s.name, s]));
    expect(byName[seedName(environment, 'resend')]).toMatchObject({
      status: 'compliant',
      ageDays: 10,
      ageSource: 'rotated_at',
    });
    expect(byName[seedName(environment, 'aws')]).toMatchObject({ status: 'due-soon', ageDays: 80 });
    expect(byName[seedName(environment, 'database')]).toMatchObject({ status: 'overdue', ageDays: 800 });
    expect(byName[seedName(environment, 'google')]).toMatchObject({
      status: 'never-rotated',
      ageSource: 'CreatedDate',
    });
    expect(byName[seedName(environment, 'clerk')]).toMatchObject({ status: 'unknown', ageDays: null });
    expect(byName[seedName(environment, 'clerk')].findings[0].reason).toMatch(/ResourceNotFoundException/);
    expect(byName[rotated.name]).toMatchObject({ status: 'compliant', ageDays: 0, rotationEnabled: true });
    expect(byName[rotated.name].findings.map((f: { kind: string }) => f.kind)).toEqual(['schedule-too-long']);
    expect(byName[seedName(environment, 'database')].findings.map((f: { kind: string }) => f.kind)).toEqual([
      'rotation-not-enabled',
    ]);
    expect(parseCsv(csv)).toEqual(json.secrets);
    for (const name of Object.keys(byName)) expect(html).toContain(name);
    expect(result.reports.json).toMatch(
      new RegExp(`^s3://${bucket}/compliance-reports/\\d{4}-\\d\\d-\\d\\d/${environment}-\\d{6}Z\\.json$`),
    );

    // Assess: the alert says what needs attention and where the report is
    const [alert] = await received();
    expect(alert?.Subject).toBe(`Secrets compliance (${environment}): 6 of 6 secrets need attention`);
    expect(alert?.Message).toContain(`- ${seedName(environment, 'database')}: overdue, 800 days`);
    expect(alert?.Message).toContain(`Full report: ${result.reports.html}`);

    // Assess: metrics as embedded metric format
    expect(output.text()).toMatch(/"SecretsOverdue":1/);
    expect(output.text()).toMatch(/"OldestSecretAgeDays":800/);

    // Assess: no value anywhere it went
    const everything = [
      JSON.stringify(result),
      JSON.stringify(json),
      csv,
      html,
      JSON.stringify(alert),
      output.text(),
    ].join('\n');
    expect(findLeaks(everything, seen)).toEqual([]);
  });

  it('leaks nothing of values that are not JSON, hold control characters, or carry a rotated_at that is not a date', async () => {
    // Prepare: values whose parse errors would quote them, and a rotated_at that is itself a value.
    const environment = uniqueEnvironment();
    const planted = ['\u0000\u001b[31mPLANTED-a', 'PLANTED-b\r\n\u0007ü€', 'PLANTED-c"\\', 'PLANTED-d\t'].map(
      (text) => `${text}-${uniqueName('v')}`,
    );
    seen.push(...planted);
    const values = [
      [`${environment}/database/not-json`, `${planted[0]} {"rotated_at": "2026-01-01T00:00:00Z"`],
      [`${environment}/database/binary-ish`, `["${planted[1]}"]`],
      [`${environment}/api-keys/not-a-date`, JSON.stringify({ api_key: planted[2], rotated_at: planted[3] })],
    ];
    for (const [Name, SecretString] of values)
      await secretsManager().send(new CreateSecretCommand({ Name, SecretString }));
    const bucket = uniqueName('reports');
    const topicName = uniqueName('alerts');
    const topicArn = (await sns().send(new CreateTopicCommand({ Name: topicName }))).TopicArn ?? '';
    const received = await subscribeQueue(topicArn);
    const handler = buildComplianceReportHandler({
      config: loadReportConfig({
        ENVIRONMENT: environment,
        REPORT_BUCKET: bucket,
        ALERT_TOPIC_NAME: topicName,
        AWS_ENDPOINT_URL: stack().awsEndpoint,
      }),
      secretsManager: createFleetClient({ config: aws() }),
      s3: s3(),
      sns: sns(),
      logger: new Logger({ serviceName: 'report-e2e', logLevel: 'DEBUG' }),
    });

    // Act
    const result = (await handler({}, lambdaContext)) as ReportJobResult;

    // Assess: each value was read, found wanting and reported by what was wrong, never by what it held.
    expect(result.calls.batchGetSecretValue).toBeGreaterThan(0);
    const json = JSON.parse(await readObject(bucket, result.reports.json));
    const reasons = json.secrets.flatMap((s: { findings: { reason: string }[] }) =>
      s.findings.map((f) => f.reason),
    );
    expect(result.summary.byStatus['never-rotated']).toBe(3);
    expect(reasons).toContain(
      "AWSCURRENT's rotated_at is not an ISO 8601 date, so it is ignored: stamp it as ISO 8601 UTC (2024-01-01T00:00:00Z)",
    );
    const everything = [
      JSON.stringify(result),
      await readObject(bucket, result.reports.json),
      await readObject(bucket, result.reports.csv),
      await readObject(bucket, result.reports.html),
      JSON.stringify(await received()),
      output.text(),
    ].join('\n');
    expect(findLeaks(everything, planted)).toEqual([]);
    expect(everything).not.toContain('PLANTED');
  });

  it('on AWS, creates nothing and alerts the topic named in its settings, in its own account and region', async () => {
    // Prepare
    const environment = uniqueEnvironment();
    const made = await createSeedSecret(secretsManager(), seedName(environment, 'resend'), 'resend', {
      rotatedDaysAgo: 3,
    });
    seen.push(...made.secrets);
    const bucket = uniqueName('reports');
    const topicName = uniqueName('alerts');
    const topicArn = (await sns().send(new CreateTopicCommand({ Name: topicName }))).TopicArn ?? '';
    const received = await subscribeQueue(topicArn);
    await s3().send(new CreateBucketCommand({ Bucket: bucket }));
    const config = {
      ...loadReportConfig({ ENVIRONMENT: environment, REPORT_BUCKET: bucket, ALERT_TOPIC_NAME: topicName }),
    };
    expect(config.localEndpoint).toBe(false);
    const handler = buildComplianceReportHandler({
      config,
      secretsManager: createFleetClient({ config: aws() }),
      s3: s3(),
      sns: sns(),
      logger: new Logger({ serviceName: 'report-e2e' }),
    });

    // Act
    const result = (await handler(scheduledEvent, lambdaContext)) as ReportJobResult;

    // Assess
    expect(result.summary).toMatchObject({ total: 1, needAttention: 1 }); // rotation is off: SecretsManager.1 fails
    expect(result.alerted).toBe(true);
    expect((await received())[0]?.Subject).toMatch(/1 of 1 secrets need attention/);
  });

  it('publishes nothing when every secret is compliant', async () => {
    // Prepare
    const environment = uniqueEnvironment();
    const name = seedName(environment, 'resend');
    const made = await createSeedSecret(secretsManager(), name, 'resend', { rotatedDaysAgo: 3 });
    seen.push(...made.secrets);
    await secretsManager()
      .send(
        new RotateSecretCommand({
          SecretId: made.arn,
          RotationLambdaARN: 'arn:aws:lambda:us-east-1:123456789012:function:rotateApiKey',
          RotationRules: { AutomaticallyAfterDays: 75 },
        }),
      )
      .catch((error: Error) => {
        if (error.name !== 'ResourceNotFoundException') throw error; // moto cannot invoke it; the rotation stays in progress
      });
    const bucket = uniqueName('reports');
    const topicName = uniqueName('alerts');
    const topicArn = (await sns().send(new CreateTopicCommand({ Name: topicName }))).TopicArn ?? '';
    const received = await subscribeQueue(topicArn);
    const handler = buildComplianceReportHandler({
      config: loadReportConfig({
        ENVIRONMENT: environment,
        REPORT_BUCKET: bucket,
        ALERT_TOPIC_NAME: topicName,
        ROTATION_FUNCTION_API_KEYS: 'rotateApiKey',
        AWS_ENDPOINT_URL: stack().awsEndpoint,
      }),
      secretsManager: createFleetClient({ config: aws() }),
      s3: s3(),
      sns: sns(),
      logger: new Logger({ serviceName: 'report-e2e' }),
    });

    // Act
    const result = (await handler({}, lambdaContext)) as ReportJobResult;

    // Assess
    expect(result.summary).toMatchObject({ total: 1, needAttention: 0, byStatus: { compliant: 1 } });
    expect(result.alerted).toBe(false);
    expect(await received()).toEqual([]);
  });

  it('refuses an input it does not take, and reads and writes nothing', async () => {
    // Prepare
    const bucket = uniqueName('reports');
    const handler = buildComplianceReportHandler({
      config: loadReportConfig({
        ENVIRONMENT: uniqueEnvironment(),
        REPORT_BUCKET: bucket,
        AWS_ENDPOINT_URL: stack().awsEndpoint,
      }),
      secretsManager: createFleetClient({ config: aws() }),
      s3: s3(),
      sns: sns(),
      logger: new Logger({ serviceName: 'report-e2e' }),
    });

    // Act
    const invocation = handler({ secret: 'database/primary' }, lambdaContext);

    // Assess: the error itself, message and all (not withheld as a foreign error's would be).
    await expect(invocation).rejects.toMatchObject({
      name: 'InvalidReportRequestError',
      message: 'invalid report request: unexpected field secret; the report takes no input (send {})',
    });
    await expect(s3().send(new ListObjectsV2Command({ Bucket: bucket }))).rejects.toThrow(
      /NoSuchBucket|does not exist/,
    );
  });

  it('fails with the reason a person can act on when the fleet cannot be listed, and writes nothing', async () => {
    // Prepare: ListSecrets fails on every attempt.
    const environment = uniqueEnvironment();
    const bucket = uniqueName('reports');
    const client = injectFault(
      createFleetClient({ config: aws(), maxAttempts: 1 }),
      'ListSecretsCommand',
      'before',
      () => true,
    );
    const handler = buildComplianceReportHandler({
      config: loadReportConfig({
        ENVIRONMENT: environment,
        REPORT_BUCKET: bucket,
        AWS_ENDPOINT_URL: stack().awsEndpoint,
      }),
      secretsManager: client,
      s3: s3(),
      sns: sns(),
      logger: new Logger({ serviceName: 'report-e2e' }),
    });

    // Act
    const invocation = handler({}, lambdaContext);

    // Assess: the error names what failed and AWS's error, not a withheld message.
    await expect(invocation).rejects.toMatchObject({
      name: 'FleetReadError',
      message: expect.stringMatching(
        new RegExp(
          `could not list the secrets under ${environment}/database/, ${environment}/api-keys/: InjectedFault: injected`,
        ),
      ),
    });
    expect(client.faultsFired).toBeGreaterThan(0);
    // Locally the bucket is created before the fleet is read; no report is written to it.
    const listed = await s3().send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(listed.KeyCount ?? 0).toBe(0);
  });

  it('fails with the reason a person can act on when the report cannot be written to S3', async () => {
    // Prepare: one secret to report; PutObject fails.
    const environment = uniqueEnvironment();
    const made = await createSeedSecret(secretsManager(), seedName(environment, 'resend'), 'resend', {
      rotatedDaysAgo: 3,
    });
    seen.push(...made.secrets);
    const bucket = uniqueName('reports');
    const storage = injectFault(s3(), 'PutObjectCommand', 'before', () => true);
    const handler = buildComplianceReportHandler({
      config: loadReportConfig({
        ENVIRONMENT: environment,
        REPORT_BUCKET: bucket,
        AWS_ENDPOINT_URL: stack().awsEndpoint,
      }),
      secretsManager: createFleetClient({ config: aws() }),
      s3: storage,
      sns: sns(),
      logger: new Logger({ serviceName: 'report-e2e' }),
    });

    // Act
    const invocation = handler({}, lambdaContext);

    // Assess
    await expect(invocation).rejects.toMatchObject({
      name: 'ReportDeliveryError',
      message: expect.stringMatching(
        new RegExp(`could not write s3://${bucket}/.*: InjectedFault: injected`),
      ),
    });
    expect(storage.faultsFired).toBeGreaterThan(0);
  });

  it('runs the deployed handler as configured from the environment, as invoke local does', async () => {
    // Prepare
    const environment = uniqueEnvironment();
    const made = await createSeedSecret(secretsManager(), seedName(environment, 'database'), 'database', {
      rotatedDaysAgo: 200,
    });
    seen.push(...made.secrets);
    const bucket = uniqueName('reports');
    for (const [name, value] of Object.entries({
      AWS_ENDPOINT_URL: stack().awsEndpoint,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      ENVIRONMENT: environment,
      REPORT_BUCKET: bucket,
    }))
      vi.stubEnv(name, value);
    vi.resetModules();

    try {
      // Act
      const { handler } = await import('../../functions/compliance-report/handler.js');
      const result = (await handler({}, lambdaContext)) as ReportJobResult;

      // Assess
      expect(result.summary.byStatus.overdue).toBe(1);
      expect(JSON.parse(await readObject(bucket, result.reports.json)).secrets[0].name).toBe(
        seedName(environment, 'database'),
      );
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
