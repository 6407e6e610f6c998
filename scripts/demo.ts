/**
 * The main job on a local default, with no AWS account. Starts a moto server (request
 * authentication on, like AWS), a throwaway PostgreSQL 15 (TLS on) and local stand-ins for
 * the Resend, Google and Clerk APIs; creates the setup guide's secrets; rotates each one
 * through the real handlers, driving the four steps as Secrets Manager does (moto cannot
 * invoke a Lambda); checks the results against the database and the providers; stops
 * everything. Prints no secret value.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import type { Context } from 'aws-lambda';
import pg from 'pg';
import type { RevocationResult } from '../shared/api-keys/index.js';
import { loadPolicySettings } from '../shared/config/policy.js';
import { createFleetClient, readFleet } from '../shared/fleet/index.js';
import { buildReport, renderTable } from '../shared/report/index.js';
import { startFakeClerk } from '../test/support/fakes/clerk-server.js';
import { startFakeGoogle } from '../test/support/fakes/google-server.js';
import { startFakeResend } from '../test/support/fakes/resend-server.js';
import {
  checkLocalPrerequisites,
  LocalStackUnavailableError,
  startLocalStack,
} from '../test/support/local-stack.js';
import { enableMotoAuth } from '../test/support/moto-auth.js';

const REGION = 'us-east-1';
/** The API keys' grace period: short, so that the demo can wait it out. */
const GRACE_SECONDS = 1;
const STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
const context = {
  functionName: 'secrets-rotation-production-rotateApiKey',
  invokedFunctionArn:
    'arn:aws:lambda:us-east-1:123456789012:function:secrets-rotation-production-rotateApiKey',
  awsRequestId: 'demo',
  getRemainingTimeInMillis: () => 60_000,
} as Context;
const say = (line: string) => process.stdout.write(`${line}\n`);
let failures = 0;
const check = (label: string, ok: boolean) => {
  if (!ok) failures++;
  say(`    ${ok ? 'ok  ' : 'FAIL'} ${label}`);
};

type Handler = (event: unknown, context: Context) => Promise<unknown>;

