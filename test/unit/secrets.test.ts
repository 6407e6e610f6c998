import { Logger } from '@aws-lambda-powertools/logger';
import {
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { STSServiceException } from '@aws-sdk/client-sts';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProviderAuthError } from '../../shared/api-keys/errors.js';
import { ConfigurationError } from '../../shared/config/env.js';
import { createLogger } from '../../shared/logging/index.js';
import { tlsOptions } from '../../shared/postgres/connection.js';
import { DatabaseAuthenticationError } from '../../shared/postgres/errors.js';
import type { PostgresSecret } from '../../shared/postgres/secret.js';
import {
  AccessDeniedError,
  authenticationFailure,
  createSecrets,
  databaseCredentials,
  ENVIRONMENT_VARIABLES,
  InvalidSecretValueError,
  isAuthenticationError,
  isAwsAuthError,
  isHttpAuthError,
  isPostgresAuthError,
  loadSecretsConfig,
  resolveSecretId,
  SECRET_KINDS,
  SecretNotFoundError,
  type Secrets,
  SecretsError,
  SecretsManagerUnavailableError,
  secretName,
  withFreshCredentials,
} from '../../shared/secrets/index.js';
import { secretResourceArn } from '../../shared/secrets/names.js';
import { toSecretsError } from '../../shared/secrets/sdk-errors.js';
import { auditLines, logLines } from '../support/audit-lines.js';
import { LeakWatch } from '../support/leak-watch.js';

const CLERK_PUBLISHABLE = `pk_test_${Buffer.from('clerk.example.com$').toString('base64')}`;

/** A development `.env` for all five seed secrets, with values the leak scan looks for. */
function developmentEnv(): Record<string, string> {
  return {
    USE_SECRETS_MANAGER: 'False',
    ENVIRONMENT: 'development',
    DATABASE_URL: 'postgresql://muejam_user:p%40ss%3Aw%C3%B6rd@localhost:5432/muejam?sslmode=disable',
    CLERK_SECRET_KEY: 'sk_test_devSecretKey123',
    CLERK_PUBLISHABLE_KEY: CLERK_PUBLISHABLE,
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    RESEND_API_KEY: 're_devResendKey_123',
    GOOGLE_SAFE_BROWSING_API_KEY: 'AIzaSyDevSafeBrowsing',
    GOOGLE_RECAPTCHA_SECRET_KEY: '6LeDevRecaptchaSecret',
  };
}

/** The secret values of {@link developmentEnv}, for the leak scan. */
const DEVELOPMENT_VALUES = [
  'p@ss:wörd',
  'p%40ss%3Aw%C3%B6rd',
  'sk_test_devSecretKey123',
  'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  're_devResendKey_123',
  'AIzaSyDevSafeBrowsing',
  '6LeDevRecaptchaSecret',
];

/** A client that must never be called: the environment source does not touch Secrets Manager. */
const unreachable = () => new SecretsManagerClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:1' });

const logger = () => new Logger({ serviceName: 'secrets-unit' });

let watch: LeakWatch;

beforeEach(() => {
  watch = new LeakWatch();
  watch.values.push(...DEVELOPMENT_VALUES);
});

afterEach(() => {
  vi.unstubAllEnvs();
  expect(watch.stop(), 'secret values in captured output or errors').toEqual([]);
});

