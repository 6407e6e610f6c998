/**
 * `serverless.yml` as osls resolves it, and `serverless invoke local` as a new user runs it:
 * the seed's `production/api-keys/aws` secret rotated step by step against a moto server,
 * on the local default (the scheduler role set, no function ARN in the context).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  IAMClient,
  ListAccessKeysCommand,
} from '@aws-sdk/client-iam';
import { ListSchedulesCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findLeaks, STEPS, stagesOf, startRotation, valueAt } from '../support/bed.js';
import { startMoto } from '../support/local-stack.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SERVERLESS = join(ROOT, 'node_modules', '.bin', 'serverless');
const run = promisify(execFile);

type Json = Record<string, unknown>;

/** `serverless print --format json`, with extra CLI options. */
async function print(...options: string[]): Promise<Json> {
  const { stdout } = await run(SERVERLESS, ['print', '--format', 'json', ...options], {
    cwd: ROOT,
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout) as Json;
}

/** Resolves the CloudFormation functions the template uses, in account 123456789012, us-east-1. */
function resolve(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolve);
  if (typeof value !== 'object' || value === null) return value;
  const node = value as Json;
  if ('Ref' in node) {
    const refs: Record<string, string> = {
      'AWS::Partition': 'aws',
      'AWS::Region': 'us-east-1',
      'AWS::AccountId': '123456789012',
    };
    return refs[String(node.Ref)] ?? `<${String(node.Ref)}>`;
  }
  if ('Fn::Join' in node) {
    const [separator, parts] = node['Fn::Join'] as [string, unknown[]];
    return parts.map((part) => String(resolve(part))).join(separator);
  }
  if ('Fn::GetAtt' in node) return `<${JSON.stringify(node['Fn::GetAtt'])}>`;
  return Object.fromEntries(Object.entries(node).map(([key, inner]) => [key, resolve(inner)]));
}

/** IAM's wildcard match: `*` any run of characters, `?` one. */
const matches = (pattern: string, value: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  ).test(value);

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Json;
}

/** The Allow statement of role `role` granting `action` on `resource`, if any. */
function grant(template: Json, role: string, action: string, resource: string): Statement | undefined {
  const resources = (template.resources as Json).Resources as Json;
  const policies = ((resources[role] as Json).Properties as Json).Policies as Json[];
  const statements = policies.flatMap(
    (policy) => (resolve((policy.PolicyDocument as Json).Statement) as Statement[]) ?? [],
  );
  const list = (value: string | string[]) => (Array.isArray(value) ? value : [value]);
  return statements.find(
    (statement) =>
      statement.Effect === 'Allow' &&
      list(statement.Action).some((pattern) => matches(pattern, action)) &&
      list(statement.Resource).some((pattern) => matches(pattern, resource)),
  );
}

const FUNCTION = 'arn:aws:lambda:us-east-1:123456789012:function:secrets-rotation-production-rotateApiKey';
const SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:production/api-keys/aws-AbCdEf';
const schedule = (group: string) =>
  `arn:aws:scheduler:us-east-1:123456789012:schedule/${group}/revoke-0123456789abcdef0123456789abcdef01234567`;

