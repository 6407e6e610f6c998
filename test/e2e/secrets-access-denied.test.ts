/**
 * "Access denied" on a PRIVATE moto server with request authentication on: moto checks the
 * signature and evaluates the caller's IAM policies, here an application user whose policy
 * explicitly denies secretsmanager:GetSecretValue. moto refuses in XML with HTTP 403 where
 * AWS answers Secrets Manager in JSON (HTTP 400, AccessDeniedException); the
 * `withAwsJsonErrors` middleware gives the client AWS's form, and one test reads moto's own.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  IAMClient,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AccessDeniedError, createSecrets, createWorkerSecretReader } from '../../shared/secrets/index.js';
import { auditLines } from '../support/audit-lines.js';
import { uniqueName } from '../support/bed.js';
import { LeakWatch } from '../support/leak-watch.js';
import { startMoto } from '../support/local-stack.js';
import { enableMotoAuth, type MotoCredentials } from '../support/moto-auth.js';
import { rewrittenRefusals, withAwsJsonErrors } from '../support/moto-json-errors.js';
import { countCommands } from '../support/sdk-calls.js';

const REGION = 'us-east-1';
const ENVIRONMENT = 'production';
const RESEND_NAME = `${ENVIRONMENT}/api-keys/resend`;

let moto: { endpoint: string; stop(): Promise<void> };
let admin: MotoCredentials;
/** The application user's key: may describe secrets, may not read their values. */
let denied: MotoCredentials;
let secretArn: string;
let watch: LeakWatch;
/** Keys made before the tests (the admin's, the application user's, the stored value), for every scan. */
const made: string[] = [];

const client = (credentials: MotoCredentials) =>
  withAwsJsonErrors(new SecretsManagerClient({ region: REGION, endpoint: moto.endpoint, credentials }));

/** Every fallback allowed, every variable set: none of it may hide the refusal. */
const fallbackEverywhere = () => {
  const value = `re_${uniqueName('env')}`;
  watch.values.push(value);
  return { ENVIRONMENT, SECRETS_ENV_FALLBACK: 'all', RESEND_API_KEY: value };
};

beforeAll(async () => {
  moto = await startMoto();
  admin = await enableMotoAuth(moto.endpoint, REGION);
  made.push(admin.secretAccessKey);
  const iam = new IAMClient({ region: REGION, endpoint: moto.endpoint, credentials: admin });
  await iam.send(new CreateUserCommand({ UserName: 'muejam-app' }));
  await iam.send(
    new PutUserPolicyCommand({
      UserName: 'muejam-app',
      PolicyName: 'secrets-without-values',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 'secretsmanager:*', Resource: '*' },
          { Effect: 'Deny', Action: 'secretsmanager:GetSecretValue', Resource: '*' },
        ],
      }),
    }),
  );
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'muejam-app' }))).AccessKey;
  denied = { accessKeyId: key?.AccessKeyId ?? '', secretAccessKey: key?.SecretAccessKey ?? '' };
  made.push(denied.secretAccessKey);
  iam.destroy();
  const value = `re_${uniqueName('stored')}`;
  made.push(value);
  const created = await client(admin).send(
    new CreateSecretCommand({ Name: RESEND_NAME, SecretString: JSON.stringify({ api_key: value }) }),
  );
  secretArn = created.ARN ?? '';
});

afterAll(async () => {
  await moto?.stop();
});

beforeEach(() => {
  watch = new LeakWatch();
  watch.values.push(...made);
});

afterEach(() => {
  expect(watch.stop(), 'secret values in captured output or errors').toEqual([]);
});