describe('secret names', () => {
  it('builds {environment}/{category}/{name} from ENVIRONMENT', () => {
    expect(secretName({ category: 'database', name: 'primary' }, 'production')).toBe(
      'production/database/primary',
    );
    expect(resolveSecretId({ category: 'api-keys', name: 'resend' }, 'staging')).toBe(
      'staging/api-keys/resend',
    );
  });

  it('uses a full name or an ARN as it is', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:production/api-keys/clerk-AbCdEf';
    expect(resolveSecretId(arn, 'development')).toBe(arn);
    expect(resolveSecretId('production/database/primary', 'development')).toBe('production/database/primary');
  });

  it('throws a ConfigurationError naming ENVIRONMENT when a name must be built without it', () => {
    expect(() => secretName({ category: 'database', name: 'primary' }, undefined)).toThrow(
      /environment variable ENVIRONMENT is required/,
    );
  });

  it('refuses a category or name that is not one segment', () => {
    expect(() => secretName({ category: 'api-keys', name: 'a/b' }, 'production')).toThrow(ConfigurationError);
  });

  it('gives the IAM resource pattern of a name, and an ARN unchanged', () => {
    const parts = { partition: 'aws', region: 'eu-west-1', account: '123456789012' };
    expect(secretResourceArn('production/api-keys/resend', parts)).toBe(
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:production/api-keys/resend-??????',
    );
    expect(secretResourceArn('arn:aws:secretsmanager:x', parts)).toBe('arn:aws:secretsmanager:x');
  });
});

describe('loadSecretsConfig', () => {
  it('reads Secrets Manager with a 300-second cache and no fallback by default', () => {
    expect(loadSecretsConfig({})).toEqual({
      useSecretsManager: true,
      environment: undefined,
      cacheTtlSeconds: 300,
      envFallback: [],
      databaseCaFile: undefined,
      databaseCa: undefined,
      connectTimeoutMs: 1000,
      requestTimeoutMs: 3000,
      maxAttempts: 2,
    });
  });

  it("reads the seed's Python booleans and the other variables", () => {
    const config = loadSecretsConfig({
      USE_SECRETS_MANAGER: 'False',
      ENVIRONMENT: 'production',
      SECRETS_CACHE_TTL: '60',
      SECRETS_ENV_FALLBACK: 'database, resend',
      SECRETS_CONNECT_TIMEOUT_MS: '500',
      SECRETS_REQUEST_TIMEOUT_MS: '1500',
      SECRETS_MAX_ATTEMPTS: '1',
    });
    expect(config).toMatchObject({
      useSecretsManager: false,
      environment: 'production',
      cacheTtlSeconds: 60,
      envFallback: ['database', 'resend'],
      connectTimeoutMs: 500,
      requestTimeoutMs: 1500,
      maxAttempts: 1,
    });
    expect(loadSecretsConfig({ USE_SECRETS_MANAGER: 'True', SECRETS_ENV_FALLBACK: 'all' })).toMatchObject({
      useSecretsManager: true,
      envFallback: SECRET_KINDS,
    });
  });

  it.each([
    ['USE_SECRETS_MANAGER', 'maybe', /USE_SECRETS_MANAGER must be true or false/],
    ['SECRETS_CACHE_TTL', '-1', /SECRETS_CACHE_TTL must be an integer from 0 to 86400/],
    [
      'SECRETS_ENV_FALLBACK',
      'database,stripe',
      /SECRETS_ENV_FALLBACK must be none, all, or a comma-separated list/,
    ],
    ['ENVIRONMENT', 'prod/eu', /ENVIRONMENT must be one name segment/],
    ['DB_TLS_CA_FILE', '/nonexistent/ca.pem', /DB_TLS_CA_FILE names a file that cannot be read/],
    ['SECRETS_CONNECT_TIMEOUT_MS', '0', /SECRETS_CONNECT_TIMEOUT_MS must be an integer from 1 to 60000/],
    ['SECRETS_REQUEST_TIMEOUT_MS', '2s', /SECRETS_REQUEST_TIMEOUT_MS must be an integer from 1 to 300000/],
    ['SECRETS_MAX_ATTEMPTS', '0', /SECRETS_MAX_ATTEMPTS must be an integer from 1 to 10/],
  ])('throws a ConfigurationError naming %s when it is %j', (name, value, message) => {
    expect(() => loadSecretsConfig({ [name]: value })).toThrow(message);
    expect(() => loadSecretsConfig({ [name]: value })).toThrow(ConfigurationError);
  });
});