describe('serverless.yml', () => {
  let defaults: Json;
  let customGroup: Json;

  beforeAll(async () => {
    [defaults, customGroup] = await Promise.all([
      print(),
      print('--param=revokeScheduleGroup=rotation-revocations'),
    ]);
  });

  it('lets the scheduler role invoke rotateApiKey by its unqualified, alias or version ARN, and nothing else', () => {
    for (const arn of [FUNCTION, `${FUNCTION}:live`, `${FUNCTION}:7`, `${FUNCTION}:$LATEST`]) {
      expect(grant(defaults, 'RevokeSchedulerRole', 'lambda:InvokeFunction', arn), arn).toBeDefined();
    }
    for (const arn of [`${FUNCTION}Other`, FUNCTION.replace('rotateApiKey', 'rotateDatabase')]) {
      expect(grant(defaults, 'RevokeSchedulerRole', 'lambda:InvokeFunction', arn), arn).toBeUndefined();
    }
  });

  it.each([
    ['secrets-rotation-production-revocations', () => defaults],
    ['rotation-revocations', () => customGroup],
  ])(
    'creates the schedule group %s and scopes the functions that schedule revocations (rotateApiKey, rotateNow on rollback) and their roles to it',
    (group, template) => {
      const functions = template().functions as Record<string, { environment: Record<string, string> }>;
      const resources = (template().resources as Json).Resources as Json;
      expect(((resources.RevokeScheduleGroup as Json).Properties as Json).Name).toBe(group);
      for (const [fn, role] of [
        ['rotateApiKey', 'RotateApiKeyRole'],
        ['rotateNow', 'RotateNowRole'],
      ] as const) {
        expect(functions[fn]?.environment.REVOKE_SCHEDULE_GROUP, fn).toBe(group);
        expect(functions[fn]?.environment.REVOKE_SCHEDULER_ROLE_NAME, fn).toBe(
          'secrets-rotation-production-us-east-1-revoke-scheduler',
        );
        for (const action of [
          'scheduler:CreateSchedule',
          'scheduler:GetSchedule',
          'scheduler:UpdateSchedule',
        ]) {
          expect(
            grant(template(), role, action, schedule('<RevokeScheduleGroup>')),
            `${role} ${action}`,
          ).toBeDefined();
        }
        expect(
          grant(template(), role, 'scheduler:CreateSchedule', schedule('default')),
          role,
        ).toBeUndefined();
        expect(
          grant(template(), role, 'iam:PassRole', '<["RevokeSchedulerRole","Arn"]>')?.Condition,
          role,
        ).toEqual({
          StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' },
        });
      }
      expect(functions.rotateNow?.environment.ROTATION_GRACE_PERIOD_SECONDS).toBe(
        functions.rotateApiKey?.environment.ROTATION_GRACE_PERIOD_SECONDS,
      );
    },
  );

  it('lets rotateApiKey and rotateNow write only the rotation-superseded tags on API-key secrets', () => {
    expect(grant(defaults, 'RotateApiKeyRole', 'secretsmanager:ListSecretVersionIds', SECRET)).toBeDefined();
    for (const role of ['RotateApiKeyRole', 'RotateNowRole']) {
      for (const action of ['secretsmanager:TagResource', 'secretsmanager:UntagResource']) {
        expect(grant(defaults, role, action, SECRET)?.Condition, `${role} ${action}`).toEqual({
          'ForAllValues:StringLike': { 'aws:TagKeys': 'rotation-superseded:*' },
        });
      }
    }
    expect(
      grant(
        defaults,
        'RotateNowRole',
        'secretsmanager:TagResource',
        SECRET.replace('api-keys/aws', 'database/primary'),
      ),
    ).toBeUndefined();
  });
});

