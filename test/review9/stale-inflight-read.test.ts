/**
 * Review 9, finding: a read that was in flight before a rotation and completes after a
 * `refresh` (the retry of `withFreshCredentials`) overwrites the fresh value in the cache
 * with the old one. Every later read then gets the old (revoked) credential again for the
 * whole TTL, and each operation pays a failure and a retry, or fails outright without
 * `withFreshCredentials`. Concurrent requests in one Node process make this ordering routine.
 *
 * The first GetSecretValue is answered by moto (the old version) and its answer held back
 * until the refresh has completed: a slow response, nothing else.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { createSecrets } from '../../shared/secrets/index.js';
import { stack, uniqueName } from '../support/bed.js';
import { LeakWatch } from '../support/leak-watch.js';

const awsConfig = () => ({
  region: 'us-east-1',
  endpoint: stack().awsEndpoint,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});

/** Holds back the answer of the client's first GetSecretValue until `release()`. */
function slowFirstAnswer(client: SecretsManagerClient) {
  let release: () => void = () => undefined;
  let answered: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const arrived = new Promise<void>((resolve) => {
    answered = resolve;
  });
  let calls = 0;
  let held = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const first = context.commandName === 'GetSecretValueCommand' && ++calls === 1;
      const out = await next(args);
      if (first) {
        held++;
        answered();
        await gate;
      }
      return out;
    },
    { step: 'initialize', name: 'review9SlowFirstAnswer' },
  );
  return { release, arrived, held: () => held };
}

describe('the cache across a rotation with a read in flight (review 9)', () => {
  it('keeps the value a refresh read, not an older answer that arrived later', async () => {
    // Prepare
    const watch = new LeakWatch();
    const admin = new SecretsManagerClient(awsConfig());
    const environment = uniqueName('prod');
    const oldKey = `re_${uniqueName('old')}`;
    const newKey = `re_${uniqueName('new')}`;
    watch.values.push(oldKey, newKey);
    const created = await admin.send(
      new CreateSecretCommand({
        Name: `${environment}/api-keys/resend`,
        SecretString: JSON.stringify({ api_key: oldKey }),
      }),
    );
    const client = new SecretsManagerClient(awsConfig());
    const slow = slowFirstAnswer(client);
    const secrets = createSecrets({ client, env: { ENVIRONMENT: environment }, logger: new Logger() });

    // Act: request A reads (slow answer: the old key); the secret rotates; request B's retry
    // refreshes (the new key); A's answer arrives; request C reads.
    const requestA = secrets.resend();
    await slow.arrived;
    await admin.send(
      new PutSecretValueCommand({ SecretId: created.ARN, SecretString: JSON.stringify({ api_key: newKey }) }),
    );
    const requestB = await secrets.resend({ refresh: true });
    slow.release();
    const a = await requestA;
    const requestC = await secrets.resend();
    const leaks = watch.stop();

    // Assess
    expect(slow.held()).toBe(1);
    expect(a.api_key).toBe(oldKey);
    expect(requestB.api_key).toBe(newKey);
    expect(requestC.api_key, 'a read after the refresh gets the rotated-away key back').toBe(newKey);
    expect(leaks).toEqual([]);
  });
});