describe('Secrets with USE_SECRETS_MANAGER=False (development)', () => {
  it('reads every seed secret from its environment variables, validated by its schema', async () => {
    const secrets = createSecrets({ env: developmentEnv(), logger: logger(), client: unreachable() });

    const database = await secrets.database();
    const clerk = await secrets.clerk();
    const aws = await secrets.aws();
    const resend = await secrets.resend();
    const google = await secrets.google();

    expect(database).toMatchObject({
      host: 'localhost',
      port: 5432,
      database: 'muejam',
      username: 'muejam_user',
      password: 'p@ss:wörd',
      sslmode: 'disable',
    });
    expect(clerk).toMatchObject({
      secret_key: 'sk_test_devSecretKey123',
      publishable_key: CLERK_PUBLISHABLE,
    });
    expect(aws.credentials).toEqual({
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    });
    expect(resend).toMatchObject({ api_key: 're_devResendKey_123', permission: 'full_access' });
    expect(google).toMatchObject({
      safe_browsing_api_key: 'AIzaSyDevSafeBrowsing',
      recaptcha_secret_key: '6LeDevRecaptchaSecret',
    });
  });

  it('reads process.env by default and audits each read as source environment', async () => {
    for (const [name, value] of Object.entries(developmentEnv())) vi.stubEnv(name, value);
    const secrets = createSecrets({ logger: logger(), client: unreachable() });

    await secrets.resend();

    expect(auditLines(watch.text())).toEqual([
      expect.objectContaining({
        level: 'INFO',
        audit: 'secret-access',
        secretName: 'development/api-keys/resend',
        source: 'environment',
        outcome: 'success',
        variables: ['RESEND_API_KEY'],
      }),
    ]);
  });

  it('documents a variable for every field of every seed secret', () => {
    expect(Object.keys(ENVIRONMENT_VARIABLES)).toEqual([...SECRET_KINDS]);
    expect(Object.values(ENVIRONMENT_VARIABLES).flatMap((mapping) => Object.values(mapping))).toEqual([
      'DATABASE_URL',
      'CLERK_SECRET_KEY',
      'CLERK_PUBLISHABLE_KEY',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'RESEND_API_KEY',
      'GOOGLE_SAFE_BROWSING_API_KEY',
      'GOOGLE_RECAPTCHA_SECRET_KEY',
    ]);
  });

  it('throws a SecretNotFoundError naming the missing variables and audits it', async () => {
    const { CLERK_PUBLISHABLE_KEY: _omitted, ...env } = developmentEnv();
    const secrets = createSecrets({ env, logger: logger(), client: unreachable() });

    const error = await watch.rejectionOf(secrets.clerk());

    expect(error).toBeInstanceOf(SecretNotFoundError);
    expect(error.message).toMatch(
      /^Secret not found: development\/api-keys\/clerk: environment variable CLERK_PUBLISHABLE_KEY is not set/,
    );
    expect((error as SecretNotFoundError).variables).toEqual(['CLERK_PUBLISHABLE_KEY']);
    expect((error as SecretNotFoundError).expectedFormat).toBe('{environment}/{category}/{name}');
    expect(auditLines(watch.text())).toEqual([
      expect.objectContaining({ level: 'WARN', source: 'environment', outcome: 'not-found' }),
    ]);
  });

  it('throws an InvalidSecretValueError naming the variable and the rule, never the value', async () => {
    const env = { ...developmentEnv(), RESEND_API_KEY: 'not-a-resend-key-p@ss:wörd' };
    const secrets = createSecrets({ env, logger: logger(), client: unreachable() });

    const error = await watch.rejectionOf(secrets.resend());

    expect(error).toBeInstanceOf(InvalidSecretValueError);
    expect(error.message).toBe(
      'the environment variables of development/api-keys/resend is not valid: RESEND_API_KEY: must be a Resend API key (starting with re_); ' +
        'RESEND_API_KEY: must be printable ASCII without spaces (no control characters such as CR, LF, NUL or TAB, and no non-ASCII characters)',
    );
    expect(error.message).not.toContain('not-a-resend-key');
  });

  it.each([
    [
      'a percent-encoded socket directory as host',
      'postgresql://muejam_user:p%40ss%3Aw%C3%B6rd@%2Fvar%2Frun%2Fpostgresql/muejam?sslmode=disable',
    ],
    [
      'host, user and password as query parameters, over the parts before the ?',
      'postgresql://other@stale.example.com/muejam?host=/var/run/postgresql&user=muejam_user&password=p%40ss%3Aw%C3%B6rd&sslmode=disable',
    ],
  ])('reads DATABASE_URL as libpq does: %s', async (_title, url) => {
    // Prepare
    const env = { ...developmentEnv(), DATABASE_URL: url };
    const secrets = createSecrets({ env, logger: logger(), client: unreachable() });

    // Act
    const database = await secrets.database();

    // Assess
    expect(database).toMatchObject({
      host: '/var/run/postgresql',
      database: 'muejam',
      username: 'muejam_user',
      password: 'p@ss:wörd',
      pg: { host: '/var/run/postgresql', user: 'muejam_user', password: 'p@ss:wörd', ssl: false },
    });
  });

  it('reads port and dbname parameters over the URL parts, and a + as a + (not a space)', async () => {
    // Prepare
    const env = {
      ...developmentEnv(),
      DATABASE_URL: 'postgresql://muejam_user@db.example.com:5432/other?port=6543&dbname=muejam&password=a+b',
    };
    watch.values.push('a+b');
    const secrets = createSecrets({ env, logger: logger(), client: unreachable() });

    // Act
    const database = await secrets.database();

    // Assess
    expect(database).toMatchObject({
      host: 'db.example.com',
      port: 6543,
      database: 'muejam',
      password: 'a+b',
    });
  });

  it('names DATABASE_URL and the part of it that is wrong', async () => {
    const env = { ...developmentEnv(), DATABASE_URL: 'postgresql://muejam_user@localhost/muejam' };
    const secrets = createSecrets({ env, logger: logger(), client: unreachable() });

    const error = await watch.rejectionOf(secrets.database());

    expect(error.message).toMatch(/DATABASE_URL \(password\): is required/);
  });

  it('does not quote a DATABASE_URL that is not a URL', async () => {
    const env = { ...developmentEnv(), DATABASE_URL: 'p@ss:wörd' };
    const secrets = createSecrets({ env, logger: logger(), client: unreachable() });

    const error = await watch.rejectionOf(secrets.database());

    expect(error).toBeInstanceOf(InvalidSecretValueError);
    expect(error.message).toMatch(/DATABASE_URL: must be a postgresql:\/\/ URL/);
  });

  it('refuses AWS keys that come with AWS_SESSION_TOKEN (temporary credentials, not an application key)', async () => {
    const env = { ...developmentEnv(), AWS_SESSION_TOKEN: 'token' };
    const secrets = createSecrets({ env, logger: logger(), client: unreachable() });

    const error = await watch.rejectionOf(secrets.aws());

    expect(error).toBeInstanceOf(SecretNotFoundError);
    expect(error.message).toMatch(/AWS_SESSION_TOKEN is set/);
  });

  it('has no environment variables for a secret other than the seed five', async () => {
    const secrets = createSecrets({ env: developmentEnv(), logger: logger(), client: unreachable() });

    const byName = await watch.rejectionOf(secrets.database({ name: 'replica' }));
    const generic = await watch.rejectionOf(secrets.get('production/api-keys/stripe'));

    expect(byName).toBeInstanceOf(SecretNotFoundError);
    expect(byName.message).toMatch(
      /^Secret not found: development\/database\/replica: USE_SECRETS_MANAGER=False reads only/,
    );
    expect(generic).toBeInstanceOf(SecretNotFoundError);
  });
});

