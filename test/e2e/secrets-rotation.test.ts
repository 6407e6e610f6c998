/**
 * A rotation in the middle of use: an application keeps working across a real rotation by
 * the product's own handlers. It holds the old value in its cache; after the rotation its
 * next operation fails once with an authentication error (PostgreSQL 28P01, Resend 401),
 * `withFreshCredentials` reads the secret anew, and the retry succeeds with the new value.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildRotateApiKeyHandler } from '../../functions/rotate-api-key/handler.js';
import { buildRotateDatabaseHandler } from '../../functions/rotate-database/handler.js';
import { createProviders } from '../../shared/api-keys/providers/index.js';
import { resendKeyName } from '../../shared/api-keys/providers/resend/index.js';
import { loadApiKeyRotationConfig, loadDatabaseRotationConfig } from '../../shared/config/index.js';
import { createSecrets, type FreshAttempt, type Secrets } from '../../shared/secrets/index.js';
import { auditLines, logLines } from '../support/audit-lines.js';
import {
  createRole,
  createRotatingSecret,
  hostilePassword,
  runSteps,
  secretsManager,
  seedDatabaseSecret,
  stack,
  startRotation,
  uniqueName,
  valueAt,
} from '../support/bed.js';
import { type FakeResend, startFakeResend } from '../support/fakes/resend-server.js';
import { LeakWatch } from '../support/leak-watch.js';
import { countCommands } from '../support/sdk-calls.js';

const GET = 'GetSecretValueCommand';
const FAST_RETRY = { attempts: 2, baseDelayMs: 1, maxDelayMs: 2, timeoutMs: 2000 };

/** The rotation functions' client (Secrets Manager's side); the application has its own. */
const sm = secretsManager();
let watch: LeakWatch;