async function main(): Promise<void> {
  try {
    await checkLocalPrerequisites();
  } catch (error) {
    if (error instanceof LocalStackUnavailableError) {
      process.stderr.write(`demo cannot start: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  say('starting moto, PostgreSQL 15 (TLS, scram-sha-256) and local Resend, Google and Clerk APIs…');
  const [stack, resend, google, clerk] = await Promise.all([
    startLocalStack({ tls: true }),
    startFakeResend(),
    startFakeGoogle(),
    startFakeClerk(),
  ]);
  try {
    // An administrator in moto's IAM, then request authentication on: from here moto refuses
    // unknown, deleted and wrongly signed keys, as AWS does.
    const admin = await enableMotoAuth(stack.awsEndpoint, REGION);

    Object.assign(process.env, {
      AWS_ENDPOINT_URL: stack.awsEndpoint,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: admin.accessKeyId,
      AWS_SECRET_ACCESS_KEY: admin.secretAccessKey,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      DB_TLS_CA_FILE: stack.postgres.caFile,
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'ERROR',
      RESEND_API_URL: resend.url,
      GOOGLE_API_KEYS_URL: google.apiKeysUrl,
      GOOGLE_SAFE_BROWSING_URL: google.safeBrowsingUrl,
      RECAPTCHA_VERIFY_URL: google.recaptchaVerifyUrl,
      CLERK_API_URL: clerk.url,
      REVOKE_SCHEDULER_ROLE_NAME: 'secrets-rotation-production-revoke-scheduler',
      ROTATION_GRACE_PERIOD_SECONDS: String(GRACE_SECONDS),
      IAM_PROPAGATION_DELAY_MS: '200',
    });
    // Imported once the environment is set: handlers read it at cold start, as on Lambda.
    const sdk = await import('@aws-sdk/client-secrets-manager');
    const { handler: rotateDatabase } = await import('../functions/rotate-database/handler.js');
    const { handler: rotateApiKey } = await import('../functions/rotate-api-key/handler.js');
    const sm = new sdk.SecretsManagerClient({});
    const iam = new IAMClient({});

    const stagesOf = async (arn: string) =>
      (await sm.send(new sdk.DescribeSecretCommand({ SecretId: arn }))).VersionIdsToStages ?? {};
    const versionWith = async (arn: string, stage: string) =>
      Object.entries(await stagesOf(arn)).find(([, s]) => s?.includes(stage))?.[0] ?? '';
    const currentValue = async (arn: string) =>
      JSON.parse(
        (await sm.send(new sdk.GetSecretValueCommand({ SecretId: arn, VersionStage: 'AWSCURRENT' })))
          .SecretString ?? '{}',
      ) as Record<string, string>;

    async function createAndRotate(name: string, value: object, handler: Handler, staged?: object) {
      const { ARN: arn = '' } = await sm.send(
        new sdk.CreateSecretCommand({ Name: name, SecretString: JSON.stringify(value) }),
      );
      if (staged) {
        await sm.send(
          new sdk.PutSecretValueCommand({
            SecretId: arn,
            SecretString: JSON.stringify(staged),
            VersionStages: ['STAGED'],
          }),
        );
      }
      await sm
        .send(
          new sdk.RotateSecretCommand({
            SecretId: arn,
            RotationLambdaARN: 'arn:aws:lambda:us-east-1:123456789012:function:rotation',
            RotationRules: { AutomaticallyAfterDays: 90 },
          }),
        )
        .catch((error: Error) => {
          if (error.name !== 'ResourceNotFoundException') throw error;
        });
      const previous = await versionWith(arn, 'AWSCURRENT');
      const token = await versionWith(arn, 'AWSPENDING');
      say(`\n${name}`);
      for (const Step of STEPS) {
        const started = performance.now();
        const result = (await handler({ SecretId: arn, ClientRequestToken: token, Step }, context)) as {
          outcome: string;
        };
        say(
          `  ${Step.padEnd(12)} ${result.outcome.padEnd(14)} ${(performance.now() - started).toFixed(0)} ms`,
        );
      }
      return { arn, previous, current: await currentValue(arn) };
    }

    // 1. The database password, single user.
    const { host, port, superuser, superuserPassword, caFile } = stack.postgres;
    const dbPassword = randomBytes(18).toString('base64url');
    const db = new pg.Client({
      host,
      port,
      user: superuser,
      password: superuserPassword,
      database: 'postgres',
    });
    await db.connect();
    await db.query(`CREATE ROLE muejam_user LOGIN PASSWORD '${dbPassword}'`);
    await db.end();
    const login = async (password: string) => {
      const client = new pg.Client({
        host: 'localhost',
        port,
        user: 'muejam_user',
        password,
        database: 'postgres',
        ssl: { ca: caFile ? readFileSync(caFile, 'utf8') : undefined },
      });
      try {
        await client.connect();
        return true;
      } catch {
        return false;
      } finally {
        await client.end().catch(() => undefined);
      }
    };
    const database = await createAndRotate(
      'production/database/primary',
      {
        connection_string: `postgresql://muejam_user:${dbPassword}@localhost:${port}/postgres`,
        host: 'localhost',
        port: String(port),
        database: 'postgres',
        username: 'muejam_user',
        password: dbPassword,
        rotated_at: '2024-01-01T00:00:00Z',
      },
      rotateDatabase,
    );
    check('the new AWSCURRENT password logs in (TLS verified)', await login(database.current.password ?? ''));
    check('the old password is refused', !(await login(dbPassword)));
    check(`rotated_at stamped: ${database.current.rotated_at}`, Boolean(database.current.rotated_at));

    // 2. API keys. Each old key stays valid for its grace period (here GRACE_SECONDS); the
    // revocation that EventBridge Scheduler runs when it ends is run here, with the same input.
    const revokeInput = (arn: string, previous: string) =>
      rotateApiKey({ action: 'revoke', SecretId: arn, VersionId: previous }, context);
    const revoke = async (arn: string, previous: string) => {
      await new Promise((resolve) => setTimeout(resolve, GRACE_SECONDS * 1000));
      return (await revokeInput(arn, previous)) as RevocationResult;
    };

    await iam.send(new CreateUserCommand({ UserName: 'muejam-s3', Path: '/app/' }));
    const s3Key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'muejam-s3' }))).AccessKey;
    const awsKeys = await createAndRotate(
      'production/api-keys/aws',
      {
        access_key_id: s3Key?.AccessKeyId,
        secret_access_key: s3Key?.SecretAccessKey,
        rotated_at: '2024-01-01T00:00:00Z',
      },
      rotateApiKey,
    );
    check('a new IAM access key, tested with STS', awsKeys.current.access_key_id !== s3Key?.AccessKeyId);
    const early = await revokeInput(awsKeys.arn, awsKeys.previous).catch((error: Error) => error);
    check(
      'inside its grace period the old key is not revoked (GracePeriodNotOverError)',
      early instanceof Error && early.name === 'GracePeriodNotOverError',
    );
    const awsRevoked = await revoke(awsKeys.arn, awsKeys.previous);
    check('after the grace period the old key is deactivated', awsRevoked.revoked.length === 1);

    const resendKey = resend.seedKey({ name: 'production', permission: 'full_access' });
    const resendRotated = await createAndRotate(
      'production/api-keys/resend',
      { api_key: resendKey.token, rotated_at: '2024-01-01T00:00:00Z' },
      rotateApiKey,
    );
    check('a new Resend key, tested without sending email', Boolean(resendRotated.current.api_key_id));
    const resendRevoked = await revoke(resendRotated.arn, resendRotated.previous);
    check(
      'the seed-shaped old key had no id: a reminder to delete it by hand',
      resendRevoked.manual.length === 1 &&
        resendRevoked.manual.every((line) => !line.includes(resendKey.token)),
    );
    for (const line of resendRevoked.manual) say(`    reminder: ${line}`);

    const account = google.registerServiceAccount({ projectId: 'muejam' });
    await sm.send(
      new sdk.CreateSecretCommand({
        Name: 'production/rotation/google-service-account',
        SecretString: JSON.stringify(account),
      }),
    );
    const sbKey = google.seedKey({ projectId: 'muejam', displayName: 'Safe Browsing' });
    const [oldCaptcha, newCaptcha] = [
      `6Le${randomBytes(18).toString('hex')}`,
      `6Le${randomBytes(18).toString('hex')}`,
    ];
    google.setRecaptchaSecrets([oldCaptcha, newCaptcha]);
    const googleRotated = await createAndRotate(
      'production/api-keys/google',
      {
        safe_browsing_api_key: sbKey.keyString,
        safe_browsing_api_key_id: sbKey.name,
        recaptcha_secret_key: oldCaptcha,
        service_account_secret_id: 'production/rotation/google-service-account',
        rotated_at: '2024-01-01T00:00:00Z',
      },
      rotateApiKey,
      { recaptcha_secret_key: newCaptcha },
    );
    check(
      'a new Safe Browsing key, tested with a lookup',
      googleRotated.current.safe_browsing_api_key_id !== sbKey.name,
    );
    check(
      'the staged reCAPTCHA secret, tested with siteverify',
      googleRotated.current.recaptcha_secret_key === newCaptcha,
    );
    const googleRevoked = await revoke(googleRotated.arn, googleRotated.previous);
    check(
      'after the grace period the old Safe Browsing key is deleted',
      googleRevoked.revoked.includes(sbKey.name),
    );

    const publishable = `pk_live_${Buffer.from('clerk.muejam.example$').toString('base64')}`;
    const [oldClerk, newClerk] = [
      `sk_live_${randomBytes(20).toString('hex')}`,
      `sk_live_${randomBytes(20).toString('hex')}`,
    ];
    clerk.setSecretKeys([oldClerk, newClerk], 'clerk.muejam.example');
    const clerkRotated = await createAndRotate(
      'production/api-keys/clerk',
      { secret_key: oldClerk, publishable_key: publishable, rotated_at: '2024-01-01T00:00:00Z' },
      rotateApiKey,
      { secret_key: newClerk },
    );
    check(
      'the staged Clerk secret key, tested against the Backend API',
      clerkRotated.current.secret_key === newClerk,
    );
    const clerkRevoked = await revoke(clerkRotated.arn, clerkRotated.previous);
    for (const line of clerkRevoked.manual) say(`    reminder: ${line}`);

    // What the daily policy enforcer would do about the secrets, as a dry run of the real
    // handler: it reads the fleet and changes nothing.
    const { buildEnforceRotationPolicyHandler } = await import(
      '../functions/enforce-rotation-policy/handler.js'
    );
    const { enforcementRunners } = await import('../functions/lib/in-process-steps.js');
    const { loadEnforcementConfig } = await import('../shared/enforcement/index.js');
    const { Logger } = await import('@aws-lambda-powertools/logger');
    const enforceConfig = loadEnforcementConfig({
      ...process.env,
      ROTATION_FUNCTION_DATABASE: 'rotation',
      ROTATION_FUNCTION_API_KEYS: 'rotation',
    });
    const { SQSClient } = await import('@aws-sdk/client-sqs');
    const { SNSClient } = await import('@aws-sdk/client-sns');
    const dryRun = (await buildEnforceRotationPolicyHandler({
      config: enforceConfig,
      secretsManager: createFleetClient(),
      sqs: new SQSClient({}),
      sns: new SNSClient({}),
      ...enforcementRunners(enforceConfig.stepRunner, enforceConfig.policy.environment),
      logger: new Logger({ serviceName: 'demo', logLevel: 'ERROR' }),
    })({ dryRun: true }, context)) as import('../shared/enforcement/index.js').EnforcementResult;
    say('\nenforceRotationPolicy {"dryRun": true} would:');
    for (const action of dryRun.actions) say(`  ${action.action} ${action.secret}: ${action.reason}`);
    for (const notice of dryRun.notices) say(`  tell a person about ${notice.secret} (${notice.kind})`);
    check('the dry run changed nothing it reports', dryRun.done === undefined);

    // Last, where the secrets stand now, as `npm run report` prints it. The demo's rotation settings
    // (90 days) are longer than the policy's 76, which the report says.
    const settings = loadPolicySettings({
      ROTATION_FUNCTION_DATABASE: 'rotation',
      ROTATION_FUNCTION_API_KEYS: 'rotation',
    });
    const fleet = await readFleet(createFleetClient(), settings);
    say(
      `\ncompliance report (npm run report):\n${renderTable(buildReport(fleet.entries, settings, new Date()))}`,
    );

    say(
      failures === 0
        ? '\ndemo passed: every secret was rotated end to end'
        : `\ndemo FAILED: ${failures} check(s)`,
    );
    if (failures > 0) process.exitCode = 1;
  } finally {
    await Promise.allSettled([stack.stop(), resend.close(), google.close(), clerk.close()]);
    say('local services stopped');
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `demo failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`,
  );
  process.exit(1);
});