describe('serverless.yml, rotateDatabase', () => {
  const rds = (kind: 'db' | 'cluster', id: string) => `arn:aws:rds:us-east-1:123456789012:${kind}:${id}`;
  const secret = (name: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}`;
  let defaults: Json;
  let named: Json;

  beforeAll(async () => {
    [defaults, named] = await Promise.all([
      print(),
      print('--param=rdsInstances=orders-db', '--param=rdsClusters=analytics'),
    ]);
  });

  it('lets rotateDatabase describe and set the master password of the RDS databases its parameters name, and no other', () => {
    for (const [template, instance, cluster] of [
      [defaults, 'production-orders', 'production-analytics'],
      [named, 'orders-db', 'analytics'],
    ] as const) {
      for (const action of ['rds:DescribeDBInstances', 'rds:ModifyDBInstance']) {
        expect(grant(template, 'RotateDatabaseRole', action, rds('db', instance)), action).toBeDefined();
        expect(
          grant(template, 'RotateDatabaseRole', action, rds('db', 'staging-orders')),
          action,
        ).toBeUndefined();
        expect(
          grant(template, 'RotateDatabaseRole', action, rds('cluster', cluster)),
          action,
        ).toBeUndefined();
      }
      for (const action of ['rds:DescribeDBClusters', 'rds:ModifyDBCluster']) {
        expect(grant(template, 'RotateDatabaseRole', action, rds('cluster', cluster)), action).toBeDefined();
        expect(
          grant(template, 'RotateDatabaseRole', action, rds('cluster', 'other')),
          action,
        ).toBeUndefined();
      }
    }
  });

  it('lets rotateDatabase read master secrets, RDS-managed ones included, and write none of those', () => {
    for (const master of [
      'production/database/master-AbCdEf',
      'rds!db-0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d-AbCdEf',
    ]) {
      for (const action of ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret']) {
        expect(
          grant(defaults, 'RotateDatabaseRole', action, secret(master)),
          `${action} ${master}`,
        ).toBeDefined();
      }
    }
    const managed = secret('rds!cluster-0a1b2c3d-AbCdEf');
    for (const action of ['secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage']) {
      expect(grant(defaults, 'RotateDatabaseRole', action, managed), action).toBeUndefined();
    }
    expect(
      grant(
        defaults,
        'RotateDatabaseRole',
        'secretsmanager:GetSecretValue',
        secret('production/api-keys/aws-AbCdEf'),
      ),
    ).toBeUndefined();
  });

  it('lets rotateNow describe the RDS databases rotateDatabase may, for a rollback, and modify none', () => {
    for (const [template, instance, cluster] of [
      [defaults, 'production-orders', 'production-analytics'],
      [named, 'orders-db', 'analytics'],
    ] as const) {
      expect(grant(template, 'RotateNowRole', 'rds:DescribeDBInstances', rds('db', instance))).toBeDefined();
      expect(
        grant(template, 'RotateNowRole', 'rds:DescribeDBClusters', rds('cluster', cluster)),
      ).toBeDefined();
      expect(grant(template, 'RotateNowRole', 'rds:DescribeDBInstances', rds('db', 'other'))).toBeUndefined();
      for (const [action, arn] of [
        ['rds:ModifyDBInstance', rds('db', instance)],
        ['rds:ModifyDBCluster', rds('cluster', cluster)],
      ] as const) {
        expect(grant(template, 'RotateNowRole', action, arn), action).toBeUndefined();
      }
    }
    const functions = defaults.functions as Record<string, { package?: Json }>;
    expect(functions.rotateNow?.package).toEqual({ patterns: ['shared/postgres/tls/global-bundle.pem'] });
  });

  it('packages the RDS certificate bundle with rotateDatabase and sets its wait', () => {
    const functions = defaults.functions as Record<
      string,
      { environment: Record<string, string>; package?: Json }
    >;
    expect(functions.rotateDatabase?.package).toEqual({
      patterns: ['shared/postgres/tls/global-bundle.pem'],
    });
    expect(String(functions.rotateDatabase?.environment.RDS_PASSWORD_WAIT_SECONDS)).toBe('40');
  });

  it('lets rotateApiKey read secret values only of API-key secrets (its own category) and of {environment}/rotation/', () => {
    const secret = (name: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`;
    for (const name of ['production/api-keys/aws', 'production/rotation/resend-admin']) {
      expect(
        grant(defaults, 'RotateApiKeyRole', 'secretsmanager:GetSecretValue', secret(name)),
        name,
      ).toBeDefined();
    }
    for (const name of [
      'production/database/primary',
      'staging/rotation/resend-admin',
      'production/other/x',
    ]) {
      expect(
        grant(defaults, 'RotateApiKeyRole', 'secretsmanager:GetSecretValue', secret(name)),
        name,
      ).toBeUndefined();
    }
  });

  it('lets rotateApiKey tag IAM users under the rotated path with key owners, and rotateNow read those tags', () => {
    const user = 'arn:aws:iam::123456789012:user/app/muejam-s3';
    for (const action of ['iam:ListUserTags', 'iam:TagUser', 'iam:UntagUser']) {
      expect(grant(defaults, 'RotateApiKeyRole', action, user), action).toBeDefined();
      expect(
        grant(defaults, 'RotateApiKeyRole', action, 'arn:aws:iam::123456789012:user/admin'),
        action,
      ).toBeUndefined();
    }
    expect(grant(defaults, 'RotateNowRole', 'iam:ListUserTags', user)).toBeDefined();
    expect(grant(defaults, 'RotateNowRole', 'iam:TagUser', user)).toBeUndefined();
  });

  it('lets rotateApiKey list versions and write only its own rotation-superseded tags on API-key secrets', () => {
    expect(grant(defaults, 'RotateApiKeyRole', 'secretsmanager:ListSecretVersionIds', SECRET)).toBeDefined();
    for (const action of ['secretsmanager:TagResource', 'secretsmanager:UntagResource']) {
      expect(grant(defaults, 'RotateApiKeyRole', action, SECRET)?.Condition).toEqual({
        'ForAllValues:StringLike': { 'aws:TagKeys': 'rotation-superseded:*' },
      });
    }
  });
});