/** The application: its own counted client, and the library configured as a deployment would be. */
function application(env: Record<string, string>) {
  const client = new SecretsManagerClient({
    region: 'us-east-1',
    endpoint: stack().awsEndpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const calls = countCommands(client);
  const secrets = createSecrets({ client, env, logger: new Logger({ serviceName: 'muejam-app' }) });
  return { secrets, calls };
}

/** The version ids of the audit lines so far, with their sources. */
function reads(): [unknown, unknown][] {
  // The application's lines only: the rotation worker audits its own reads (service rotate-api-key).
  return auditLines(watch.text())
    .filter((line) => line.service === 'muejam-app')
    .map((line) => [line.source, line.versionId]);
}

/** The warnings withFreshCredentials wrote before its retries: the kind and code of each failure. */
function retries(): { kind: unknown; code: unknown }[] {
  return logLines(watch.text())
    .filter((line) => line.message.startsWith('credentials refused'))
    .map((line) => ({ kind: line.kind, code: line.code }));
}

beforeEach(() => {
  watch = new LeakWatch();
});

afterEach(() => {
  expect(watch.stop(), 'secret values in captured output or errors').toEqual([]);
});

describe('a PostgreSQL connection across a rotation by rotateDatabase', () => {
  /** The application's operation: a new connection from the secret's pg config (TLS verify-full). */
  async function whoAmI(secrets: Secrets, attempt: FreshAttempt): Promise<string> {
    const client = new pg.Client((await secrets.database(attempt)).pg);
    client.on('error', () => undefined);
    try {
      await client.connect();
      const { rows } = await client.query<{ user: string }>('SELECT current_user AS user');
      return rows[0]?.user ?? '';
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  it('fails once with 28P01 on the cached password, reads the new one and connects', async () => {
    const environment = uniqueName('prod');
    const username = uniqueName('app_user');
    const password = hostilePassword();
    watch.values.push(password);
    await createRole(username, password);
    const caFile = stack().postgres.caFile;
    const { arn, token } = await createRotatingSecret(
      sm,
      `${environment}/database/primary`,
      seedDatabaseSecret({ username, password, extra: { sslmode: 'verify-full' } }),
    );
    const { secrets, calls } = application({ ENVIRONMENT: environment, DB_TLS_CA_FILE: caFile });
    const use = () => secrets.withFreshCredentials((attempt) => whoAmI(secrets, attempt));
    expect(await use()).toBe(username);
    expect(await use()).toBe(username);
    const oldVersion = reads()[0]?.[1];

    const rotated = await runSteps(
      buildRotateDatabaseHandler({
        config: loadDatabaseRotationConfig({ DB_TLS_CA_FILE: caFile }),
        secretsManager: sm,
        logger: new Logger({ serviceName: 'rotate-database' }),
      }),
      arn,
      token,
    );
    const newPassword = (await valueAt(sm, arn, 'AWSCURRENT'))?.password ?? '';
    watch.values.push(newPassword);
    const afterRotation = await use();
    const later = await use();

    expect(rotated.map((result) => (result as { outcome: string }).outcome)).toEqual([
      'done',
      'done',
      'done',
      'done',
    ]);
    expect(newPassword).not.toBe(password);
    expect(afterRotation).toBe(username);
    expect(later).toBe(username);
    expect(retries()).toEqual([{ kind: 'postgres', code: '28P01' }]);
    expect(calls.count(GET)).toBe(2);
    expect(reads()).toEqual([
      ['secrets-manager', oldVersion],
      ['cache', oldVersion],
      ['cache', oldVersion],
      ['secrets-manager', token],
      ['cache', token],
    ]);
  });
});

describe('a Resend call across a rotation by rotateApiKey', () => {
  let resend: FakeResend;

  beforeAll(async () => {
    resend = await startFakeResend();
    // Resend's sending endpoint, as its API reference documents it: a key that does not
    // exist or was deleted gets 401 validation_error "API key is invalid".
    resend.server.route('POST', '/emails', (request) => {
      const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
      if (!resend.keys().some((key) => key.token === token)) {
        return {
          status: 401,
          body: { statusCode: 401, name: 'validation_error', message: 'API key is invalid' },
        };
      }
      return { status: 200, body: { id: crypto.randomUUID() } };
    });
  });

  afterAll(async () => {
    await resend?.close();
  });

  /** An application's HTTP error: the status is what withFreshCredentials reads. */
  class HttpError extends Error {
    readonly status: number;
    constructor(status: number) {
      super(`Resend answered HTTP ${status}`);
      this.name = 'HttpError';
      this.status = status;
    }
  }

  /** The application's operation: send an email with the key from the secret. */
  async function sendEmail(secrets: Secrets, attempt: FreshAttempt): Promise<string> {
    const { api_key } = await secrets.resend(attempt);
    const response = await fetch(`${resend.url}/emails`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api_key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ from: 'library@muejam.example', to: 'reader@example.com', subject: 'Due soon' }),
    });
    if (!response.ok) throw new HttpError(response.status);
    return ((await response.json()) as { id: string }).id;
  }

  it('fails once with 401 on the cached (revoked) key, reads the new key and sends', async () => {
    const environment = uniqueName('prod');
    const created = await sm.send(new CreateSecretCommand({ Name: `${environment}/api-keys/resend` }));
    const arn = created.ARN ?? '';
    // The starting key as an earlier rotation named it (the marker of this secret and its version),
    // so that its revocation can prove it is this secret's.
    const firstVersion = crypto.randomUUID();
    const { id, token: oldKey } = resend.seedKey({
      name: resendKeyName(uniqueName('muejam'), arn, firstVersion),
      permission: 'full_access',
    });
    watch.values.push(oldKey);
    await sm.send(
      new PutSecretValueCommand({
        SecretId: arn,
        ClientRequestToken: firstVersion,
        SecretString: JSON.stringify({ api_key: oldKey, api_key_id: id, rotated_at: '2024-01-01T00:00:00Z' }),
      }),
    );
    const { secrets, calls } = application({ ENVIRONMENT: environment });
    const use = () => secrets.withFreshCredentials((attempt) => sendEmail(secrets, attempt));
    await use();
    const oldVersion = reads()[0]?.[1];

    // A grace period of 0 revokes the old key at finishSecret, so the cached key stops working at once.
    const config = loadApiKeyRotationConfig({
      ROTATION_GRACE_PERIOD_SECONDS: '0',
      RESEND_API_URL: resend.url,
    });
    const handler = buildRotateApiKeyHandler({
      config,
      secretsManager: sm,
      logger: new Logger({ serviceName: 'rotate-api-key' }),
      providers: createProviders(config, { retry: FAST_RETRY }),
    });
    const token = await startRotation(sm, arn);
    await runSteps(handler, arn, token);
    const newKey = (await valueAt(sm, arn, 'AWSCURRENT'))?.api_key ?? '';
    watch.values.push(newKey);
    const sent = await use();

    expect(resend.keys().map((key) => key.token)).not.toContain(oldKey);
    expect(newKey).not.toBe(oldKey);
    expect(typeof sent).toBe('string');
    expect(
      resend.server.requests
        .filter((request) => request.path === '/emails')
        .map((request) => request.headers.authorization === `Bearer ${newKey}`),
    ).toEqual([false, false, true]);
    expect(retries()).toEqual([{ kind: 'http', code: '401' }]);
    expect(calls.count(GET)).toBe(2);
    expect(reads()).toEqual([
      ['secrets-manager', oldVersion],
      ['cache', oldVersion],
      ['secrets-manager', token],
    ]);
  });

  it('does not retry a refusal that is not an authentication error', async () => {
    const environment = uniqueName('prod');
    const { token: key } = resend.seedKey({ name: uniqueName('muejam') });
    watch.values.push(key);
    await sm.send(
      new CreateSecretCommand({
        Name: `${environment}/api-keys/resend`,
        SecretString: JSON.stringify({ api_key: key }),
      }),
    );
    const { secrets, calls } = application({ ENVIRONMENT: environment });
    resend.failNext({ status: 500, body: { name: 'internal_server_error' } });

    const error = await secrets
      .withFreshCredentials((attempt) => sendEmail(secrets, attempt))
      .catch((e: Error) => e);

    expect(error).toMatchObject({ name: 'HttpError', status: 500 });
    expect(retries()).toEqual([]);
    expect(calls.count(GET)).toBe(1);
  });
});
