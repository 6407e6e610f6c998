/**
 * A Secrets Manager answer whose body does not parse (a proxy's page, a body cut short): the
 * real SDK client's deserializer throws a SyntaxError whose message quotes the start of the
 * body, which for GetSecretValue is the secret. The errors this product raises name the
 * failure, never quote it (the SDK's error stays their `cause`, which the handler boundary
 * reduces to its name). The SDK runs as deployed; only the server is a local fake.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SecretStore } from '../../shared/rotation/index.js';
import { createWorkerSecretReader } from '../../shared/secrets/index.js';
import { captureOutput, findLeaks } from '../support/bed.js';
import { FakeHttpServer } from '../support/fakes/http-server.js';
import { rejectionOf } from '../support/rejection.js';

/** A body that starts with a secret, as a truncated or foreign answer may. */
const SECRET = 'hunter2-corrupt-body-secret';

let server: FakeHttpServer;
let output: ReturnType<typeof captureOutput>;

const client = () =>
  new SecretsManagerClient({
    region: 'us-east-1',
    endpoint: server.url,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });

beforeAll(async () => {
  server = await FakeHttpServer.start();
  server.route('POST', '/', () => ({
    status: 200,
    body: `${SECRET}", "VersionId": "v1"}`,
    headers: { 'content-type': 'application/x-amz-json-1.1' },
  }));
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  output = captureOutput();
});
afterEach(() => output.stop());

/** The SDK's own error quotes the body: the condition this file guards against holds. */
function expectSdkErrorQuotesTheBody(error: Error): void {
  let cause: unknown = error.cause;
  while (cause instanceof Error && cause.cause !== undefined) cause = cause.cause;
  expect(cause).toBeInstanceOf(SyntaxError);
  expect((cause as Error).message).toContain(SECRET.slice(0, 8));
}

describe('a GetSecretValue answer whose body does not parse', () => {
  it('fails the SecretStore read with a SecretStoreError naming the SyntaxError, never quoting the body', async () => {
    // Act
    const error = await rejectionOf(
      new SecretStore(client()).getVersion(
        'production/api-keys/resend',
        '11111111-1111-4111-8111-111111111111',
      ),
    );

    // Assess
    expect(error).toMatchObject({ name: 'SecretStoreError' });
    expect(error.message).toBe(
      'Secrets Manager could not read version 11111111-1111-4111-8111-111111111111 of production/api-keys/resend: SyntaxError',
    );
    expectSdkErrorQuotesTheBody(error);
    expect(findLeaks(error.message, [SECRET.slice(0, 8)])).toEqual([]);
  });

  it('fails the secrets library read with an error naming the SyntaxError, never quoting the body', async () => {
    // Prepare
    const read = createWorkerSecretReader({ client: client(), logger: new Logger({ serviceName: 'leaks' }) });

    // Act
    const error = await rejectionOf(read('production/rotation/resend-admin'));

    // Assess
    expect(error.message).toContain('SyntaxError');
    expectSdkErrorQuotesTheBody(error);
    expect(findLeaks(`${error.message}\n${output.text()}`, [SECRET.slice(0, 8)])).toEqual([]);
  });
});
