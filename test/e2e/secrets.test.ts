/**
 * The secrets library against the shared moto server and PostgreSQL 15: typed getters, the
 * Powertools cache counted in SDK calls, TTL expiry on a faked clock, the fallback matrix,
 * the database's ready TLS settings, and the worker reader. Every test scans the captured
 * output for the values it made.
 */

import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ProviderContext } from '../../shared/api-keys/provider.js';
import { createResendProvider, type ResendSecret } from '../../shared/api-keys/providers/resend/index.js';
import { loadDatabaseRotationConfig } from '../../shared/config/index.js';
import { RDS_CA_BUNDLE_FILE } from '../../shared/postgres/index.js';
import {
  createSecrets,
  createWorkerSecretReader,
  InvalidSecretValueError,
  SecretNotFoundError,
  SecretsManagerUnavailableError,
} from '../../shared/secrets/index.js';
import { auditLines } from '../support/audit-lines.js';
import { createRole, hostilePassword, seedDatabaseSecret, stack, uniqueName } from '../support/bed.js';
import { routedConnector } from '../support/databases.js';
import { type FakeResend, startFakeResend } from '../support/fakes/resend-server.js';
import { LeakWatch } from '../support/leak-watch.js';
import { providerContext } from '../support/provider-tests.js';
import { countCommands } from '../support/sdk-calls.js';

const GET = 'GetSecretValueCommand';
const run = promisify(execFile);
const CLERK_PUBLISHABLE = `pk_live_${Buffer.from('clerk.muejam.example$').toString('base64')}`;

const awsConfig = () => ({
  region: 'us-east-1',
  endpoint: stack().awsEndpoint,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});

/** The administrator's client: creates and changes secrets; never counted. */
const sm = new SecretsManagerClient(awsConfig());

let watch: LeakWatch;

/** A client as an application builds it, with every command it sends counted. */
function appClient() {
  const client = new SecretsManagerClient(awsConfig());
  return { client, calls: countCommands(client) };
}

/** A client whose Secrets Manager cannot be reached (nothing listens on port 1). */
function unreachableClient() {
  const client = new SecretsManagerClient({ ...awsConfig(), endpoint: 'http://127.0.0.1:1', maxAttempts: 1 });
  return { client, calls: countCommands(client) };
}

const logger = () => new Logger({ serviceName: 'secrets-e2e' });

/** Holds back the answer of the client's first GetSecretValue until `release()`: a slow response. */
function holdFirstAnswer(client: SecretsManagerClient) {
  let release: () => void = () => undefined;
  let arrived: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const answered = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  let seen = 0;
  let held = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const first = context.commandName === GET && ++seen === 1;
      const out = await next(args);
      if (first) {
        held++;
        arrived();
        await gate;
      }
      return out;
    },
    { step: 'initialize', name: 'holdFirstAnswer' },
  );
  return { release: () => release(), answered, held: () => held };
}

/** A Secrets Manager endpoint that accepts connections and never answers (a hung proxy, a blackholed endpoint). */
async function silentEndpoint(): Promise<{ url: string; connections: () => number; close(): Promise<void> }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
    connections: () => sockets.length,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function createSecret(name: string, value: object | string): Promise<string> {
  const out = await sm.send(
    new CreateSecretCommand({
      Name: name,
      SecretString: typeof value === 'string' ? value : JSON.stringify(value),
    }),
  );
  return out.ARN ?? name;
}

/** Puts a new AWSCURRENT version; returns its id. */
async function putValue(arn: string, value: object): Promise<string> {
  const out = await sm.send(
    new PutSecretValueCommand({ SecretId: arn, SecretString: JSON.stringify(value) }),
  );
  return out.VersionId ?? '';
}

/** A Resend secret with a fresh key value, remembered for the leak scan. */
function resendValue(prefix = 'app') {
  const value = {
    api_key: `re_${uniqueName(prefix)}_${uniqueName('k')}`,
    rotated_at: '2024-01-01T00:00:00Z',
  };
  watch.values.push(value.api_key);
  return value;
}