describe('access denied', () => {
  it('throws "Access denied" with the action and the resource ARN to check in IAM, despite an allowed fallback', async () => {
    const before = rewrittenRefusals.count;
    const app = client(denied);
    const calls = countCommands(app);
    const secrets = createSecrets({ client: app, env: fallbackEverywhere(), logger: new Logger() });

    const error = await watch.rejectionOf(secrets.resend());

    expect(rewrittenRefusals.count).toBe(before + 1);
    expect(calls.count('GetSecretValueCommand')).toBe(1);
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect(error).toMatchObject({
      action: 'secretsmanager:GetSecretValue',
      resource: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${RESEND_NAME}-??????`,
      principal: 'arn:aws:iam::123456789012:user/muejam-app',
      code: 'AccessDeniedException',
    });
    expect(error.message).toBe(
      `Access denied: secretsmanager:GetSecretValue on arn:aws:secretsmanager:us-east-1:123456789012:secret:${RESEND_NAME}-??????: AccessDeniedException: check the IAM policy of arn:aws:iam::123456789012:user/muejam-app allows secretsmanager:GetSecretValue on this resource (and kms:Decrypt on the secret's KMS key)`,
    );
  });

  it('names the ARN itself when the secret was asked for by ARN', async () => {
    const secrets = createSecrets({
      client: client(denied),
      env: fallbackEverywhere(),
      logger: new Logger(),
    });

    const error = await watch.rejectionOf(secrets.resend({ name: secretArn }));

    expect(error).toMatchObject({ name: 'AccessDeniedError', resource: secretArn });
  });

  it('logs the attempt at ERROR with outcome "access-denied", the fields the metric filter matches', async () => {
    const secrets = createSecrets({
      client: client(denied),
      env: fallbackEverywhere(),
      logger: new Logger(),
    });

    await watch.rejectionOf(secrets.resend());

    // The README's filter: { $.audit = "secret-access" && $.outcome = "access-denied" }
    expect(auditLines(watch.text())).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        message: 'secret access denied',
        audit: 'secret-access',
        outcome: 'access-denied',
        source: 'secrets-manager',
        secretName: RESEND_NAME,
        action: 'secretsmanager:GetSecretValue',
        resource: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${RESEND_NAME}-??????`,
      }),
    ]);
  });

  it('treats an unknown access key as access denied (check the credentials), not as an outage', async () => {
    const stranger = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: `unknown-${uniqueName('k')}` };
    watch.values.push(stranger.secretAccessKey);
    const secrets = createSecrets({
      client: client(stranger),
      env: fallbackEverywhere(),
      logger: new Logger(),
    });

    const error = await watch.rejectionOf(secrets.resend());

    expect(error).toMatchObject({ name: 'AccessDeniedError', code: 'UnrecognizedClientException' });
    expect(error.message).toMatch(/check the AWS credentials are configured correctly/);
  });

  it("is not retried by withFreshCredentials when the refused credentials are the caller's own: one read, one audit line", async () => {
    // Prepare: an application whose access key AWS does not know (deleted, or never valid).
    const stranger = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: `unknown-${uniqueName('k')}` };
    watch.values.push(stranger.secretAccessKey);
    const app = client(stranger);
    const calls = countCommands(app);
    const secrets = createSecrets({ client: app, env: fallbackEverywhere(), logger: new Logger() });
    let runs = 0;

    // Act
    const error = await watch.rejectionOf(
      secrets.withFreshCredentials(async (attempt) => {
        runs++;
        return (await secrets.resend(attempt)).api_key;
      }),
    );

    // Assess: the refusal's cause carries UnrecognizedClientException (an AWS key refusal), yet
    // the operation runs once; the README's metric counts one unauthorized attempt.
    expect(error).toMatchObject({ name: 'AccessDeniedError', code: 'UnrecognizedClientException' });
    expect((error.cause as { name?: string }).name).toBe('UnrecognizedClientException');
    expect(runs).toBe(1);
    expect(calls.count('GetSecretValueCommand')).toBe(1);
    expect(auditLines(watch.text()).filter((line) => line.outcome === 'access-denied')).toHaveLength(1);
  });

  it("reads moto's own refusal (XML, HTTP 403, which the SDK cannot parse) as access denied too", async () => {
    const raw = new SecretsManagerClient({ region: REGION, endpoint: moto.endpoint, credentials: denied });
    const secrets = createSecrets({ client: raw, env: fallbackEverywhere(), logger: new Logger() });

    const error = await watch.rejectionOf(secrets.resend());

    expect(error).toBeInstanceOf(AccessDeniedError);
    expect((error as AccessDeniedError).action).toBe('secretsmanager:GetSecretValue');
  });

  it('reaches the worker reader as the same typed error', async () => {
    const read = createWorkerSecretReader({ client: client(denied), logger: new Logger() });

    expect(await watch.rejectionOf(read(secretArn))).toBeInstanceOf(AccessDeniedError);
  });

  it('lets a permitted principal read the same secret', async () => {
    const secrets = createSecrets({ client: client(admin), env: { ENVIRONMENT }, logger: new Logger() });

    expect((await secrets.resend()).api_key).toMatch(/^re_stored/);
  });
});
