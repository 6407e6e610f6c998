/**
 * The production stack, as `serverless package --stage production` generates it with no AWS
 * account: what a security review asks of it, checked on the template itself, generically
 * (every function and every role found, so functions added later are held to the same rules);
 * cfn-lint on it; and `serverless deploy` to a private moto server.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RotationMetric } from '../../shared/alerts/index.js';
import { DEFAULT_RETRY, SUPERSEDED_TAG_PREFIX } from '../../shared/api-keys/index.js';
import { KEY_TAG_PREFIX } from '../../shared/api-keys/providers/aws/index.js';
import {
  GOOGLE_KEY_PROPAGATION,
  GOOGLE_OPERATION_TIMEOUT_MS,
} from '../../shared/api-keys/providers/google/index.js';
import {
  loadApiKeyRotationConfig,
  loadConnectorOptions,
  loadMasterPasswordWait,
} from '../../shared/config/index.js';
import {
  DEFAULT_STARTS_PER_SECOND,
  HAND_OVER_RESERVE_MS,
  loadStartsPerSecond,
  WORKER_BATCH_SIZE,
  WORKER_PACING_BUDGET_MS,
} from '../../shared/enforcement/index.js';
import { DEFAULT_POLICY, PolicyTag, parseWindowTag } from '../../shared/policy/index.js';
import { loadRotateNowConfig } from '../../shared/rotate-now/index.js';
import { asList, iamMatches, type Json, ResolvedTemplate, type Template } from '../support/cloudformation.js';
import { startMoto } from '../support/local-stack.js';
import { actionOf, type Bundle, type BundleOptions, bundleOf } from '../support/sdk-actions.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const SERVERLESS = join(ROOT, 'node_modules', '.bin', 'serverless');
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const STAGE = 'production';
const SERVICE = 'secrets-rotation';
/** Lambda's longest timeout: no step can wait longer. */
const LAMBDA_MAX_TIMEOUT_S = 900;

/** A deployment's values, as `--param` gives them and as CloudFormation then holds them. */
const PARAMS = {
  alertEmail: 'platform-oncall@example.com',
  kmsKeyArn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
  databaseSubnetIds: 'subnet-0123456789abcdef0,subnet-0fedcba9876543210',
  databaseSecurityGroupIds: 'sg-0123456789abcdef0',
};

/** The seed's five secrets (shared/seed) and the function that rotates each. */
const SEED_SECRETS = {
  'production/database/primary': 'RotateDatabase',
  'production/api-keys/clerk': 'RotateApiKey',
  'production/api-keys/aws': 'RotateApiKey',
  'production/api-keys/resend': 'RotateApiKey',
  'production/api-keys/google': 'RotateApiKey',
};

/**
 * Actions allowed on `Resource: "*"`, each because AWS offers nothing narrower. A wildcard
 * anywhere else fails.
 */
const WILDCARD_ONLY: Readonly<Record<string, string>> = {
  'secretsmanager:GetRandomPassword': 'generates a password; it acts on no resource',
  'secretsmanager:ListSecrets': 'supports no resource-level permission; it returns names and metadata only',
  'secretsmanager:BatchGetSecretValue':
    'with filters it names no secret; each value it returns also needs GetSecretValue on that secret',
  'ec2:DescribeNetworkInterfaces': 'Lambda documents it as working only on "*" (VPC attachment)',
  'ec2:DescribeSubnets': 'Describe calls support no resource-level permission (VPC attachment)',
};

/**
 * Commands a function's bundle holds that its deployed code never sends, by function, each
 * with why (see test/support/sdk-actions.ts on this method's limits).
 */
const BUNDLED_NOT_SENT: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  rotateDatabase: {
    'secretsmanager:ListSecretVersionIds':
      'SecretStore.versionCreatedDate, which only repair and rollback (rotateNow) call; the rotation engine never does',
  },
  rotateNow: {
    'secretsmanager:PutSecretValue':
      'SecretStore.putPending, the engine’s createSecret: rotateNow runs steps by invoking the rotation functions',
    'secretsmanager:GetRandomPassword':
      'the password source of the PostgreSQL strategy its rollback check builds; a rollback only tests the old password',
    'iam:CreateAccessKey': 'the aws provider’s issue; a rollback only tests and reactivates the previous key',
    'iam:DeleteAccessKey':
      'the aws provider’s cleanup; a rollback only tests and reactivates the previous key',
    'iam:TagUser':
      'the aws provider tags the keys it creates; a rollback only reads those tags (ListUserTags)',
    'iam:UntagUser': 'the aws provider untags the keys it deletes; a rollback deletes none',
    'rds:ModifyDBInstance':
      'the PostgreSQL strategy’s RDS master rotation (setSecret); a rollback refuses an RDS master user before any call but DescribeDB* (PasswordReplacedError)',
    'rds:ModifyDBCluster':
      'the PostgreSQL strategy’s RDS master rotation (setSecret); a rollback refuses an RDS master user before any call but DescribeDB* (PasswordReplacedError)',
  },
  enforceRotationPolicy: {
    'secretsmanager:PutSecretValue':
      'SecretStore.putPending, the engine’s createSecret: the enforcer runs steps by invoking the rotation functions',
    'sqs:CreateQueue':
      'resolveQueueUrl creates the queue only when AWS_ENDPOINT_URL names a local emulator; on AWS it is the stack’s (GetQueueUrl)',
    'sns:CreateTopic': 'alertPublisher creates the topic only when AWS_ENDPOINT_URL names a local emulator',
  },
  enforceRotationPolicyWorker: {
    'secretsmanager:PutSecretValue':
      'SecretStore.putPending, the engine’s createSecret: the worker runs steps by invoking the rotation functions',
    'sns:CreateTopic': 'alertPublisher creates the topic only when AWS_ENDPOINT_URL names a local emulator',
  },
  complianceReport: {
    's3:CreateBucket': 'ensureLocalDestinations, run only when AWS_ENDPOINT_URL names a local emulator',
    'sns:CreateTopic': 'ensureLocalDestinations, run only when AWS_ENDPOINT_URL names a local emulator',
    's3express:CreateSession':
      'S3 Express One Zone sessions, for directory buckets; the reports bucket is a general purpose bucket',
  },
};

/** Modules whose dynamic imports only a local run takes (ROTATION_STEP_RUNNER=in-process). */
const LOCAL_ONLY_IMPORTERS = ['functions/lib/in-process-steps.ts'];

/** Resource types moto's CloudFormation (5.x) does not create: it skips them with a warning. */
const MOTO_UNSUPPORTED = [
  'AWS::CloudWatch::Alarm',
  'AWS::Lambda::EventInvokeConfig',
  'AWS::Logs::MetricFilter',
  'AWS::S3::BucketPolicy',
  'AWS::SNS::Subscription',
  'AWS::SQS::QueuePolicy',
  'AWS::Scheduler::ScheduleGroup',
  'AWS::SecretsManager::RotationSchedule',
];

interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Principal?: unknown;
  readonly Action?: string | string[];
  readonly NotAction?: unknown;
  readonly Resource?: string | string[];
  readonly NotResource?: unknown;
  readonly Condition?: Json;
}

/** One grant: an action on a resource pattern, and the statement it came from. */
interface Grant {
  readonly action: string;
  readonly resource: string;
  readonly statement: Statement;
  readonly from: string;
}