describe('the audit log', () => {
  it.each([
    ['ENVIRONMENT is unset', {}, (secrets: Secrets) => secrets.resend(), 'api-keys/resend'],
    [
      'the name is not one segment',
      { ENVIRONMENT: 'production' },
      (secrets: Secrets) => secrets.database({ name: 'primary replica' }),
      'production/database/primary replica',
    ],
  ] as const)(
    'records an attempt that fails before Secrets Manager is asked: %s',
    async (_title, env, read, label) => {
      // Prepare
      const secrets = createSecrets({ client: unreachable(), env, logger: logger() });

      // Act
      const error = await watch.rejectionOf(read(secrets));

      // Assess
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(auditLines(watch.text())).toEqual([
        expect.objectContaining({
          level: 'WARN',
          secretName: label,
          source: 'secrets-manager',
          outcome: 'misconfigured',
          errorName: 'ConfigurationError',
        }),
      ]);
    },
  );

  it('records every read, successes included, when the application logs at WARN (POWERTOOLS_LOG_LEVEL)', async () => {
    // Prepare: the production default logger, at WARN, with a key appended after the client was made.
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'WARN');
    for (const [name, value] of Object.entries(developmentEnv())) vi.stubEnv(name, value);
    const application = createLogger();
    const secrets = createSecrets({ client: unreachable(), logger: application });
    application.appendKeys({ requestId: 'req-1' });

    // Act
    await secrets.resend();
    await secrets.resend();
    application.info('an application INFO line');

    // Assess: the audit lines, at INFO, with the application's keys; its own INFO line still filtered.
    expect(application.getLevelName()).toBe('WARN');
    expect(logLines(watch.text())).toEqual([
      expect.objectContaining({
        level: 'INFO',
        audit: 'secret-access',
        outcome: 'success',
        requestId: 'req-1',
      }),
      expect.objectContaining({
        level: 'INFO',
        audit: 'secret-access',
        outcome: 'success',
        requestId: 'req-1',
      }),
    ]);
  });

  it('stays silent with a SILENT logger', async () => {
    // Prepare
    const secrets = createSecrets({
      client: unreachable(),
      env: developmentEnv(),
      logger: new Logger({ serviceName: 'secrets-unit', logLevel: 'SILENT' }),
    });

    // Act
    await secrets.resend();

    // Assess
    expect(logLines(watch.text())).toEqual([]);
  });
});

