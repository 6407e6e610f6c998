/**
 * The report job on mocked clients, with the clock injected: what moto cannot express
 * (an old LastRotatedDate, LastAccessedDate, rotation windows, OwningService, NextRotationDate
 * in the past) in the shapes ListSecrets returns on AWS.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  BatchGetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  type SecretListEntry,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DAY_MS, defaultPolicySettings, HOUR_MS } from '../../shared/policy/index.js';
import { type ComplianceReport, runComplianceReport } from '../../shared/report/index.js';

const NOW = new Date('2026-06-15T03:30:00Z'); // a Monday
const ago = (days: number) => new Date(NOW.getTime() - days * DAY_MS);
const arn = (name: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`;
const fn = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:${name}`;
const settings = defaultPolicySettings('production', {
  managedPrefixes: ['production/database/', 'production/api-keys/', 'rds!'],
  rotationFunctions: { 'production/database/': 'rotateDatabase', 'production/api-keys/': 'rotateApiKey' },
});

const sm = mockClient(SecretsManagerClient);
const s3 = mockClient(S3Client);
const sns = mockClient(SNSClient);

function listed(name: string, entry: Partial<SecretListEntry>): SecretListEntry {
  return {
    ARN: arn(name),
    Name: name,
    CreatedDate: ago(400),
    LastAccessedDate: ago(1),
    RotationEnabled: true,
    RotationLambdaARN: fn(name.includes('database') ? 'rotateDatabase' : 'rotateApiKey'),
    RotationRules: { AutomaticallyAfterDays: 75 },
    NextRotationDate: new Date(NOW.getTime() + 30 * DAY_MS),
    SecretVersionsToStages: { v1: ['AWSCURRENT'] },
    Tags: [],
    ...entry,
  };
}

const FLEET: SecretListEntry[] = [
  // Rotated by Secrets Manager 30 days ago: LastRotatedDate settles the age, no value is read.
  listed('production/database/primary', { LastRotatedDate: ago(30) }),
  // LastRotatedDate 120 days ago: the value's rotated_at decides (it is 5 days old).
  listed('production/api-keys/resend', { LastRotatedDate: ago(120) }),
  // Last read on a day 100 days ago; rotation window on the first Saturday of each month.
  listed('production/api-keys/aws', {
    LastRotatedDate: ago(20),
    LastAccessedDate: new Date(Date.UTC(2026, 2, 7)),
    RotationRules: {
      AutomaticallyAfterDays: 28,
      ScheduleExpression: 'cron(0 2 ? * SAT#1 *)',
      Duration: '3h',
    },
    Tags: [{ Key: 'rotation-window', Value: 'cron(0 2 ? * SAT#1 *) 3h' }],
  }),
  // An RDS-managed master secret.
  listed('rds!db-0a1b2c3d', {
    OwningService: 'rds',
    LastRotatedDate: ago(3),
    RotationLambdaARN: fn('SecretsManagerRDSManagedRotation'),
    RotationRules: { AutomaticallyAfterDays: 7 },
  }),
  // The scheduled rotation never completed: NextRotationDate 10 days past, AWSPENDING stuck.
  listed('production/api-keys/google', {
    LastRotatedDate: ago(85),
    NextRotationDate: ago(10),
    SecretVersionsToStages: { v1: ['AWSCURRENT'], v2: ['AWSPENDING'] },
  }),
];

beforeEach(() => {
  sm.reset();
  s3.reset();
  sns.reset();
  sm.on(ListSecretsCommand).resolves({ SecretList: FLEET });
  sm.on(BatchGetSecretValueCommand).callsFake((input: { SecretIdList: string[] }) => ({
    SecretValues: input.SecretIdList.map((id) => ({
      ARN: id,
      VersionStages: ['AWSCURRENT'],
      SecretString: JSON.stringify({
        api_key: 're_live_value',
        rotated_at: (id.includes('resend') ? ago(5) : ago(85)).toISOString(),
      }),
    })),
  }));
  sm.on(ListSecretVersionIdsCommand).resolves({
    Versions: [
      { VersionId: 'v1', VersionStages: ['AWSCURRENT'], CreatedDate: ago(85) },
      { VersionId: 'v2', VersionStages: ['AWSPENDING'], CreatedDate: new Date(NOW.getTime() - 50 * HOUR_MS) },
    ],
  });
  s3.on(PutObjectCommand).resolves({});
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
});

async function run() {
  const result = await runComplianceReport({
    secretsManager: new SecretsManagerClient({ region: 'us-east-1' }),
    s3: new S3Client({ region: 'us-east-1' }),
    sns: new SNSClient({ region: 'us-east-1' }),
    settings,
    bucket: 'reports',
    prefix: 'compliance-reports/',
    alertTopicArn: 'arn:aws:sns:us-east-1:123456789012:alerts',
    logger: new Logger({ serviceName: 'report-job-test', logLevel: 'ERROR' }),
    now: () => NOW,
  });
  const json = s3.commandCalls(PutObjectCommand).find((call) => call.args[0].input.Key?.endsWith('.json'));
  const report = JSON.parse(String(json?.args[0].input.Body)) as ComplianceReport;
  return { result, report, byName: Object.fromEntries(report.secrets.map((s) => [s.name, s])) };
}

describe('runComplianceReport with what moto cannot express', () => {
  it('reads values only where LastRotatedDate does not settle the status', async () => {
    // Act
    const { result } = await run();

    // Assess
    const read = sm
      .commandCalls(BatchGetSecretValueCommand)
      .flatMap((call) => call.args[0].input.SecretIdList ?? []);
    expect(read.sort()).toEqual([arn('production/api-keys/google'), arn('production/api-keys/resend')]);
    expect(result.calls).toEqual({
      listSecrets: 1,
      batchGetSecretValue: 1,
      listSecretVersionIds: 1,
      getSecretValue: 0,
    });
  });

  it('takes a newer rotated_at over an old LastRotatedDate, and flags that they disagree', async () => {
    // Act
    const { byName } = await run();

    // Assess
    expect(byName['production/api-keys/resend']).toMatchObject({
      status: 'compliant',
      ageDays: 5,
      ageSource: 'rotated_at',
    });
    expect(byName['production/api-keys/resend']?.failingControls).toEqual(['SecretsManager.4']);
    expect(byName['production/api-keys/resend']?.findings.map((f) => f.kind)).toEqual([
      'age-sources-disagree',
    ]);
    expect(byName['production/database/primary']).toMatchObject({
      status: 'compliant',
      ageDays: 30,
      ageSource: 'LastRotatedDate',
    });
  });

  it('reports unused from LastAccessedDate and keeps a tagged rotation window as it is', async () => {
    // Act
    const { byName } = await run();

    // Assess
    const aws = byName['production/api-keys/aws'];
    expect(aws?.findings.map((f) => f.kind)).toEqual(['unused']);
    expect(aws?.findings[0]?.reason).toMatch(/not read since 2026-03-07 \(100 days; the limit is 90\)/);
    expect(aws?.rotationSchedule).toBe('cron(0 2 ? * SAT#1 *) 3h');
    expect(aws?.failingControls).toEqual(['SecretsManager.3']);
  });

  it('reports an RDS-managed secret as managed by another service, compliant', async () => {
    // Act
    const { byName } = await run();

    // Assess
    expect(byName['rds!db-0a1b2c3d']).toMatchObject({
      status: 'compliant',
      owningService: 'rds',
      failingControls: [],
    });
    expect(byName['rds!db-0a1b2c3d']?.findings.map((f) => [f.kind, f.severity])).toEqual([
      ['managed-by-another-service', 'info'],
    ]);
  });

  it('reports a failed scheduled rotation and a stuck one with its age, and alerts', async () => {
    // Act
    const { byName, result } = await run();

    // Assess
    const google = byName['production/api-keys/google'];
    expect(google).toMatchObject({
      status: 'due-soon',
      pendingVersion: 'v2',
      failingControls: ['SecretsManager.2'],
    });
    expect(google?.findings.map((f) => f.kind)).toEqual([
      'last-rotation-failed',
      'rotation-stuck',
      'manual-action-required',
    ]);
    expect(google?.findings[1]?.reason).toMatch(/version v2, which is not AWSCURRENT, since .* \(50 hours\)/);
    expect(result.alerted).toBe(true);
    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input.Subject).toBe(
      'Secrets compliance (production): 3 of 5 secrets need attention',
    );
  });

  it('writes the three files under a dated key and no value', async () => {
    // Act
    const { result } = await run();

    // Assess
    const keys = s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input.Key);
    expect(keys.sort()).toEqual([
      'compliance-reports/2026-06-15/production-033000Z.csv',
      'compliance-reports/2026-06-15/production-033000Z.html',
      'compliance-reports/2026-06-15/production-033000Z.json',
    ]);
    expect(result.reports.html).toBe('s3://reports/compliance-reports/2026-06-15/production-033000Z.html');
    const written = s3.commandCalls(PutObjectCommand).map((call) => String(call.args[0].input.Body));
    expect(written.join('\n')).not.toContain('re_live_value');
  });
});
