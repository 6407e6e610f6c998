/**
 * Review 9, finding: a value that fails validation is cached for `SECRETS_CACHE_TTL` (the
 * raw string enters Powertools' cache before the schema runs). After an operator fixes the
 * secret as the README's error table says (`aws secretsmanager put-secret-value`), every read
 * keeps throwing InvalidSecretValueError from the cache for up to 300 seconds, and
 * `withFreshCredentials` does not refresh on it.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { createSecrets, InvalidSecretValueError } from '../../shared/secrets/index.js';
import { auditLines } from '../support/audit-lines.js';
import { stack, uniqueName } from '../support/bed.js';
import { LeakWatch } from '../support/leak-watch.js';
import { countCommands } from '../support/sdk-calls.js';

const awsConfig = () => ({
  region: 'us-east-1',
  endpoint: stack().awsEndpoint,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});

describe('a secret fixed after an invalid value was read (review 9)', () => {
  it('is read from Secrets Manager again, not served broken from the cache', async () => {
    // Prepare: a broken Resend secret, read once by the application.
    const watch = new LeakWatch();
    const admin = new SecretsManagerClient(awsConfig());
    const environment = uniqueName('prod');
    const created = await admin.send(
      new CreateSecretCommand({
        Name: `${environment}/api-keys/resend`,
        SecretString: JSON.stringify({ api_key: 'not-a-resend-key' }),
      }),
    );
    const client = new SecretsManagerClient(awsConfig());
    const calls = countCommands(client);
    const secrets = createSecrets({ client, env: { ENVIRONMENT: environment }, logger: new Logger() });
    const first = await secrets.resend().catch((error: Error) => error);
    const fixed = `re_${uniqueName('fixed')}`;
    watch.values.push(fixed);

    // Act: the operator fixes the value; the application reads again.
    await admin.send(
      new PutSecretValueCommand({ SecretId: created.ARN, SecretString: JSON.stringify({ api_key: fixed }) }),
    );
    const second = await secrets.resend().catch((error: Error) => error);
    const lines = auditLines(watch.text());
    const leaks = watch.stop();

    // Assess
    expect(first).toBeInstanceOf(InvalidSecretValueError);
    expect(lines.map((line) => [line.source, line.outcome])).toEqual([
      ['secrets-manager', 'invalid'],
      ['secrets-manager', 'success'],
    ]);
    expect(second).toMatchObject({ api_key: fixed });
    expect(calls.count('GetSecretValueCommand')).toBe(2);
    expect(leaks).toEqual([]);
  });
});