describe('toSecretsError', () => {
  const target = { secretId: 'production/api-keys/resend', region: 'us-east-1' };
  const awsError = (name: string, fault: 'client' | 'server', status: number | undefined, message = name) =>
    new SecretsManagerServiceException({
      name,
      message,
      $fault: fault,
      $metadata: status === undefined ? {} : { httpStatusCode: status },
    });

  it('turns ResourceNotFoundException into "Secret not found" with the name and the expected format', () => {
    const error = toSecretsError(
      new ResourceNotFoundException({
        message: "Secrets Manager can't find the specified secret.",
        $metadata: {},
      }),
      target,
    );
    expect(error).toBeInstanceOf(SecretNotFoundError);
    expect(error.message).toMatch(
      /^Secret not found: production\/api-keys\/resend in us-east-1 \(expected format \{environment\}\/\{category\}\/\{name\}/,
    );
    expect((error as SecretNotFoundError).secretName).toBe('production/api-keys/resend');
  });

  it("reads AWS's access-denied message: principal, action and the resource it names", () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:production/api-keys/resend-a1b2c3';
    const error = toSecretsError(
      awsError(
        'AccessDeniedException',
        'client',
        400,
        `User: arn:aws:sts::111122223333:assumed-role/app/i-0abc is not authorized to perform: secretsmanager:GetSecretValue on resource: ${arn} because no identity-based policy allows the secretsmanager:GetSecretValue action`,
      ),
      target,
    );
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect(error).toMatchObject({
      action: 'secretsmanager:GetSecretValue',
      resource: arn,
      principal: 'arn:aws:sts::111122223333:assumed-role/app/i-0abc',
      code: 'AccessDeniedException',
    });
    expect(error.message).toMatch(/^Access denied: secretsmanager:GetSecretValue on arn:aws:secretsmanager:/);
  });

  it.each([
    ['UnrecognizedClientException', 400],
    ['InvalidSignatureException', 400],
    ['ExpiredTokenException', 400],
    ['CredentialsProviderError', undefined],
    ['SomethingUnreadable', 403],
  ])('treats %s (HTTP %s) as access denied: credentials or IAM, never a fallback', (name, status) => {
    const error = toSecretsError(awsError(name, 'client', status), target);
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect((error as AccessDeniedError).resource).toBe(
      'arn:aws:secretsmanager:us-east-1:*:secret:production/api-keys/resend-??????',
    );
  });

  it.each([
    [
      'a refused connection',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
    ],
    ['throttling', awsError('ThrottlingException', 'client', 400)],
    ['an internal error', awsError('InternalServiceError', 'server', 500)],
    ['a timeout', Object.assign(new Error('socket hang up'), { name: 'TimeoutError' })],
  ])('treats %s as Secrets Manager unavailable', (_label, cause) => {
    expect(toSecretsError(cause, target)).toBeInstanceOf(SecretsManagerUnavailableError);
  });

  it('treats other refusals (DecryptionFailure) as a plain SecretsError, which no fallback covers', () => {
    const error = toSecretsError(awsError('DecryptionFailure', 'client', 400), target);
    expect(error.constructor).toBe(SecretsError);
    expect(error.message).toMatch(/DecryptionFailure/);
  });
});