beforeEach(() => {
  watch = new LeakWatch();
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
  expect(watch.stop(), 'secret values in captured output or errors').toEqual([]);
});

describe('Secrets on Secrets Manager', () => {
  it("reads each of the seed's five secrets by the name ENVIRONMENT builds, validated by its schema", async () => {
    const environment = uniqueName('prod');
    const password = hostilePassword();
    const values = {
      database: seedDatabaseSecret({ username: 'muejam_user', password }),
      clerk: { secret_key: `sk_live_${uniqueName('clerk')}`, publishable_key: CLERK_PUBLISHABLE },
      aws: { access_key_id: 'AKIAIOSFODNN7EXAMPLE', secret_access_key: `aws/${uniqueName('secret')}+x` },
      resend: resendValue(),
      google: {
        safe_browsing_api_key: `AIza${uniqueName('sb')}`,
        recaptcha_secret_key: `6Le${uniqueName('rc')}`,
      },
    };
    watch.values.push(
      password,
      values.clerk.secret_key,
      values.aws.secret_access_key,
      values.google.safe_browsing_api_key,
      values.google.recaptcha_secret_key,
    );
    await createSecret(`${environment}/database/primary`, values.database);
    for (const kind of ['clerk', 'aws', 'resend', 'google'] as const)
      await createSecret(`${environment}/api-keys/${kind}`, values[kind]);
    const { client } = appClient();
    const secrets = createSecrets({ client, env: { ENVIRONMENT: environment }, logger: logger() });

    const database = await secrets.database();
    const clerk = await secrets.clerk();
    const aws = await secrets.aws();
    const resend = await secrets.resend();
    const google = await secrets.google();

    expect(database).toMatchObject({ username: 'muejam_user', password, port: stack().postgres.port });
    expect(clerk.secret_key).toBe(values.clerk.secret_key);
    expect(aws.credentials.secretAccessKey).toBe(values.aws.secret_access_key);
    expect(resend).toMatchObject({ api_key: values.resend.api_key, permission: 'full_access' });
    expect(google.recaptcha_secret_key).toBe(values.google.recaptcha_secret_key);
    expect(auditLines(watch.text()).map((line) => [line.secretName, line.source, line.outcome])).toEqual(
      ['database/primary', 'api-keys/clerk', 'api-keys/aws', 'api-keys/resend', 'api-keys/google'].map(
        (name) => [`${environment}/${name}`, 'secrets-manager', 'success'],
      ),
    );
    expect(auditLines(watch.text()).every((line) => typeof line.versionId === 'string')).toBe(true);
  });

  it('accepts a full name and an ARN as they are, and builds a {category, name} from ENVIRONMENT', async () => {
    const environment = uniqueName('prod');
    const name = `${environment}/api-keys/resend`;
    const value = resendValue();
    const arn = await createSecret(name, value);
    const other = uniqueName('other');
    const { client } = appClient();
    const secrets = createSecrets({ client, env: { ENVIRONMENT: other }, logger: logger() });

    const byName = await secrets.resend({ name });
    const byArn = await secrets.get(arn);
    const built = await watch.rejectionOf(secrets.get({ category: 'api-keys', name: 'resend' }));

    expect(byName.api_key).toBe(value.api_key);
    expect(byArn.api_key).toBe(value.api_key);
    expect(built).toMatchObject({ name: 'SecretNotFoundError', secretName: `${other}/api-keys/resend` });
  });

  it('throws "Secret not found" with the name it looked for and the expected format', async () => {
    const environment = uniqueName('prod');
    const { client } = appClient();
    const secrets = createSecrets({ client, env: { ENVIRONMENT: environment }, logger: logger() });

    const error = await watch.rejectionOf(secrets.clerk());

    expect(error).toBeInstanceOf(SecretNotFoundError);
    expect(error).toMatchObject({
      secretName: `${environment}/api-keys/clerk`,
      expectedFormat: '{environment}/{category}/{name}',
    });
    expect(error.message).toMatch(
      new RegExp(`^Secret not found: ${environment}/api-keys/clerk in us-east-1`),
    );
    expect(auditLines(watch.text())).toEqual([
      expect.objectContaining({ level: 'WARN', source: 'secrets-manager', outcome: 'not-found' }),
    ]);
  });

  it('names the fields of a value that is not of its shape, never the values', async () => {
    const environment = uniqueName('prod');
    const password = hostilePassword();
    watch.values.push(password);
    await createSecret(`${environment}/database/primary`, { host: 'db', password, port: 'five' });
    await createSecret(`${environment}/api-keys/resend`, `{"api_key": "${password}`);
    const { client } = appClient();
    const secrets = createSecrets({ client, env: { ENVIRONMENT: environment }, logger: logger() });

    const invalid = await watch.rejectionOf(secrets.database());
    const notJson = await watch.rejectionOf(secrets.resend());

    expect(invalid).toBeInstanceOf(InvalidSecretValueError);
    expect((invalid as InvalidSecretValueError).fields).toEqual(['port', 'username']);
    expect(invalid.message).toBe(
      `secret ${environment}/database/primary is not valid: port: must be a port number; username: is required`,
    );
    expect(notJson.message).toBe(`secret ${environment}/api-keys/resend is not valid JSON`);
    expect(auditLines(watch.text()).map((line) => line.outcome)).toEqual(['invalid', 'invalid']);
  });
  it('keeps values with control characters out of the logs and the errors', async () => {
    const environment = uniqueName('prod');
    const withControls = `re_${uniqueName('c')}\u0001\u001b[31m\n\t"\\end`;
    const invalid = `\u0000\u0007${uniqueName('bad')}\r\n`;
    watch.values.push(withControls, invalid);
    await createSecret(`${environment}/api-keys/resend`, { api_key: withControls });
    await createSecret(`${environment}/api-keys/clerk`, { secret_key: invalid, publishable_key: invalid });
    const { client } = appClient();
    const secrets = createSecrets({ client, env: { ENVIRONMENT: environment }, logger: logger() });
    const development = createSecrets({
      client,
      env: { USE_SECRETS_MANAGER: 'False', ENVIRONMENT: environment, RESEND_API_KEY: invalid },
      logger: logger(),
    });

    // A key no HTTP header can carry is refused by the provider's schema, naming only the field.
    const refusedKey = await watch.rejectionOf(secrets.resend());
    const refused = await watch.rejectionOf(secrets.clerk());
    const refusedFromEnvironment = await watch.rejectionOf(development.resend());

    expect(refusedKey).toBeInstanceOf(InvalidSecretValueError);
    expect((refusedKey as InvalidSecretValueError).fields).toEqual(['api_key']);
    expect(refused).toBeInstanceOf(InvalidSecretValueError);
    expect((refused as InvalidSecretValueError).fields).toEqual(['secret_key', 'publishable_key']);
    expect(refusedFromEnvironment.message).toMatch(/RESEND_API_KEY: must be a Resend API key/);
  });
});