/** Something a function's code needs, and which grants of it are not broader than that. */
interface Need {
  readonly action: string;
  readonly why: string;
  /** Concrete resources the code reaches: each must be granted. */
  readonly reaches: readonly string[];
  /** True when `pattern` grants no more than the code needs. */
  allows(pattern: string): boolean;
  /** Conditions every statement granting it must carry. */
  readonly condition?: Json;
  /** Tags it may write: every statement granting it must hold aws:TagKeys to these. */
  readonly tagKeys?: readonly string[];
}

interface StackFunction {
  /** Its key in serverless.yml: `rotateDatabase`. */
  readonly key: string;
  readonly id: string;
  readonly name: string;
  readonly roleId: string;
  readonly properties: Json;
  readonly handlerSource: string;
  bundle?: Bundle;
}

const arn = (service: string, rest: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${rest}`;
const secretArn = (name: string) => arn('secretsmanager', `secret:${name}`);
const functionArn = (key: string) => arn('lambda', `function:${SERVICE}-${STAGE}-${key}`);

/** A copy of the working tree (not .esbuild or .serverless): packaging here cannot race other tests. */
async function copyOfTree(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'stack-'));
  const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    maxBuffer: 16 * 1024 * 1024,
  });
  const files = stdout.split('\0').filter((file) => file && file !== 'node_modules');
  await Promise.all(
    files.map((file) => cp(join(ROOT, file), join(dir, file), { recursive: true }).catch(() => undefined)),
  );
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

/** An environment without any AWS account: no keys, no profile, no instance metadata. */
function noAccount(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')));
  return {
    ...env,
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...extra,
  };
}

const paramOptions = (params: Record<string, string>) =>
  Object.entries(params).map(([name, value]) => `--param=${name}=${value}`);

describe('the production stack (serverless package --stage production with its params, no AWS account)', () => {
  let tree: string;
  let artifacts: string;
  let template: Template;
  let stack: ResolvedTemplate;
  let serviceParams: Record<string, unknown>;
  let functions: StackFunction[];
  let lint: { code: number; output: string };

  beforeAll(async () => {
    tree = await copyOfTree();
    artifacts = join(tree, '.artifacts');
    await run(SERVERLESS, ['package', '--stage', STAGE, '--package', artifacts, ...paramOptions(PARAMS)], {
      cwd: tree,
      env: noAccount(),
      maxBuffer: 16 * 1024 * 1024,
    });
    template = JSON.parse(
      await readFile(join(artifacts, 'cloudformation-template-update-stack.json'), 'utf8'),
    );
    const state = JSON.parse(await readFile(join(artifacts, 'serverless-state.json'), 'utf8'));
    serviceParams = state.service.initialServerlessConfig.params.default;
    stack = new ResolvedTemplate(template, {
      accountId: ACCOUNT,
      region: REGION,
      stackName: `${SERVICE}-${STAGE}`,
    });
    functions = await Promise.all(
      Object.entries(state.service.functions as Record<string, { handler: string; name: string }>).map(
        async ([key, fn]) => {
          const id = `${key.charAt(0).toUpperCase()}${key.slice(1)}LambdaFunction`;
          const properties = stack.properties(id);
          const role = String(properties.Role);
          const entry = `${fn.handler.replace(/\.\w+$/, '')}.ts`;
          return {
            key,
            id,
            name: fn.name,
            roleId: /^<(\w+)\.Arn>$/.exec(role)?.[1] ?? role,
            properties,
            handlerSource: await readFile(join(ROOT, entry), 'utf8'),
            entry,
          };
        },
      ),
    );
    const esbuild = state.service.custom.esbuild as BundleOptions;
    const [lintResult] = await Promise.all([
      run('cfn-lint', [join(artifacts, 'cloudformation-template-update-stack.json')]).then(
        ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
        (error: { code: number; stdout: string; stderr: string }) => ({
          code: error.code,
          output: error.stdout + error.stderr,
        }),
      ),
      ...functions.map(async (fn) => {
        const entry = `${String(state.service.functions[fn.key].handler).replace(/\.\w+$/, '')}.ts`;
        fn.bundle = await bundleOf(ROOT, entry, esbuild, LOCAL_ONLY_IMPORTERS);
      }),
    ]);
    lint = lintResult;
  }, 180_000);

  afterAll(async () => {
    if (tree) await rm(tree, { recursive: true, force: true });
  });

  /** Every grant (or denial) of role `roleId`: its inline policies and the policies attached to it. */
  function grantsOf(roleId: string, effect: 'Allow' | 'Deny' = 'Allow'): Grant[] {
    const role = stack.properties(roleId);
    const documents: [string, Json][] = asList(role.Policies as Json[]).map((policy) => [
      `${roleId}/${policy.PolicyName}`,
      policy.PolicyDocument as Json,
    ]);
    for (const [id, resource] of stack.resources()) {
      if (!['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy', 'AWS::IAM::RolePolicy'].includes(resource.Type))
        continue;
      const policy = stack.properties(id);
      const roles = [...asList(policy.Roles as string[]), ...asList(policy.RoleName as string | undefined)];
      if (roles.includes(`<${roleId}>`)) documents.push([id, policy.PolicyDocument as Json]);
    }
    return documents.flatMap(([from, document]) =>
      asList(document.Statement as Statement[])
        .filter((statement) => statement.Effect === effect)
        .flatMap((statement) =>
          asList(statement.Action).flatMap((action) =>
            asList(statement.Resource).map((resource) => ({ action, resource, statement, from })),
          ),
        ),
    );
  }

  const rotationSchedules = () =>
    stack.resources('AWS::SecretsManager::RotationSchedule').map(([id]) => stack.properties(id));

  /** The functions Secrets Manager invokes for rotation, and the categories they rotate. */
  function rotatorCategories(): Map<string, Set<string>> {
    const categories = new Map<string, Set<string>>();
    for (const schedule of rotationSchedules()) {
      const target = /^<(\w+)LambdaFunction\.Arn>$/.exec(String(schedule.RotationLambdaARN))?.[1] ?? '';
      const category = String(schedule.SecretId).split('/')[1] ?? '';
      categories.set(target, (categories.get(target) ?? new Set()).add(category));
    }
    return categories;
  }

  /** The categories of secret `fn` works on: a rotator's own, otherwise every managed one. */
  function categoriesOf(fn: StackFunction): string[] {
    const own = rotatorCategories().get(fn.id.replace(/LambdaFunction$/, ''));
    return own ? [...own] : ['database', 'api-keys'];
  }

  /** Function `key`'s environment variables. */
  const variablesOf = (key: string): Record<string, string> =>
    ((functions.find((fn) => fn.key === key)?.properties.Environment as Json | undefined)?.Variables ??
      {}) as Record<string, string>;

  const actionsOf = (fn: StackFunction) =>
    new Set((fn.bundle?.commands ?? []).map(actionOf).filter((action): action is string => action !== null));

  /** What `fn`'s code needs, derived from its bundle, and what AWS requires alongside. */
  function needsOf(fn: StackFunction): Need[] {
    const actions = actionsOf(fn);
    const exempt = BUNDLED_NOT_SENT[fn.key] ?? {};
    const needs: Need[] = [];
    const need = (
      action: string,
      why: string,
      allows: (pattern: string) => boolean,
      reaches: string[] = [],
      condition?: Json,
      tagKeys?: readonly string[],
    ) =>
      needs.push({
        action,
        why,
        allows,
        reaches,
        ...(condition ? { condition } : {}),
        ...(tagKeys ? { tagKeys } : {}),
      });
    const categories = categoriesOf(fn);
    const usesProviders = fn.bundle?.sources.includes('shared/api-keys/providers/index.ts') ?? false;
    const scheduleGroup = `<RevokeScheduleGroup>`;
    const iamUserPath = String(serviceParams.iamUserPath);
    const rotators = [...rotatorCategories().keys()];
    const invokesRotators = (why: string) => {
      const unqualified = rotators.map((id) => functionArn(`${id.charAt(0).toLowerCase()}${id.slice(1)}`));
      const targets = [...unqualified, ...rotators.map((id) => `<${id}LambdaFunction.Arn>`)];
      need(
        'lambda:InvokeFunction',
        why,
        (pattern) => targets.some((target) => pattern === target || pattern === `${target}:*`),
        unqualified,
      );
    };
    // The key this deployment names (--param=kmsKeyArn=…).
    const kmsKey = PARAMS.kmsKeyArn;

    for (const action of actions) {
      if (action in exempt) continue;
      const [service, name = ''] = action.split(':');
      const why = `the bundle sends ${name}`;
      if (action in WILDCARD_ONLY) need(action, why, (pattern) => pattern === '*', ['*']);
      else if (service === 'secretsmanager') {
        const reads = ['GetSecretValue', 'DescribeSecret'].includes(name);
        // Tags are the rotation-superseded:* records, which only API-key secrets carry
        // (shared/api-keys/superseded.ts).
        const tags = ['TagResource', 'UntagResource'].includes(name);
        const touched = tags ? categories.filter((category) => category === 'api-keys') : categories;
        // Provider credentials (admin keys, service accounts) live under {environment}/rotation/.
        const scope = reads && usesProviders ? [...touched, 'rotation'] : touched;
        const prefixes = scope.map((category) => secretArn(`${STAGE}/${category}/`));
        // RDS-managed master secrets are named by RDS, not by stage; RDS rotates them: read only.
        if (reads && touched.includes('database')) prefixes.push(secretArn('rds!'));
        need(
          action,
          why,
          (pattern) => prefixes.some((prefix) => pattern.startsWith(prefix)),
          touched.map((category) => secretArn(`${STAGE}/${category}/name-AbCdEf`)),
          undefined,
          // Only the product's own records: the policy's tags (rotation-window, rotation-mode…) stay people's.
          tags ? [`${SUPERSEDED_TAG_PREFIX}*`, PolicyTag.PREVIOUS_REVOKED] : undefined,
        );
      } else if (service === 'iam' && action !== 'iam:PassRole') {
        // The aws provider's IAM calls all act on the users whose keys rotate.
        const users = `arn:aws:iam::${ACCOUNT}:user${iamUserPath}`;
        // A user's tags may grant it access (ABAC): the function writes only its rotation-key:* records.
        const tagKeys = ['iam:TagUser', 'iam:UntagUser'].includes(action)
          ? [`${KEY_TAG_PREFIX}*`]
          : undefined;
        need(action, why, (pattern) => pattern.startsWith(users), [`${users}muejam-s3`], undefined, tagKeys);
      } else if (service === 'scheduler') {
        const schedules = arn('scheduler', `schedule/${scheduleGroup}/revoke-`);
        need(action, why, (pattern) => pattern.startsWith(schedules), [`${schedules}0123abcd`]);
      } else if (action === 'lambda:InvokeFunction') {
        invokesRotators('runs rotation steps by invoking the rotation functions');
      } else if (action === 's3:PutObject') {
        const reports = 'arn:aws:s3:::<ReportsBucket>/compliance-reports/';
        need(action, why, (pattern) => pattern.startsWith(reports), [`${reports}2026-11-30/report.json`]);
      } else if (action === 'sns:Publish') {
        need(action, why, (pattern) => pattern === '<AlertsTopic>', ['<AlertsTopic>']);
        for (const keyAction of ['kms:GenerateDataKey', 'kms:Decrypt'])
          need(
            keyAction,
            'publishes to the alerts topic, encrypted with AlertsKey',
            (pattern) => pattern === '<AlertsKey.Arn>',
            ['<AlertsKey.Arn>'],
          );
      } else {
        // Any other service: a resource of this stack, or one of this account and region
        // named in full (no trailing wildcard).
        need(
          action,
          why,
          (pattern) =>
            /^<\w+(\.\w+)?>$/.test(pattern) ||
            (pattern.startsWith(arn(service ?? '', '')) && !/[:/]\*$/.test(pattern)),
        );
      }
    }
    // RotateSecret also needs leave to invoke the secret's rotation function.
    if (actions.has('secretsmanager:RotateSecret'))
      invokesRotators('RotateSecret invokes the rotation function with the caller’s permission');
    // A queue that triggers the function: Lambda polls it with the function's role.
    for (const [id] of stack.resources('AWS::Lambda::EventSourceMapping')) {
      const mapping = stack.properties(id);
      if (mapping.FunctionName !== `<${fn.id}>` && mapping.FunctionName !== `<${fn.id}.Arn>`) continue;
      const queue = String(mapping.EventSourceArn);
      for (const action of ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'])
        need(action, `Lambda polls ${queue} for the function`, (pattern) => pattern === queue, [queue]);
    }
    // What AWS requires besides the API calls.
    const logGroup = `<${fn.id.replace(/LambdaFunction$/, '')}LogGroup.Arn>`;
    for (const action of ['logs:CreateLogStream', 'logs:PutLogEvents'])
      need(action, 'Lambda writes the function’s logs with its role', (pattern) => pattern === logGroup, [
        logGroup,
      ]);
    need(
      'sqs:SendMessage',
      'Lambda sends a failed asynchronous invocation to the dead-letter queue with the function’s role',
      (pattern) => pattern === '<DeadLetterQueue.Arn>',
      ['<DeadLetterQueue.Arn>'],
    );
    if (fn.properties.VpcConfig) {
      for (const action of ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'])
        need(action, 'Lambda attaches the function to the VPC', (pattern) => pattern === '*', ['*']);
      for (const action of [
        'ec2:CreateNetworkInterface',
        'ec2:DeleteNetworkInterface',
        'ec2:AssignPrivateIpAddresses',
        'ec2:UnassignPrivateIpAddresses',
      ])
        need(action, 'Lambda attaches the function to the VPC', (pattern) => pattern === arn('ec2', '*/*'), [
          arn('ec2', 'network-interface/eni-0123'),
        ]);
    }
    const viaSecretsManager = {
      StringEquals: { 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com` },
    };
    if (
      kmsKey &&
      ['secretsmanager:GetSecretValue', 'secretsmanager:BatchGetSecretValue'].some((a) => actions.has(a))
    )
      need(
        'kms:Decrypt',
        'reads secret values under the secrets key',
        (pattern) => pattern === kmsKey,
        [kmsKey],
        viaSecretsManager,
      );
    if (
      kmsKey &&
      actions.has('secretsmanager:PutSecretValue') &&
      !('secretsmanager:PutSecretValue' in exempt)
    )
      need(
        'kms:GenerateDataKey',
        'writes secret values under the secrets key',
        (pattern) => pattern === kmsKey,
        [kmsKey],
        viaSecretsManager,
      );
    if (actions.has('scheduler:CreateSchedule')) {
      const schedulerRoles = roleIdsTrusting('scheduler.amazonaws.com').map((id) => `<${id}.Arn>`);
      need(
        'iam:PassRole',
        'creates schedules that run with the scheduler role',
        (pattern) => schedulerRoles.includes(pattern),
        schedulerRoles,
        { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      );
    }
    return needs;
  }

  /** True when `condition` holds the request's tag keys (aws:TagKeys, every one) to `allowed`, and says nothing else. */
  function restrictsTagKeys(condition: Json | undefined, allowed: readonly string[]): boolean {
    const [operator, ...others] = Object.entries(condition ?? {});
    if (!operator || others.length > 0) return false;
    const [name, keys] = operator;
    if (!['ForAllValues:StringLike', 'ForAllValues:StringEquals'].includes(name)) return false;
    const tested = Object.entries(keys as Json);
    return (
      tested.length === 1 &&
      tested[0]?.[0] === 'aws:TagKeys' &&
      asList(tested[0][1] as string | string[]).every((key) => allowed.includes(key))
    );
  }

  /** Roles whose trust policy names service principal `service`. */
  function roleIdsTrusting(service: string): string[] {
    return stack
      .resources('AWS::IAM::Role')
      .filter(([id]) =>
        asList((stack.properties(id).AssumeRolePolicyDocument as Json).Statement as Json[]).some(
          (statement) => asList((statement.Principal as Json)?.Service as string[]).includes(service),
        ),
      )
      .map(([id]) => id);
  }

  /** Problems of `grants` against `needs`: grants broader than needed, needs not granted. */
  function judge(who: string, grants: Grant[], needs: Need[]): string[] {
    const problems: string[] = [];
    for (const grant of grants) {
      if (grant.statement.NotAction || grant.statement.NotResource)
        problems.push(`${who}: ${grant.from} uses NotAction/NotResource`);
      const candidates = needs.filter((need) => need.action === grant.action);
      if (candidates.length === 0) {
        problems.push(`${who}: ${grant.from} grants ${grant.action}, which its code does not need`);
        continue;
      }
      const allowing = candidates.find((need) => need.allows(grant.resource));
      if (!allowing) {
        problems.push(
          `${who}: ${grant.from} grants ${grant.action} on ${grant.resource}, broader than ${candidates[0]?.why}`,
        );
        continue;
      }
      if (
        allowing.condition &&
        JSON.stringify(grant.statement.Condition) !== JSON.stringify(allowing.condition)
      )
        problems.push(
          `${who}: ${grant.from} grants ${grant.action} without ${JSON.stringify(allowing.condition)}`,
        );
      if (allowing.tagKeys && !restrictsTagKeys(grant.statement.Condition, allowing.tagKeys))
        problems.push(
          `${who}: ${grant.from} grants ${grant.action} on tags other than ${allowing.tagKeys.join(', ')}`,
        );
    }
    for (const need of needs) {
      const granted = grants.filter((grant) => grant.action === need.action && need.allows(grant.resource));
      if (granted.length === 0) problems.push(`${who}: no statement grants ${need.action} (${need.why})`);
      for (const resource of need.reaches)
        if (!granted.some((grant) => iamMatches(grant.resource, resource)))
          problems.push(`${who}: ${need.action} is not granted on ${resource} (${need.why})`);
    }
    return problems;
  }

  describe('packaging', () => {
    it('packages every function without source maps and without an AWS account', async () => {
      // Prepare / Act: beforeAll packaged with no AWS credentials, profile or instance metadata.
      const zips = await Promise.all(
        functions.map(async (fn) => {
          const { stdout } = await run('unzip', ['-Z1', join(artifacts, `${fn.key}.zip`)]);
          return [fn.key, stdout.trim().split('\n')] as const;
        }),
      );

      // Assess
      expect(functions.map((fn) => fn.key)).toEqual(
        expect.arrayContaining(['rotateDatabase', 'rotateApiKey']),
      );
      for (const [key, entries] of zips) {
        expect(
          entries.filter((entry) => entry.endsWith('.map')),
          key,
        ).toEqual([]);
        expect(entries.filter((entry) => entry.endsWith('.cjs')).length, key).toBe(1);
      }
    });

    it('leaves cfn-lint nothing to report', () => {
      expect(lint.output.trim()).toBe('');
      expect(lint.code).toBe(0);
    });

    it('has every param listed in the README’s Deploying › Parameters table', async () => {
      // Prepare: the table's first column, each row naming one or more params in backticks.
      const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
      const section = readme.split('\n### Parameters\n')[1]?.split('\n#')[0] ?? '';
      const listed = section
        .split('\n')
        .filter((line) => line.startsWith('| `'))
        .flatMap((line) => [...(line.split('|')[1] ?? '').matchAll(/`(\w+)`/g)].map((m) => m[1]));

      // Assess
      expect(Object.keys(serviceParams).filter((name) => !listed.includes(name))).toEqual([]);
    });

    it('takes the e-mail, subnets and security groups as CloudFormation parameters that CloudFormation checks', () => {
      const parameters = template.Parameters ?? {};
      expect(parameters.AlertEmail?.Default).toBe(PARAMS.alertEmail);
      expect(parameters.DatabaseSubnetIds?.Default).toBe(PARAMS.databaseSubnetIds);
      expect(parameters.DatabaseSubnetIds?.Type).toBe('List<AWS::EC2::Subnet::Id>');
      expect(parameters.DatabaseSecurityGroupIds?.Type).toBe('List<AWS::EC2::SecurityGroup::Id>');
    });
  });

  describe('IAM', () => {
    it('gives every function a role of its own that only Lambda assumes, with no managed policy', () => {
      const roles = functions.map((fn) => fn.roleId);
      expect(new Set(roles).size).toBe(functions.length);
      for (const fn of functions) {
        const role = stack.properties(fn.roleId);
        expect(role.ManagedPolicyArns ?? [], fn.key).toEqual([]);
        expect((role.AssumeRolePolicyDocument as Json).Statement, fn.key).toEqual([
          { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ]);
      }
    });

    it('grants every function exactly the actions its bundle sends (and what AWS requires with them), each on only what it reaches', () => {
      // Prepare / Act
      const problems = functions.flatMap((fn) => judge(fn.key, grantsOf(fn.roleId), needsOf(fn)));

      // Assess: every function was read, and nothing is broader or missing.
      expect(functions.every((fn) => (fn.bundle?.commands.length ?? 0) > 0)).toBe(true);
      expect(problems).toEqual([]);
    });

    it('grants the rotation functions writes only on the categories of secret they rotate', () => {
      const writes = ['PutSecretValue', 'UpdateSecretVersionStage', 'TagResource', 'UntagResource'];
      for (const [id, categories] of rotatorCategories()) {
        const fn = functions.find((f) => f.id === `${id}LambdaFunction`);
        const written = grantsOf(fn?.roleId ?? '')
          .filter((grant) => writes.some((action) => grant.action === `secretsmanager:${action}`))
          .map((grant) => grant.resource);
        expect(written.length, id).toBeGreaterThan(0);
        for (const resource of written)
          expect(
            [...categories].some((c) => resource.startsWith(secretArn(`${STAGE}/${c}/`))),
            resource,
          ).toBe(true);
      }
      expect([...rotatorCategories()].map(([id, c]) => [id, [...c]])).toEqual([
        ['RotateDatabase', ['database']],
        ['RotateApiKey', ['api-keys']],
      ]);
    });

    it('uses a wildcard resource only for actions AWS offers nothing narrower for', () => {
      const wildcards = stack
        .resources('AWS::IAM::Role')
        .flatMap(([id]) => grantsOf(id))
        .filter(
          (grant) => grant.resource === '*' || /^arn:aws:[a-z0-9-]+:(\*|):(\*|):\*?$/.test(grant.resource),
        );
      expect(wildcards.length).toBeGreaterThan(0);
      for (const grant of wildcards)
        expect(Object.keys(WILDCARD_ONLY), `${grant.from} ${grant.action}`).toContain(grant.action);
    });

    it('lets every other role do only what its service needs: the scheduler invokes the API-key rotation function and dead-letters', () => {
      // Prepare: the roles no function runs with, and what each service does with them.
      const functionRoles = new Set(functions.map((fn) => fn.roleId));
      const others = stack.resources('AWS::IAM::Role').filter(([id]) => !functionRoles.has(id));
      const schedulingFunctions = functions.filter((fn) => actionsOf(fn).has('scheduler:CreateSchedule'));
      // Revocation schedules invoke the API-key secrets' rotation function: rotateApiKey targets
      // itself as it was invoked, rotateNow's rollback the secret's rotation function.
      const targets = [...rotatorCategories()]
        .filter(([, categories]) => categories.has('api-keys'))
        .map(([id]) => `${id.charAt(0).toLowerCase()}${id.slice(1)}`)
        .flatMap((key) => [functionArn(key), `${functionArn(key)}:*`]);

      // Act
      const problems = others.flatMap(([id]) => {
        const trust = (stack.properties(id).AssumeRolePolicyDocument as Json).Statement as Json[];
        if (!roleIdsTrusting('scheduler.amazonaws.com').includes(id))
          return [`${id}: no rule for what this role needs`];
        expect(trust, id).toEqual([
          {
            Effect: 'Allow',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Action: 'sts:AssumeRole',
            Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
          },
        ]);
        return judge(id, grantsOf(id), [
          {
            action: 'lambda:InvokeFunction',
            why: 'a schedule invokes the function that created it, by the ARN it was invoked with',
            allows: (pattern) => targets.includes(pattern),
            reaches: targets.map((target) => target.replace(':*', ':live')),
          },
          {
            action: 'sqs:SendMessage',
            why: 'the scheduler dead-letters a failed invocation with the schedule’s role',
            allows: (pattern) => pattern === '<DeadLetterQueue.Arn>',
            reaches: ['<DeadLetterQueue.Arn>'],
          },
        ]);
      });

      // Assess
      expect(others.map(([id]) => id)).toEqual(['RevokeSchedulerRole']);
      expect(schedulingFunctions.map((fn) => fn.key)).toEqual(['rotateApiKey', 'rotateNow']);
      expect(problems).toEqual([]);
    });

    it('lets Secrets Manager of this account, and no other, invoke each rotation function, for any secret', () => {
      const permissions = stack
        .resources('AWS::Lambda::Permission')
        .map(([id]) => stack.properties(id))
        .filter((permission) => permission.Principal === 'secretsmanager.amazonaws.com');
      const rotators = [...rotatorCategories().keys()].map((id) => `<${id}LambdaFunction.Arn>`);
      expect(permissions.map((permission) => permission.FunctionName).sort()).toEqual(rotators.sort());
      for (const permission of permissions) {
        expect(permission.SourceAccount).toBe(ACCOUNT);
        expect(permission.SourceArn).toBeUndefined();
        expect(permission.Action).toBe('lambda:InvokeFunction');
      }
      // No other principal may invoke a rotation function, and every other grant names its source.
      for (const [id] of stack.resources('AWS::Lambda::Permission')) {
        const permission = stack.properties(id);
        if (rotators.includes(String(permission.FunctionName)))
          expect(permission.Principal, id).toBe('secretsmanager.amazonaws.com');
        expect(String(permission.Principal), id).toMatch(/^[a-z]+\.amazonaws\.com$/);
        expect(permission.SourceArn ?? permission.SourceAccount, id).toBeDefined();
      }
    });
  });

  describe('rotation schedules', () => {
    it("schedule the seed's five secrets with their rotation function, every 75 days (the policy's), none rotated at deploy", () => {
      const schedules = stack.resources('AWS::SecretsManager::RotationSchedule');
      const bySecret = Object.fromEntries(
        schedules.map(([id, resource]) => {
          const properties = stack.properties(id);
          const target = /^<(\w+)LambdaFunction\.Arn>$/.exec(String(properties.RotationLambdaARN))?.[1];
          expect(properties.RotationRules, id).toEqual({
            AutomaticallyAfterDays: DEFAULT_POLICY.scheduleDays,
          });
          expect(properties.RotateImmediatelyOnUpdate, id).toBe(false);
          // Secrets Manager runs testSecret when rotation is configured: invoking and the key work by then.
          expect(asList(resource.DependsOn), id).toEqual([
            `${target}SecretsManagerPermission`,
            'SecretsKeyDecryptPolicy',
            'SecretsKeyEncryptPolicy',
          ]);
          return [properties.SecretId, target];
        }),
      );
      expect(bySecret).toEqual(SEED_SECRETS);
      expect(serviceParams.rotationScheduleDays).toBe(DEFAULT_POLICY.scheduleDays);
    });
  });

  describe('network', () => {
    it('runs exactly the functions that log in to the database in its VPC, on the subnets and security groups given', () => {
      for (const fn of functions) {
        // Handlers only wire: one that builds a PostgreSQL connector, or the PostgreSQL
        // strategy (functions/lib/postgres-strategy.ts, which builds one), logs in to a database.
        const connects = /create(PostgresConnector|PostgresRotationStrategy)\(/.test(fn.handlerSource);
        expect(fn.properties.VpcConfig, fn.key).toEqual(
          connects
            ? {
                SubnetIds: PARAMS.databaseSubnetIds.split(','),
                SecurityGroupIds: PARAMS.databaseSecurityGroupIds.split(','),
              }
            : undefined,
        );
      }
      expect(functions.filter((fn) => fn.properties.VpcConfig).map((fn) => fn.key)).toEqual([
        'rotateDatabase',
        'rotateNow',
      ]);
    });

    it('lets Lambda, and not the functions’ own code, manage their network interfaces', () => {
      // Lambda attaches a function with its role; a request the function's code signs carries
      // lambda:SourceFunctionArn, so a Deny on that key leaves the code none of the ec2 grants.
      for (const fn of functions.filter((f) => f.properties.VpcConfig)) {
        const granted = grantsOf(fn.roleId).filter((grant) => grant.action.startsWith('ec2:'));
        expect(granted.length, fn.key).toBeGreaterThan(0);
        const denied = grantsOf(fn.roleId, 'Deny').filter(
          (denial) =>
            denial.resource === '*' &&
            JSON.stringify(denial.statement.Condition) ===
              JSON.stringify({ Null: { 'lambda:SourceFunctionArn': 'false' } }),
        );
        for (const grant of granted)
          expect(
            denied.some((denial) => denial.action === grant.action),
            `${fn.key} ${grant.action}`,
          ).toBe(true);
      }
    });
  });

  describe('reports bucket', () => {
    it('is encrypted, versioned, closed to the public, TLS only, and expires old reports', () => {
      const bucket = stack.properties('ReportsBucket');
      expect(bucket.BucketName).toBe(`${SERVICE}-${STAGE}-${REGION}-reports`);
      expect(bucket.BucketEncryption).toEqual({
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      });
      expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(bucket.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      const rules = (bucket.LifecycleConfiguration as { Rules: Json[] }).Rules;
      expect(rules).toContainEqual(
        expect.objectContaining({
          Status: 'Enabled',
          Prefix: 'compliance-reports/',
          ExpirationInDays: serviceParams.reportRetentionDays,
          NoncurrentVersionExpiration: { NoncurrentDays: 30 },
        }),
      );
      const policy = stack
        .resources('AWS::S3::BucketPolicy')
        .map(([id]) => stack.properties(id))
        .find((p) => p.Bucket === '<ReportsBucket>');
      expect((policy?.PolicyDocument as Json | undefined)?.Statement).toContainEqual({
        Sid: 'DenyRequestsWithoutTls',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: ['<ReportsBucket.Arn>', '<ReportsBucket.Arn>/*'],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      });
    });

    it('is, like every bucket of the stack (the deployment bucket too), encrypted and closed to the public', () => {
      const buckets = stack.resources('AWS::S3::Bucket').map(([id]) => [id, stack.properties(id)] as const);
      expect(buckets.length).toBeGreaterThanOrEqual(2);
      for (const [id, bucket] of buckets) {
        expect(bucket.BucketEncryption, id).toBeDefined();
        expect(bucket.PublicAccessBlockConfiguration, id).toEqual({
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        });
      }
    });
  });

  describe('alerts', () => {
    const alarms = () =>
      stack.resources('AWS::CloudWatch::Alarm').map(([id]) => [id, stack.properties(id)] as const);

    it('go to a topic encrypted with a key its alarms may use, and to the e-mail given', () => {
      expect(stack.properties('AlertsTopic').KmsMasterKeyId).toBe('<AlertsKey>');
      const key = stack.properties('AlertsKey');
      expect(key.EnableKeyRotation).toBe(true);
      expect((key.KeyPolicy as Json).Statement).toContainEqual({
        Sid: 'CloudWatchAlarmsOfThisStackPublish',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
        Condition: {
          StringEquals: { 'aws:SourceAccount': ACCOUNT },
          ArnLike: { 'aws:SourceArn': arn('cloudwatch', `alarm:${SERVICE}-${STAGE}-*`) },
        },
      });
      const subscriptions = stack.resources('AWS::SNS::Subscription').map(([id]) => stack.properties(id));
      expect(subscriptions).toEqual([
        { TopicArn: '<AlertsTopic>', Protocol: 'email', Endpoint: PARAMS.alertEmail },
      ]);
    });

    it('come from an alarm on every function’s errors, and every alarm notifies the topic under a name the key allows', () => {
      for (const fn of functions)
        expect(
          alarms().some(
            ([, alarm]) =>
              alarm.Namespace === 'AWS/Lambda' &&
              alarm.MetricName === 'Errors' &&
              JSON.stringify(alarm.Dimensions) ===
                JSON.stringify([{ Name: 'FunctionName', Value: `<${fn.id}>` }]),
          ),
          fn.key,
        ).toBe(true);
      for (const [id, alarm] of alarms()) {
        expect(alarm.AlarmActions, id).toEqual(['<AlertsTopic>']);
        expect(String(alarm.AlarmName), id).toMatch(new RegExp(`^${SERVICE}-${STAGE}-`));
        expect(alarm.Threshold, id).toBe(1);
        expect(alarm.TreatMissingData, id).toBe('notBreaching');
      }
    });

    it('come from alarms on failed and abandoned rotations and unauthorized access, counted from rotationEvents’ metrics', () => {
      const filters = stack.resources('AWS::Logs::MetricFilter').map(([id]) => stack.properties(id));
      for (const metric of [RotationMetric.FAILED, RotationMetric.ABANDONED, RotationMetric.ACCESS_DENIED]) {
        const filter = filters.find((f) => String(f.FilterPattern) === `{ $.${metric} >= 1 }`);
        expect(filter?.LogGroupName, metric).toBe('<RotationEventsLogGroup>');
        const [transformation] = (filter?.MetricTransformations ?? []) as Json[];
        expect(transformation?.MetricNamespace).toBe(`SecretsRotation/${STAGE}`);
        expect(
          alarms().some(
            ([, alarm]) =>
              alarm.Namespace === transformation?.MetricNamespace &&
              alarm.MetricName === transformation?.MetricName,
          ),
          metric,
        ).toBe(true);
      }
    });
  });

  describe('operations', () => {
    it('keeps every function’s logs for a set time', () => {
      for (const fn of functions) {
        const group = stack.properties(`${fn.id.replace(/LambdaFunction$/, '')}LogGroup`);
        expect(group.LogGroupName, fn.key).toBe(`/aws/lambda/${fn.name}`);
        expect(group.RetentionInDays, fn.key).toBeGreaterThan(0);
      }
    });

    it('runs the policy jobs one at a time, and the enforcer’s worker at the concurrency its quota share assumes', () => {
      const policyJobs = functions.filter(
        (fn) => fn.key === 'complianceReport' || fn.key === 'enforceRotationPolicy',
      );
      expect(policyJobs.length).toBe(2);
      for (const fn of policyJobs) expect(fn.properties.ReservedConcurrentExecutions, fn.key).toBe(1);
      // The worker keeps to 1/ENFORCE_WORKER_CONCURRENCY of the quotas: its queue may run no more at once.
      const worker = functions.find((fn) => fn.key === 'enforceRotationPolicyWorker');
      expect(worker).toBeDefined();
      const mappings = stack
        .resources('AWS::Lambda::EventSourceMapping')
        .map(([id]) => stack.properties(id))
        .filter((m) => m.FunctionName === `<${worker?.id}>` || m.FunctionName === `<${worker?.id}.Arn>`);
      expect(mappings).toHaveLength(1);
      expect((mappings[0]?.ScalingConfig as Json | undefined)?.MaximumConcurrency).toBe(
        Number(variablesOf('enforceRotationPolicyWorker').ENFORCE_WORKER_CONCURRENCY),
      );
      // The worker's configuration bounds a batch's pacing by the batch it is given.
      expect(mappings[0]?.BatchSize).toBe(WORKER_BATCH_SIZE);
      // Both pace RotateSecret by the same setting, its default the one the code derives.
      for (const key of ['enforceRotationPolicy', 'enforceRotationPolicyWorker'])
        expect(loadStartsPerSecond(variablesOf(key)), key).toBe(DEFAULT_STARTS_PER_SECOND);
    });

    it('gives every step longer than the waits inside it, and rotateNow longer than the steps it runs', () => {
      // Prepare: the timeouts, and the waits the functions' configuration allows.
      const timeout = (key: string) => Number(functions.find((fn) => fn.key === key)?.properties.Timeout);
      const apiKeys = loadApiKeyRotationConfig(variablesOf('rotateApiKey'));
      const database = loadConnectorOptions(variablesOf('rotateDatabase'));
      const masterPassword = loadMasterPasswordWait(variablesOf('rotateDatabase'));
      const rotateNow = loadRotateNowConfig(variablesOf('rotateNow'));
      const rotators = [...rotatorCategories().keys()].map((id) =>
        timeout(`${id.charAt(0).toLowerCase()}${id.slice(1)}`),
      );
      const longestStep = Math.max(...rotators);
      // A wait inside a step leaves room for the calls around it: two requests at their timeout.
      const margin = (2 * DEFAULT_RETRY.timeoutMs) / 1000;

      // Assess
      for (const key of functions.map((fn) => fn.key))
        expect(timeout(key), key).toBeLessThanOrEqual(LAMBDA_MAX_TIMEOUT_S);
      expect(GOOGLE_OPERATION_TIMEOUT_MS / 1000 + margin).toBeLessThan(timeout('rotateApiKey'));
      expect((GOOGLE_KEY_PROPAGATION.attempts * GOOGLE_KEY_PROPAGATION.delayMs) / 1000 + margin).toBeLessThan(
        timeout('rotateApiKey'),
      );
      expect((apiKeys.iamPropagation.attempts * apiKeys.iamPropagation.delayMs) / 1000 + margin).toBeLessThan(
        timeout('rotateApiKey'),
      );
      expect(apiKeys.stepTimeoutMs / 1000).toBe(timeout('rotateApiKey'));
      // setSecret tries three passwords, then changes it; testSecret waits for RDS to apply a master password.
      expect((3 * database.connectTimeoutMs + database.queryTimeoutMs) / 1000).toBeLessThan(
        timeout('rotateDatabase'),
      );
      expect(masterPassword.timeoutMs / 1000 + margin).toBeLessThan(timeout('rotateDatabase'));
      expect(longestStep).toBeLessThanOrEqual(LAMBDA_MAX_TIMEOUT_S / 5);
      // rotateNow's wait keeps four of its ROTATION_STEP_TIMEOUT_SECONDS for the steps: that is
      // the longest rotation function's timeout, whichever secret it rotates.
      expect(rotateNow.stepTimeoutMs / 1000).toBe(longestStep);
      // repair (three steps), the settle time, then a rotation's four steps.
      expect(7 * longestStep + rotateNow.settleMs / 1000).toBeLessThan(timeout('rotateNow'));
      // A rotation younger than four steps may still be running: repair leaves it alone.
      expect(rotateNow.repairMinAgeMs / 1000).toBeGreaterThan(4 * longestStep);
      // A work item of the enforcer runs a repair (three steps) and a revocation (rotateApiKey's
      // revoke input), each a synchronous invoke of a rotation function: the worker outlasts
      // them, its queue hides a message six times its timeout (Lambda's advice), and the
      // enforcer starts no item of its own with less than that left.
      const workItem = 4 * longestStep + margin;
      expect(workItem).toBeLessThan(timeout('enforceRotationPolicyWorker'));
      // A batch of such items also waits for its share of the RotateSecret pace (at most
      // WORKER_PACING_BUDGET_MS, which the configuration enforces): the invokes and that wait fit.
      expect(4 * longestStep + WORKER_PACING_BUDGET_MS / 1000).toBeLessThanOrEqual(
        timeout('enforceRotationPolicyWorker'),
      );
      expect(stack.properties('EnforceQueue').VisibilityTimeout).toBe(
        6 * timeout('enforceRotationPolicyWorker'),
      );
      expect(HAND_OVER_RESERVE_MS / 1000).toBeGreaterThan(workItem);
      expect(HAND_OVER_RESERVE_MS / 1000).toBeLessThan(timeout('enforceRotationPolicy') / 2);
    });

    it('refuses, on every queue of the stack, any request sent without TLS', () => {
      const queues = stack.resources('AWS::SQS::Queue').map(([id]) => id);
      expect(queues.length).toBeGreaterThanOrEqual(3);
      const policies = stack.resources('AWS::SQS::QueuePolicy').map(([id]) => stack.properties(id));
      for (const id of queues) {
        const denies = policies
          .filter((policy) => asList(policy.Queues as string[]).includes(`<${id}>`))
          .flatMap((policy) => asList(((policy.PolicyDocument ?? {}) as Json).Statement as Statement[]))
          .filter(
            (statement) =>
              statement.Effect === 'Deny' &&
              statement.Principal === '*' &&
              statement.Action === 'sqs:*' &&
              asList(statement.Resource as string | string[]).includes(`<${id}.Arn>`) &&
              JSON.stringify(statement.Condition) ===
                JSON.stringify({ Bool: { 'aws:SecureTransport': 'false' } }),
          );
        expect(denies, id).toHaveLength(1);
      }
    });

    it('sends every failed asynchronous invocation, revocation and undelivered event to a dead-letter queue with an alarm', () => {
      const configs = stack.resources('AWS::Lambda::EventInvokeConfig').map(([id]) => stack.properties(id));
      for (const fn of functions)
        expect(configs, fn.key).toContainEqual({
          FunctionName: `<${fn.id}>`,
          Qualifier: '$LATEST',
          MaximumRetryAttempts: 2,
          DestinationConfig: { OnFailure: { Destination: '<DeadLetterQueue.Arn>' } },
        });
      const queue = stack.properties('DeadLetterQueue');
      // Every function that creates revocation schedules gives them the queue (rotateNow's rollbacks too).
      const scheduling = functions.filter((fn) => actionsOf(fn).has('scheduler:CreateSchedule'));
      expect(scheduling.length).toBeGreaterThan(0);
      for (const fn of scheduling)
        expect(variablesOf(fn.key).REVOKE_DEAD_LETTER_QUEUE_NAME, fn.key).toBe(queue.QueueName);
      expect(queue.SqsManagedSseEnabled).toBe(true);
      const rules = stack.resources('AWS::Events::Rule').map(([id]) => id);
      expect(rules.length).toBeGreaterThanOrEqual(4);
      for (const id of rules)
        for (const target of stack.properties(id).Targets as Json[])
          expect(target.DeadLetterConfig, id).toEqual({ Arn: '<DeadLetterQueue.Arn>' });
      // EventBridge sends with its own principal: the queue lets it, for exactly these rules. Lambda
      // and the scheduler send with the function's and the schedule's roles (the IAM walks above).
      const policies = stack
        .resources('AWS::SQS::QueuePolicy')
        .map(([id]) => stack.properties(id))
        .filter((policy) => asList(policy.Queues as string[]).includes('<DeadLetterQueue>'));
      expect(policies).toHaveLength(1);
      const statements = asList(((policies[0]?.PolicyDocument ?? {}) as Json).Statement as Statement[]);
      const allows = statements.filter((statement) => statement.Effect === 'Allow');
      expect(allows).toEqual([
        {
          Sid: 'ThisStacksRulesDeadLetter',
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: '<DeadLetterQueue.Arn>',
          Condition: { ArnEquals: { 'aws:SourceArn': expect.any(Array) } },
        },
      ]);
      const sources = ((allows[0]?.Condition ?? {}) as { ArnEquals?: { 'aws:SourceArn'?: string[] } })
        .ArnEquals?.['aws:SourceArn'];
      expect([...asList(sources)].sort()).toEqual(rules.map((id) => `<${id}.Arn>`).sort());
      expect(
        stack
          .resources('AWS::CloudWatch::Alarm')
          .map(([id]) => stack.properties(id))
          .some(
            (alarm) =>
              alarm.Namespace === 'AWS/SQS' &&
              JSON.stringify(alarm.Dimensions) ===
                JSON.stringify([{ Name: 'QueueName', Value: '<DeadLetterQueue.QueueName>' }]),
          ),
      ).toBe(true);
    });

    it('uses the stage as the ENVIRONMENT of the secret names', () => {
      for (const fn of functions) {
        const variables = ((fn.properties.Environment as Json)?.Variables ?? {}) as Json;
        if ('ENVIRONMENT' in variables) expect(variables.ENVIRONMENT, fn.key).toBe(STAGE);
      }
      expect(serviceParams.environment).toBe(STAGE);
    });

    it('names every named resource after the stage, and the account-wide ones after the region too', () => {
      // Prepare: each type's own name property.
      const nameProperty: Record<string, string> = {
        'AWS::IAM::Role': 'RoleName',
        'AWS::IAM::ManagedPolicy': 'ManagedPolicyName',
        'AWS::S3::Bucket': 'BucketName',
        'AWS::SQS::Queue': 'QueueName',
        'AWS::SNS::Topic': 'TopicName',
        'AWS::Lambda::Function': 'FunctionName',
        'AWS::Logs::LogGroup': 'LogGroupName',
        'AWS::CloudWatch::Alarm': 'AlarmName',
        'AWS::KMS::Alias': 'AliasName',
        'AWS::Scheduler::ScheduleGroup': 'Name',
        'AWS::Events::Rule': 'Name',
      };
      const accountWide = ['AWS::IAM::Role', 'AWS::IAM::ManagedPolicy', 'AWS::S3::Bucket'];

      // Act
      const names = stack.resources().flatMap(([id, resource]) => {
        const key = nameProperty[resource.Type];
        const value = key ? stack.properties(id)[key] : undefined;
        return typeof value === 'string' ? [{ id, type: resource.Type, value }] : [];
      });

      // Assess
      expect(names.length).toBeGreaterThan(10);
      for (const { id, type, value } of names) {
        expect(value, id).toContain(STAGE);
        if (accountWide.includes(type)) expect(value, id).toContain(REGION);
      }
    });

    it('creates the revocation schedules’ group, and scopes its role and the function to it', () => {
      const group = stack.properties('RevokeScheduleGroup');
      const rotateApiKey = functions.find((fn) => fn.key === 'rotateApiKey');
      const variables = variablesOf('rotateApiKey');
      expect(variables.REVOKE_SCHEDULE_GROUP).toBe(group.Name);
      expect(group.Name).toBe(`${SERVICE}-${STAGE}-revocations`);
      expect(template.Resources.RevokeScheduleGroup?.DeletionPolicy).toBe('Retain');
      expect(
        grantsOf(rotateApiKey?.roleId ?? '')
          .filter((g) => g.action === 'scheduler:CreateSchedule')
          .map((g) => g.resource),
      ).toEqual([arn('scheduler', 'schedule/<RevokeScheduleGroup>/revoke-*')]);
    });
  });
});

describe('resources/*.cjs', () => {
  const load = async (file: string) =>
    (await import(join(ROOT, 'resources', file))).default as (input: object) => Promise<Json>;
  const resolver = (params: Record<string, unknown>) => ({
    resolveVariable: async (address: string) => params[address.replace(/^param:/, '')],
  });

  it('rotation-schedules puts the rotationWindow in the rules as the policy reads its tag, after the KMS policies', async () => {
    // Prepare
    const generate = await load('rotation-schedules.cjs');
    const window = 'cron(0 2 ? * SAT#1 *) 3h';

    // Act
    const out = await generate(
      resolver({
        kmsKeyArn: PARAMS.kmsKeyArn,
        environment: 'staging',
        rotatedSecrets: 'database/primary',
        rotationWindow: window,
        rotationScheduleDays: 75,
      }),
    );

    // Assess
    const parsed = parseWindowTag(window);
    expect((out.Resources as Json).RotationScheduleDatabasePrimary).toMatchObject({
      Properties: {
        SecretId: 'staging/database/primary',
        RotationRules: { ScheduleExpression: parsed.scheduleExpression, Duration: parsed.duration },
      },
      // Secrets Manager runs testSecret when rotation is configured: the key must be usable by then.
      DependsOn: [
        'RotateDatabaseSecretsManagerPermission',
        'SecretsKeyDecryptPolicy',
        'SecretsKeyEncryptPolicy',
      ],
    });
  });

  it('rotation-schedules refuses a secret outside the two categories, naming it', async () => {
    const generate = await load('rotation-schedules.cjs');
    await expect(
      generate(
        resolver({
          environment: 'production',
          rotatedSecrets: ['rotation/google-admin'],
          rotationWindow: '',
          rotationScheduleDays: 75,
        }),
      ),
    ).rejects.toThrow('rotatedSecrets: "rotation/google-admin" is not database/<name> or api-keys/<name>');
  });

  it('parameters leaves a required parameter without a default when its param is empty, so CloudFormation refuses the deployment before it creates anything', async () => {
    const generate = await load('parameters.cjs');
    const out = await generate(resolver({ ...PARAMS, databaseSubnetIds: '', alertEmail: '' }));
    const parameters = out.Parameters as Record<string, Json>;
    expect(parameters.AlertEmail).not.toHaveProperty('Default');
    expect(parameters.DatabaseSubnetIds).not.toHaveProperty('Default');
    expect(parameters.DatabaseSecurityGroupIds?.Default).toBe(PARAMS.databaseSecurityGroupIds);
  });

  it('kms creates no KMS permission when the secrets use aws/secretsmanager, and refuses an alias', async () => {
    const generate = await load('kms.cjs');
    expect(await generate(resolver({ kmsKeyArn: '' }))).toEqual({});
    await expect(generate(resolver({ kmsKeyArn: 'alias/secrets' }))).rejects.toThrow(
      'kmsKeyArn must be a KMS key ARN',
    );
  });
});

describe('serverless deploy --stage production, against a private moto server', () => {
  let moto: { endpoint: string; stop(): Promise<void> };
  let tree: string;

  beforeAll(async () => {
    [moto, tree] = await Promise.all([startMoto(), copyOfTree()]);
  });

  afterAll(async () => {
    await moto?.stop();
    if (tree) await rm(tree, { recursive: true, force: true });
  });

  it('deploys the stack; moto creates every resource but the types it does not support', {
    timeout: 180_000,
  }, async () => {
    // Prepare
    const aws = {
      region: REGION,
      endpoint: moto.endpoint,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    };
    const env = noAccount({
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    });

    // Act
    await run(SERVERLESS, ['deploy', '--stage', STAGE, ...paramOptions(PARAMS)], {
      cwd: tree,
      env,
      maxBuffer: 16 * 1024 * 1024,
    });

    // Assess: the stack is complete, and what moto did not create is only what it cannot.
    // The AWS CLI reads the stack (the project's SDK clients do not include CloudFormation).
    const cloudFormation = async (...args: string[]) =>
      JSON.parse(
        (
          await run(
            'aws',
            [
              'cloudformation',
              ...args,
              '--stack-name',
              `${SERVICE}-${STAGE}`,
              '--region',
              REGION,
              '--output',
              'json',
            ],
            { env },
          )
        ).stdout,
      );
    const { Stacks } = await cloudFormation('describe-stacks');
    expect(Stacks[0]?.StackStatus).toMatch(/^(CREATE|UPDATE)_COMPLETE$/);
    const deployed: Template = JSON.parse(
      await readFile(join(tree, '.serverless', 'cloudformation-template-update-stack.json'), 'utf8'),
    );
    const { StackResourceSummaries } = (await cloudFormation('list-stack-resources')) as {
      StackResourceSummaries: { LogicalResourceId: string; ResourceType?: string }[];
    };
    // moto lists a resource it skipped without a type.
    const created = new Set(
      StackResourceSummaries.filter((r) => r.ResourceType).map((r) => r.LogicalResourceId),
    );
    const skipped = new Set(
      Object.entries(deployed.Resources)
        .filter(([id]) => !created.has(id))
        .map(([, resource]) => resource.Type),
    );
    expect([...skipped].sort()).toEqual(MOTO_UNSUPPORTED);
    const role = await new IAMClient(aws).send(
      new GetRoleCommand({ RoleName: `${SERVICE}-${STAGE}-${REGION}-revoke-scheduler` }),
    );
    expect(role.Role?.RoleName).toBeDefined();
    const rotateDatabase = await new LambdaClient(aws).send(
      new GetFunctionConfigurationCommand({ FunctionName: `${SERVICE}-${STAGE}-rotateDatabase` }),
    );
    expect(rotateDatabase.Timeout).toBe(deployed.Resources.RotateDatabaseLambdaFunction?.Properties?.Timeout);
  });
});