describe('authentication errors', () => {
  const pgAuth = () =>
    Object.assign(new pg.DatabaseError('password authentication failed', 0, 'error'), { code: '28P01' });

  it('recognises PostgreSQL 28P01, also wrapped in the rotation’s DatabaseAuthenticationError', () => {
    expect(isPostgresAuthError(pgAuth())).toBe(true);
    expect(isPostgresAuthError(new DatabaseAuthenticationError('login refused', { cause: pgAuth() }))).toBe(
      true,
    );
    expect(isPostgresAuthError(Object.assign(new Error('permission denied'), { code: '42501' }))).toBe(false);
  });

  it("recognises HTTP 401 from a ProviderAuthError's status and from an application client's status", () => {
    expect(isHttpAuthError(new ProviderAuthError('resend', 'HTTP 401', { status: 401 }))).toBe(true);
    expect(isHttpAuthError(new ProviderAuthError('resend', 'HTTP 403', { status: 403 }))).toBe(false);
    expect(isHttpAuthError(Object.assign(new Error('unauthorized'), { status: 401 }))).toBe(true);
    expect(isHttpAuthError(Object.assign(new Error('axios'), { response: { status: 401 } }))).toBe(true);
    expect(isHttpAuthError(Object.assign(new Error('teapot'), { status: 418 }))).toBe(false);
  });

  it.each([
    'InvalidClientTokenId',
    'SignatureDoesNotMatch',
    'UnrecognizedClientException',
    'InvalidAccessKeyId',
  ])('recognises the AWS code %s', (name) => {
    const error = new STSServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: 403 } });
    expect(isAwsAuthError(error)).toBe(true);
    expect(isAuthenticationError(error)).toBe(true);
  });

  it('reports the kind and code of the failure it recognised', () => {
    expect(
      authenticationFailure(new DatabaseAuthenticationError('login refused', { cause: pgAuth() })),
    ).toEqual({
      kind: 'postgres',
      code: '28P01',
    });
    expect(authenticationFailure(new ProviderAuthError('clerk', 'HTTP 401', { status: 401 }))).toEqual({
      kind: 'http',
      code: '401',
    });
    expect(authenticationFailure(new Error('other'))).toBeUndefined();
  });

  it("does not count a getter's own failure as the operation's, whatever AWS code its cause carries", () => {
    const refusal = new STSServiceException({
      name: 'UnrecognizedClientException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    const denied = toSecretsError(refusal, { secretId: 'production/api-keys/aws', region: 'us-east-1' });

    expect(isAwsAuthError(refusal)).toBe(true);
    expect(denied).toBeInstanceOf(AccessDeniedError);
    expect(authenticationFailure(denied)).toBeUndefined();
    expect(isAuthenticationError(new Error('wrapped', { cause: denied }))).toBe(false);
  });

  it('does not count an authorization refusal (AccessDenied) as an authentication error', () => {
    const error = new STSServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: {} });
    expect(isAuthenticationError(error)).toBe(false);
  });
});