describe('the cache (Powertools SecretsProvider)', () => {
  async function resendSecret(options: { ttl?: string } = {}) {
    const environment = uniqueName('prod');
    const value = resendValue();
    const arn = await createSecret(`${environment}/api-keys/resend`, value);
    const { client, calls } = appClient();
    const env = { ENVIRONMENT: environment, ...(options.ttl ? { SECRETS_CACHE_TTL: options.ttl } : {}) };
    return { arn, value, calls, secrets: createSecrets({ client, env, logger: logger() }) };
  }

  it('serves repeated reads from the cache: ten reads, one GetSecretValue', async () => {
    const { secrets, calls, value } = await resendSecret();

    const keys = [];
    for (let i = 0; i < 10; i++) keys.push((await secrets.resend()).api_key);

    expect(new Set(keys)).toEqual(new Set([value.api_key]));
    expect(calls.count(GET)).toBe(1);
    expect(auditLines(watch.text()).map((line) => line.source)).toEqual([
      'secrets-manager',
      ...Array(9).fill('cache'),
    ]);
  });

  it('reads Secrets Manager again on refresh, and caches what it read', async () => {
    const { secrets, calls, arn } = await resendSecret();
    await secrets.resend();
    const next = resendValue('next');
    const nextVersion = await putValue(arn, next);

    const cached = await secrets.resend();
    const refreshed = await secrets.resend({ refresh: true });
    const after = await secrets.resend();

    expect(cached.api_key).not.toBe(next.api_key);
    expect(refreshed.api_key).toBe(next.api_key);
    expect(after.api_key).toBe(next.api_key);
    expect(calls.count(GET)).toBe(2);
    expect(auditLines(watch.text()).slice(-2)).toEqual([
      expect.objectContaining({ source: 'secrets-manager', versionId: nextVersion }),
      expect.objectContaining({ source: 'cache', versionId: nextVersion }),
    ]);
  });

  it('expires a value after SECRETS_CACHE_TTL seconds (clock: vi.setSystemTime, which Powertools reads through Date)', async () => {
    const start = Date.now();
    vi.useFakeTimers({ toFake: ['Date'], now: start });
    const { secrets, calls, arn, value } = await resendSecret({ ttl: '60' });
    await secrets.resend();
    const next = resendValue('next');
    await putValue(arn, next);

    vi.setSystemTime(start + 59_000);
    const beforeExpiry = await secrets.resend();
    vi.setSystemTime(start + 61_000);
    const afterExpiry = await secrets.resend();

    expect(beforeExpiry.api_key).toBe(value.api_key);
    expect(afterExpiry.api_key).toBe(next.api_key);
    expect(calls.count(GET)).toBe(2);
  });

  it('keeps values for 300 seconds when SECRETS_CACHE_TTL is unset', async () => {
    const start = Date.now();
    vi.useFakeTimers({ toFake: ['Date'], now: start });
    const { secrets, calls } = await resendSecret();
    await secrets.resend();

    vi.setSystemTime(start + 299_000);
    await secrets.resend();
    vi.setSystemTime(start + 301_000);
    await secrets.resend();

    expect(calls.count(GET)).toBe(2);
  });

  it('does not keep a value that fails validation: once the secret is fixed, the next read gets it', async () => {
    // Prepare: a broken value, read once.
    const environment = uniqueName('prod');
    const arn = await createSecret(`${environment}/api-keys/resend`, { api_key: 'not-a-resend-key' });
    const { client, calls } = appClient();
    const secrets = createSecrets({ client, env: { ENVIRONMENT: environment }, logger: logger() });
    const broken = await watch.rejectionOf(secrets.resend());
    const fixed = resendValue('fixed');

    // Act: the operator fixes the value (the README's "what to do"); the application reads again.
    await putValue(arn, fixed);
    const read = await secrets.resend();

    // Assess
    expect(broken).toBeInstanceOf(InvalidSecretValueError);
    expect(read.api_key).toBe(fixed.api_key);
    expect(calls.count(GET)).toBe(2);
    expect(auditLines(watch.text()).map((line) => [line.source, line.outcome])).toEqual([
      ['secrets-manager', 'invalid'],
      ['secrets-manager', 'success'],
    ]);
  });

  it('keeps the value a refresh read when an older read, in flight across a rotation, answers after it', async () => {
    // Prepare: the client's first GetSecretValue is answered (the old key) but held back.
    const environment = uniqueName('prod');
    const old = resendValue('old');
    const arn = await createSecret(`${environment}/api-keys/resend`, old);
    const { client, calls } = appClient();
    const slow = holdFirstAnswer(client);
    const secrets = createSecrets({ client, env: { ENVIRONMENT: environment }, logger: logger() });
    const rotated = resendValue('new');

    // Act: A reads; the secret rotates; B refreshes (withFreshCredentials' retry); A's answer
    // arrives; C reads from the cache.
    const requestA = secrets.resend();
    await slow.answered;
    await putValue(arn, rotated);
    const requestB = await secrets.resend({ refresh: true });
    slow.release();
    const a = await requestA;
    const requestC = await secrets.resend();

    // Assess: the fault fired (A's answer was held, and was the old key); C gets B's value.
    expect(slow.held()).toBe(1);
    expect(a.api_key).toBe(old.api_key);
    expect(requestB.api_key).toBe(rotated.api_key);
    expect(requestC.api_key).toBe(rotated.api_key);
    expect(calls.count(GET)).toBe(2);
  });

  it('caches nothing when SECRETS_CACHE_TTL is 0', async () => {
    const { secrets, calls } = await resendSecret({ ttl: '0' });

    for (let i = 0; i < 3; i++) await secrets.resend();

    expect(calls.count(GET)).toBe(3);
  });
});

