/**
 * Review 9, finding: `withFreshCredentials` takes Secrets Manager refusing the application's
 * OWN credentials for a rotated secret. The getter's AccessDeniedError carries the SDK's
 * `UnrecognizedClientException` as `cause`; the cause-chain walk finds that AWS code, so the
 * operation runs again with `refresh`, which cannot help (the secret was never read). The
 * refusal is read twice and audited twice at ERROR, so the README's access-denied metric
 * counts two unauthorized attempts for one.
 *
 * A private moto server with request authentication on, as in
 * test/e2e/secrets-access-denied.test.ts; the caller's access key is unknown to it.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessDeniedError, createSecrets } from '../../shared/secrets/index.js';
import { auditLines } from '../support/audit-lines.js';
import { uniqueName } from '../support/bed.js';
import { LeakWatch } from '../support/leak-watch.js';
import { startMoto } from '../support/local-stack.js';
import { enableMotoAuth } from '../support/moto-auth.js';
import { withAwsJsonErrors } from '../support/moto-json-errors.js';
import { countCommands } from '../support/sdk-calls.js';

let moto: { endpoint: string; stop(): Promise<void> };

beforeAll(async () => {
  moto = await startMoto();
  await enableMotoAuth(moto.endpoint);
});

afterAll(async () => {
  await moto?.stop();
});

describe('withFreshCredentials when Secrets Manager refuses the caller (review 9)', () => {
  it('does not read the secret again: one attempt, one access-denied audit line', async () => {
    // Prepare: an application whose access key AWS does not know (deleted, or never valid).
    const watch = new LeakWatch();
    const stranger = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: `unknown-${uniqueName('k')}` };
    watch.values.push(stranger.secretAccessKey);
    const client = withAwsJsonErrors(
      new SecretsManagerClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: stranger }),
    );
    const calls = countCommands(client);
    const secrets = createSecrets({
      client,
      env: { ENVIRONMENT: 'production' },
      logger: new Logger({ serviceName: 'review9' }),
    });

    // Act
    const error = await secrets
      .withFreshCredentials(async (attempt) => (await secrets.resend(attempt)).api_key)
      .catch((e: Error) => e);
    const lines = auditLines(watch.text());
    const leaks = watch.stop();

    // Assess
    expect(error).toMatchObject({ name: 'AccessDeniedError', code: 'UnrecognizedClientException' });
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect(leaks).toEqual([]);
    expect(lines.filter((line) => line.outcome === 'access-denied')).toHaveLength(1);
    expect(calls.count('GetSecretValueCommand')).toBe(1);
  });
});