describe('withFreshCredentials', () => {
  it('retries once with refresh after an authentication error and returns the retry’s result', async () => {
    const attempts: unknown[] = [];

    const result = await withFreshCredentials(logger(), async (attempt) => {
      attempts.push(attempt);
      if (!attempt.refresh) throw Object.assign(new Error('unauthorized'), { status: 401 });
      return 'sent';
    });

    expect(result).toBe('sent');
    expect(attempts).toEqual([
      { refresh: false, attempt: 1 },
      { refresh: true, attempt: 2 },
    ]);
  });

  it('does not retry other failures', async () => {
    let calls = 0;

    const error = await watch.rejectionOf(
      withFreshCredentials(logger(), async () => {
        calls++;
        throw Object.assign(new Error('server error'), { status: 500 });
      }),
    );

    expect(error.message).toBe('server error');
    expect(calls).toBe(1);
  });

  it('retries only once: a second authentication failure reaches the caller', async () => {
    let calls = 0;

    const error = await watch.rejectionOf(
      withFreshCredentials(logger(), async () => {
        calls++;
        throw Object.assign(new Error(`refused ${calls}`), { code: '28P01' });
      }),
    );

    expect(error.message).toBe('refused 2');
    expect(calls).toBe(2);
  });

  it("does not retry a getter's own failure, even where the caller's own test would", async () => {
    let calls = 0;
    const denied = new AccessDeniedError(
      'Access denied',
      { action: 'secretsmanager:GetSecretValue', resource: '*', code: 'UnrecognizedClientException' },
      { cause: Object.assign(new Error('refused'), { name: 'UnrecognizedClientException', status: 401 }) },
    );

    const error = await watch.rejectionOf(
      withFreshCredentials(
        logger(),
        async () => {
          calls++;
          throw denied;
        },
        { isAuthenticationError: () => true },
      ),
    );

    expect(error).toBe(denied);
    expect(calls).toBe(1);
  });

  it('takes its own definition of an authentication error', async () => {
    let calls = 0;

    await withFreshCredentials(
      logger(),
      async () => {
        if (++calls === 1) throw Object.assign(new Error('invalid_api_key'), { status: 403 });
      },
      { isAuthenticationError: (error) => (error as { status?: number }).status === 403 },
    );

    expect(calls).toBe(2);
  });
});