describe('the environment fallback', () => {
  interface Row {
    readonly useSecretsManager: 'True' | 'False';
    /** What Secrets Manager does: holds the secret, is unreachable, lacks it, or holds a broken value. */
    readonly secretsManager: 'holds it' | 'unreachable' | 'lacks it' | 'holds a broken value';
    readonly fallback?: string;
    readonly variableSet: boolean;
    readonly expected: 'secrets-manager' | 'environment' | 'fallback' | (new (...args: never[]) => Error);
  }

  const rows: [string, Row][] = [
    [
      'USE_SECRETS_MANAGER=False reads the variable and never calls Secrets Manager',
      {
        useSecretsManager: 'False',
        secretsManager: 'unreachable',
        variableSet: true,
        expected: 'environment',
      },
    ],
    [
      'USE_SECRETS_MANAGER=False without the variable is "Secret not found"',
      {
        useSecretsManager: 'False',
        secretsManager: 'holds it',
        variableSet: false,
        expected: SecretNotFoundError,
      },
    ],
    [
      'a reachable Secrets Manager wins over the variable, whatever the fallback',
      {
        useSecretsManager: 'True',
        secretsManager: 'holds it',
        fallback: 'all',
        variableSet: true,
        expected: 'secrets-manager',
      },
    ],
    [
      'an unreachable Secrets Manager falls back where SECRETS_ENV_FALLBACK names the secret',
      {
        useSecretsManager: 'True',
        secretsManager: 'unreachable',
        fallback: 'database,resend',
        variableSet: true,
        expected: 'fallback',
      },
    ],
    [
      'an unreachable Secrets Manager does not fall back for a secret SECRETS_ENV_FALLBACK does not name',
      {
        useSecretsManager: 'True',
        secretsManager: 'unreachable',
        fallback: 'database',
        variableSet: true,
        expected: SecretsManagerUnavailableError,
      },
    ],
    [
      'an unreachable Secrets Manager does not fall back by default',
      {
        useSecretsManager: 'True',
        secretsManager: 'unreachable',
        variableSet: true,
        expected: SecretsManagerUnavailableError,
      },
    ],
    [
      'an allowed fallback without the variable reports Secrets Manager unavailable',
      {
        useSecretsManager: 'True',
        secretsManager: 'unreachable',
        fallback: 'all',
        variableSet: false,
        expected: SecretsManagerUnavailableError,
      },
    ],
    [
      'a missing secret is "Secret not found", never a fallback',
      {
        useSecretsManager: 'True',
        secretsManager: 'lacks it',
        fallback: 'all',
        variableSet: true,
        expected: SecretNotFoundError,
      },
    ],
    [
      'a broken value is an InvalidSecretValueError, never a fallback',
      {
        useSecretsManager: 'True',
        secretsManager: 'holds a broken value',
        fallback: 'all',
        variableSet: true,
        expected: InvalidSecretValueError,
      },
    ],
  ];

  it.each(rows)('%s', async (_title, row) => {
    const environment = uniqueName('prod');
    const stored = resendValue('stored');
    const fromEnv = resendValue('env');
    if (row.secretsManager === 'holds it') await createSecret(`${environment}/api-keys/resend`, stored);
    if (row.secretsManager === 'holds a broken value')
      await createSecret(`${environment}/api-keys/resend`, { api_key: 'not-a-resend-key' });
    const { client, calls } = row.secretsManager === 'unreachable' ? unreachableClient() : appClient();
    const env = {
      USE_SECRETS_MANAGER: row.useSecretsManager,
      ENVIRONMENT: environment,
      ...(row.fallback ? { SECRETS_ENV_FALLBACK: row.fallback } : {}),
      ...(row.variableSet ? { RESEND_API_KEY: fromEnv.api_key } : {}),
    };
    const secrets = createSecrets({ client, env, logger: logger() });

    const result = await secrets.resend().catch((error: Error) => error);

    const audit = auditLines(watch.text());
    if (typeof row.expected === 'function') {
      expect(result).toBeInstanceOf(row.expected);
      expect(audit.at(-1)).toMatchObject({ outcome: expect.not.stringMatching(/^success$/) });
    } else if (row.expected === 'secrets-manager') {
      expect(result).toMatchObject({ api_key: stored.api_key });
      expect(audit).toEqual([expect.objectContaining({ source: 'secrets-manager', outcome: 'success' })]);
    } else {
      expect(result).toMatchObject({ api_key: fromEnv.api_key });
      expect(audit.at(-1)).toMatchObject({
        source: 'environment',
        outcome: 'success',
        variables: ['RESEND_API_KEY'],
        level: row.expected === 'fallback' ? 'WARN' : 'INFO',
      });
    }
    if (row.expected === 'fallback') {
      expect(audit).toEqual([
        expect.objectContaining({ level: 'WARN', source: 'secrets-manager', outcome: 'unavailable' }),
        expect.objectContaining({
          level: 'WARN',
          message: 'secret read from environment variables: Secrets Manager unavailable',
          fallback: true,
        }),
      ]);
    }
    expect(calls.count(GET)).toBe(row.useSecretsManager === 'False' ? 0 : 1);
  });

  it("stands in within the default client's bounded timeouts when Secrets Manager accepts connections and never answers", async () => {
    // Prepare: no client passed; the default client finds the silent endpoint through AWS_ENDPOINT_URL.
    const endpoint = await silentEndpoint();
    const fromEnv = resendValue('env');
    for (const [name, value] of Object.entries({
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: endpoint.url,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      ENVIRONMENT: 'production',
      SECRETS_ENV_FALLBACK: 'resend',
      RESEND_API_KEY: fromEnv.api_key,
    }))
      vi.stubEnv(name, value);
    const secrets = createSecrets({ logger: logger() });

    // Act (the SDK's defaults, no request timeout, would outlast this test's own timeout)
    const read = await secrets.resend().finally(() => endpoint.close());

    // Assess: SECRETS_MAX_ATTEMPTS' two attempts each reached the endpoint and timed out
    // (SECRETS_REQUEST_TIMEOUT_MS, 3 s), then the fallback answered.
    expect(endpoint.connections()).toBe(2);
    expect(read.api_key).toBe(fromEnv.api_key);
    expect(auditLines(watch.text())).toEqual([
      expect.objectContaining({ source: 'secrets-manager', outcome: 'unavailable' }),
      expect.objectContaining({ source: 'environment', outcome: 'success', fallback: true }),
    ]);
  }, 15_000);

  it('says why a fallback could not stand in', async () => {
    const { client } = unreachableClient();
    const secrets = createSecrets({
      client,
      env: { ENVIRONMENT: 'production', SECRETS_ENV_FALLBACK: 'database' },
      logger: logger(),
    });

    const error = await watch.rejectionOf(secrets.database());

    expect(error.message).toMatch(
      /^Secrets Manager is unavailable: could not read production\/database\/primary in us-east-1: .*; the environment fallback cannot stand in: environment variable DATABASE_URL is not set$/,
    );
  });
});