describe('serverless.yml: the policy enforcer', () => {
  let template: Json;
  const secret = (name: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`;
  const fn = (name: string) =>
    `arn:aws:lambda:us-east-1:123456789012:function:secrets-rotation-production-${name}`;
  const queue = '<["EnforceQueue","Arn"]>';

  beforeAll(async () => {
    template = await print();
  });

  it('runs the enforcer daily, one run at a time, and drains its queue into the worker with partial batch responses', () => {
    const functions = template.functions as Record<string, Json>;
    expect(functions.enforceRotationPolicy).toMatchObject({
      reservedConcurrency: 1,
      timeout: 900,
      events: [{ schedule: { rate: ['cron(0 5 * * ? *)'] } }],
    });
    expect(functions.enforceRotationPolicyWorker?.events).toEqual([
      {
        sqs: {
          arn: { 'Fn::GetAtt': ['EnforceQueue', 'Arn'] },
          batchSize: 10,
          functionResponseType: 'ReportBatchItemFailures',
          maximumConcurrency: 5,
        },
      },
    ]);
    const resources = (template.resources as Json).Resources as Json;
    expect((resources.EnforceQueue as Json).Properties).toMatchObject({
      RedrivePolicy: { maxReceiveCount: 3 },
      VisibilityTimeout: 2520,
    });
  });

  it.each(['EnforceRotationPolicyRole', 'EnforceRotationPolicyWorkerRole'])(
    "lets %s change only the managed secrets, run only this service's functions and tag only rotation-previous-revoked",
    (role) => {
      for (const name of ['production/database/primary', 'production/api-keys/resend'])
        expect(grant(template, role, 'secretsmanager:RotateSecret', secret(name)), name).toBeDefined();
      for (const name of ['production/rotation/admin', 'staging/database/primary', 'rds!db-0a1b'])
        expect(grant(template, role, 'secretsmanager:RotateSecret', secret(name)), name).toBeUndefined();
      expect(
        grant(template, role, 'secretsmanager:TagResource', secret('production/api-keys/aws'))?.Condition,
      ).toEqual({
        'ForAllValues:StringEquals': { 'aws:TagKeys': 'rotation-previous-revoked' },
      });
      for (const name of ['rotateDatabase', 'rotateApiKey'])
        expect(grant(template, role, 'lambda:InvokeFunction', fn(name)), name).toBeDefined();
      expect(grant(template, role, 'lambda:InvokeFunction', fn('rotateNow'))).toBeUndefined();
    },
  );

  it('lets the enforcer send to its queue and the worker receive from it, and neither anything else', () => {
    // The queue is the stack's (GetAtt); SendMessageBatch is authorized as sqs:SendMessage.
    expect(grant(template, 'EnforceRotationPolicyRole', 'sqs:SendMessage', queue)).toBeDefined();
    expect(grant(template, 'EnforceRotationPolicyRole', 'sqs:ReceiveMessage', queue)).toBeUndefined();
    expect(grant(template, 'EnforceRotationPolicyWorkerRole', 'sqs:ReceiveMessage', queue)).toBeDefined();
    expect(grant(template, 'EnforceRotationPolicyWorkerRole', 'sqs:SendMessage', queue)).toBeUndefined();
    expect(
      grant(template, 'EnforceRotationPolicyWorkerRole', 'secretsmanager:ListSecrets', '*'),
    ).toBeUndefined();
  });
});

describe('serverless invoke local -f rotateApiKey', () => {
  let moto: { endpoint: string; stop(): Promise<void> };
  const env = () => ({
    ...process.env,
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  });
  const aws = <T>(Client: new (config: object) => T): T =>
    new Client({
      region: 'us-east-1',
      endpoint: moto.endpoint,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });

  beforeAll(async () => {
    moto = await startMoto();
  });

  afterAll(async () => {
    await moto?.stop();
  });

  it("rotates the seed's production/api-keys/aws through the four steps on the local default, scheduling nothing", {
    timeout: 240_000,
  }, async () => {
    // Prepare: the seed's secret for an IAM user's key, and a rotation started as Secrets Manager would.
    const sm = aws(SecretsManagerClient);
    const iam = aws(IAMClient);
    await iam.send(new CreateUserCommand({ UserName: 'muejam-s3', Path: '/app/' }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'muejam-s3' }))).AccessKey;
    const { ARN: arn = '' } = await sm.send(
      new CreateSecretCommand({
        Name: 'production/api-keys/aws',
        SecretString: JSON.stringify({
          access_key_id: key?.AccessKeyId,
          secret_access_key: key?.SecretAccessKey,
          rotated_at: '2024-01-01T00:00:00Z',
        }),
      }),
    );
    const oldVersion = Object.entries(await stagesOf(sm, arn)).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
    const token = await startRotation(sm, arn);

    // Act: the documented command, once per step, as a person would run it.
    const outputs: string[] = [];
    for (const Step of STEPS) {
      const data = JSON.stringify({ SecretId: 'production/api-keys/aws', ClientRequestToken: token, Step });
      const { stdout, stderr } = await run(
        SERVERLESS,
        ['invoke', 'local', '-f', 'rotateApiKey', '--data', data],
        {
          cwd: ROOT,
          env: env(),
          maxBuffer: 16 * 1024 * 1024,
        },
      );
      outputs.push(stdout + stderr);
      expect(stdout, Step).toMatch(/"outcome": "done"/);
    }

    // Assess: rotated, the move recorded, nothing scheduled (and said so), no key in the output.
    const stages = await stagesOf(sm, arn);
    expect(stages[token]).toEqual(['AWSCURRENT']);
    expect(stages[oldVersion ?? '']).toEqual(['AWSPREVIOUS']);
    const next = await valueAt(sm, arn, 'AWSCURRENT');
    expect(next?.access_key_id).not.toBe(key?.AccessKeyId);
    const keys =
      (await iam.send(new ListAccessKeysCommand({ UserName: 'muejam-s3' }))).AccessKeyMetadata ?? [];
    expect(keys.map((k) => k.AccessKeyId).sort()).toEqual([key?.AccessKeyId, next?.access_key_id].sort());
    const tags = (await sm.send(new DescribeSecretCommand({ SecretId: arn }))).Tags ?? [];
    expect(tags.map((tag) => tag.Key)).toContain(`rotation-superseded:${oldVersion}`);
    expect((await aws(SchedulerClient).send(new ListSchedulesCommand({}))).Schedules ?? []).toEqual([]);
    const finish = outputs.at(-1) ?? '';
    expect(finish).toContain('revocation not scheduled; the next rotation revokes the key');
    expect(
      findLeaks(outputs.join('\n'), [key?.SecretAccessKey ?? '', next?.secret_access_key ?? '']),
    ).toEqual([]);
  });
});