describe('databaseCredentials', () => {
  const secret = (overrides: Partial<PostgresSecret> = {}): PostgresSecret => ({
    host: 'db.example.com',
    port: 5432,
    database: 'muejam',
    username: 'muejam_user',
    password: `p'a"s\\s;--%@:/?#ü`,
    sslmode: 'verify-full',
    ...overrides,
  });

  it('builds a connection string carrying every field and the sslmode', () => {
    const ready = databaseCredentials(secret());
    const url = new URL(ready.connectionString);

    expect(url.protocol).toBe('postgresql:');
    expect(url.hostname).toBe('db.example.com');
    expect(url.port).toBe('5432');
    expect(url.pathname).toBe('/muejam');
    expect(decodeURIComponent(url.username)).toBe('muejam_user');
    expect(decodeURIComponent(url.password)).toBe(`p'a"s\\s;--%@:/?#ü`);
    expect(url.searchParams.get('sslmode')).toBe('verify-full');
  });

  it("keeps the secret's other URL parameters and replaces a stale password and sslmode", () => {
    const ready = databaseCredentials(
      secret({
        sslmode: 'require',
        connectionString:
          'postgresql://muejam_user:old@db.example.com:5432/muejam?application_name=web&sslmode=disable',
      }),
    );
    const url = new URL(ready.connectionString);

    expect(url.searchParams.get('application_name')).toBe('web');
    expect(url.searchParams.get('sslmode')).toBe('require');
    expect(decodeURIComponent(url.password)).toBe(`p'a"s\\s;--%@:/?#ü`);
  });

  it('adds sslrootcert for every TLS mode when a CA file is configured, so libpq verifies as pg does', () => {
    const trust = { ca: 'PEM', caFile: '/etc/rds-ca.pem' };
    const rootcert = (sslmode: PostgresSecret['sslmode']) =>
      new URL(databaseCredentials(secret({ sslmode }), trust).connectionString).searchParams.get(
        'sslrootcert',
      );

    expect(rootcert('verify-full')).toBe('/etc/rds-ca.pem');
    expect(rootcert('verify-ca')).toBe('/etc/rds-ca.pem');
    expect(rootcert('require')).toBe('/etc/rds-ca.pem');
    expect(rootcert('disable')).toBeNull();
  });

  it("keeps the secret's other URL parameters byte for byte (%20 stays %20) and drops its stale target", () => {
    const ready = databaseCredentials(
      secret({
        connectionString:
          'postgresql://old:old@old.example.com:1/old?application_name=muejam%20web&host=old.example.com&hostaddr=10.9.9.9&options=-c%20statement_timeout%3D5000&dbname=old&user=old&port=1&sslrootcert=/old.pem',
      }),
    );

    expect(ready.connectionString).toMatch(
      /^postgresql:\/\/muejam_user:[^@]+@db\.example\.com:5432\/muejam\?application_name=muejam%20web&options=-c%20statement_timeout%3D5000&sslmode=verify-full$/,
    );
  });

  it.each([
    ['a Unix-socket directory', '/var/run/postgresql', (url: URL) => decodeURIComponent(url.hostname)],
    ['an IPv6 address with a zone', 'fe80::1%eth0', (url: URL) => url.searchParams.get('host')],
    ['an IPv6 address', '2001:db8::1', (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1')],
    ['a host name with a space (a typo)', 'db .example.com', (url: URL) => decodeURIComponent(url.hostname)],
  ])(
    "names the secret's host as libpq reads it, never a stale connection_string's: %s",
    (_title, host, target) => {
      const ready = databaseCredentials(
        secret({ host, connectionString: 'postgresql://muejam_user:old@old-db.example.com:5432/muejam' }),
      );
      const url = new URL(ready.connectionString);

      expect(target(url)).toBe(host);
      expect(ready.connectionString).not.toContain('old-db');
      expect(decodeURIComponent(url.username)).toBe('muejam_user');
    },
  );

  it('refuses a field no connection string can carry (a lone surrogate), naming the field, never the value', () => {
    const build = () => databaseCredentials(secret({ password: 'pass\uD800word' }));

    expect(build).toThrow(InvalidSecretValueError);
    expect(build).toThrow(
      /^the database secret's password cannot be written in a postgresql:\/\/ connection string as libpq reads it$/,
    );
  });

  it.each(['disable', 'require', 'verify-ca', 'verify-full'] as const)(
    'gives node-postgres the rotation’s TLS options for sslmode %s',
    (sslmode) => {
      const ready = databaseCredentials(secret({ sslmode }), { ca: 'PEM' });

      expect(ready.pg).toMatchObject({
        host: 'db.example.com',
        port: 5432,
        database: 'muejam',
        user: 'muejam_user',
        password: `p'a"s\\s;--%@:/?#ü`,
      });
      expect(JSON.stringify(ready.pg.ssl)).toEqual(JSON.stringify(tlsOptions(sslmode, 'PEM')));
    },
  );
});