describe('the database getter', () => {
  /**
   * A user and its seed secret with `sslmode`; `caFile` is DB_TLS_CA_FILE (the test bed's CA by
   * default), `query` is appended to the secret's connection_string.
   */
  async function databaseSecrets(sslmode: string, options: { caFile?: string; query?: string } = {}) {
    const environment = uniqueName('prod');
    const username = uniqueName('app_user');
    const password = hostilePassword();
    watch.values.push(password);
    await createRole(username, password);
    const seed = seedDatabaseSecret({ username, password, extra: { sslmode } });
    await createSecret(`${environment}/database/primary`, {
      ...seed,
      connection_string: `${seed.connection_string}${options.query ?? ''}`,
    });
    const { client } = appClient();
    const env = { ENVIRONMENT: environment, DB_TLS_CA_FILE: options.caFile ?? stack().postgres.caFile };
    return { username, secrets: createSecrets({ client, env, logger: logger() }) };
  }

  /** psql (libpq) on `uri`: the statement's output, or `refused` and why. */
  async function psql(uri: string, sql: string): Promise<string> {
    return run('psql', [uri, '-XAtc', sql], { env: { PATH: process.env.PATH ?? '' } }).then(
      (out) => out.stdout.trim(),
      (error: { stderr?: string }) => `refused: ${error.stderr?.trim()}`,
    );
  }

  async function currentUser(config: pg.ClientConfig): Promise<{ user: string; tls: boolean }> {
    const client = new pg.Client(config);
    client.on('error', () => undefined);
    await client.connect();
    try {
      const { rows } = await client.query<{ user: string; tls: boolean }>(
        'SELECT current_user AS user, ssl AS tls FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
      );
      return rows[0] ?? { user: '', tls: false };
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  it('connects with verify-full TLS through its pg config and through its connection string', async () => {
    const { username, secrets } = await databaseSecrets('verify-full');

    const database = await secrets.database();

    expect(await currentUser(database.pg)).toEqual({ user: username, tls: true });
    expect(await currentUser({ connectionString: database.connectionString })).toEqual({
      user: username,
      tls: true,
    });
    expect(new URL(database.connectionString).searchParams.get('sslrootcert')).toBe(stack().postgres.caFile);
    expect(await psql(database.connectionString, 'SELECT current_user')).toBe(username);
  });

  it('refuses through connectionString, as through pg, a server DB_TLS_CA_FILE did not sign (sslmode require)', async () => {
    // Prepare: DB_TLS_CA_FILE is the shipped RDS bundle, which did not sign the test bed's certificate.
    const bundle = join(process.cwd(), RDS_CA_BUNDLE_FILE);
    const { secrets } = await databaseSecrets('require', { caFile: bundle });
    const database = await secrets.database();

    // Act
    const viaPg = await currentUser(database.pg).then(
      () => 'connected',
      (error: Error) => `refused: ${error.message}`,
    );
    const viaLibpq = await psql(database.connectionString, 'SELECT 1');

    // Assess: libpq verifies the chain when a root certificate is given, as pg does with a CA.
    expect(new URL(database.connectionString).searchParams.get('sslrootcert')).toBe(bundle);
    expect(viaPg).toMatch(/^refused: .*certificate/);
    expect(viaLibpq).toMatch(/^refused: .*certificate verify failed/);
  });

  it("passes the secret's other URL parameters to libpq exactly as written (a %20 stays a space)", async () => {
    // Prepare
    const { secrets } = await databaseSecrets('verify-full', {
      query: '?application_name=muejam%20web&options=-c%20statement_timeout%3D5000',
    });

    // Act
    const database = await secrets.database();
    const settings = await psql(
      database.connectionString,
      'SELECT current_setting($$application_name$$), current_setting($$statement_timeout$$)',
    );

    // Assess
    expect(settings).toBe('muejam web|5s');
  });

  it('trusts the RDS bundle for an RDS host, as the rotation does: pg verifies the server, sslrootcert names the bundle', async () => {
    // Prepare: a function root whose RDS bundle is the test bed's CA (as in
    // rotate-database-templates.test.ts); the seed's shape (no sslmode: verify-full) with an
    // RDS endpoint as host, and no DB_TLS_CA_FILE.
    const root = await mkdtemp(join(tmpdir(), 'secrets-rds-root-'));
    await mkdir(dirname(join(root, RDS_CA_BUNDLE_FILE)), { recursive: true });
    await copyFile(stack().postgres.caFile, join(root, RDS_CA_BUNDLE_FILE));
    vi.stubEnv('LAMBDA_TASK_ROOT', root);
    const username = uniqueName('app_user');
    const password = hostilePassword();
    watch.values.push(password);
    await createRole(username, password);
    const host = `${uniqueName('muejam')}.abcdefghijkl.us-east-1.rds.amazonaws.com`;
    const environment = uniqueName('prod');
    const { postgres } = stack();
    await createSecret(`${environment}/database/primary`, {
      host,
      port: String(postgres.port),
      database: 'postgres',
      username,
      password,
    });
    const { client } = appClient();
    const secrets = createSecrets({ client, env: { ENVIRONMENT: environment }, logger: logger() });
    const route = { host: postgres.host, port: postgres.port };

    try {
      // Act: the rotation's connector (control), then the application's pg config, same server.
      const database = await secrets.database();
      const rotation = routedConnector({ [host]: route }, loadDatabaseRotationConfig({}).database);
      await (await rotation.connect(database, password)).close();
      const application = await currentUser({ ...database.pg, ...route });

      // Assess
      expect(database.sslmode).toBe('verify-full');
      expect(application).toEqual({ user: username, tls: true });
      expect(new URL(database.connectionString).searchParams.get('sslrootcert')).toBe(
        join(root, RDS_CA_BUNDLE_FILE),
      );
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('connects without TLS when the secret says sslmode disable', async () => {
    const { username, secrets } = await databaseSecrets('disable');

    expect(await currentUser((await secrets.database()).pg)).toEqual({ user: username, tls: false });
  });
});

describe('createWorkerSecretReader', () => {
  let resend: FakeResend;

  beforeAll(async () => {
    resend = await startFakeResend();
  });

  afterAll(async () => {
    await resend?.close();
  });

  it('reads AWSCURRENT from Secrets Manager on every call, by name or ARN, whatever the environment says', async () => {
    vi.stubEnv('USE_SECRETS_MANAGER', 'False');
    vi.stubEnv('SECRETS_ENV_FALLBACK', 'all');
    const name = `${uniqueName('prod')}/api-keys/resend-admin`;
    const value = resendValue();
    const arn = await createSecret(name, value);
    const { client, calls } = appClient();
    const read = createWorkerSecretReader({ client, logger: logger() });

    const first = await read(name);
    const next = resendValue('next');
    await putValue(arn, next);
    const second = await read(arn);

    expect(first.api_key).toBe(value.api_key);
    expect(second.api_key).toBe(next.api_key);
    expect(calls.count(GET)).toBe(2);
    expect(auditLines(watch.text()).map((line) => line.source)).toEqual([
      'secrets-manager',
      'secrets-manager',
    ]);
    expect(await watch.rejectionOf(read(`${name}-missing`))).toBeInstanceOf(SecretNotFoundError);
  });

  it("serves as a provider's readSecret: Resend manages a sending key with the admin key it reads", async () => {
    const admin = resend.seedKey({ name: uniqueName('admin'), permission: 'full_access' });
    const sending = resend.seedKey({ name: uniqueName('sending'), permission: 'sending_access' });
    watch.values.push(admin.token, sending.token);
    // Provider credentials live under {environment}/rotation/, the rotated secret's environment.
    const environment = uniqueName('prod');
    const adminName = `${environment}/rotation/resend-admin`;
    await createSecret(adminName, { api_key: admin.token, api_key_id: admin.id });
    const { client } = appClient();
    const readSecret: ProviderContext['readSecret'] = createWorkerSecretReader({ client, logger: logger() });
    const context = {
      ...providerContext({ secretName: `${environment}/api-keys/resend`, token: crypto.randomUUID() }),
      readSecret,
    };
    const current: ResendSecret = {
      api_key: sending.token,
      api_key_id: sending.id,
      api_key_name: 'sending',
      permission: 'sending_access',
      admin_secret_id: adminName,
    };

    const issued = await createResendProvider({ baseUrl: resend.url }).issue({
      current,
      staged: undefined,
      keep: [current],
      context,
    });
    watch.values.push(String(issued.api_key));

    expect(resend.keys().find((key) => key.id === issued.api_key_id)?.permission).toBe('sending_access');
    expect(auditLines(watch.text())).toEqual([
      expect.objectContaining({ secretName: adminName, source: 'secrets-manager', outcome: 'success' }),
    ]);
  });
});
