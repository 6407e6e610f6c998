/**
 * Review 9, finding: the allowed environment fallback does not stand in when Secrets Manager
 * does not answer (a blackholed VPC endpoint, a hung proxy): `createSecrets()` builds its
 * client with the SDK's defaults (no connection or request timeout, a 300-second socket
 * timeout, three attempts), so a read waits for minutes before it fails and the fallback can
 * run. A Lambda or an HTTP request times out long before.
 *
 * Production wiring: no client is passed; the default client finds the endpoint through
 * `AWS_ENDPOINT_URL`, as it finds AWS's through `AWS_REGION`.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSecrets } from '../../shared/secrets/index.js';

let server: Server | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  vi.unstubAllEnvs();
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
});

/** A Secrets Manager endpoint that accepts connections and never answers. */
async function silentEndpoint(): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  server = createServer((socket) => {
    connections++;
    sockets.push(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, connections: () => connections };
}

describe('the environment fallback when Secrets Manager does not answer (review 9)', () => {
  it('stands in within seconds where SECRETS_ENV_FALLBACK allows it', async () => {
    // Prepare
    const endpoint = await silentEndpoint();
    const fallbackKey = 're_review9_fallback_key';
    for (const [name, value] of Object.entries({
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: endpoint.url,
      AWS_ACCESS_KEY_ID: 'AKIAREVIEW9TEST00000',
      AWS_SECRET_ACCESS_KEY: 'review9-test-only',
      USE_SECRETS_MANAGER: 'True',
      ENVIRONMENT: 'production',
      SECRETS_ENV_FALLBACK: 'resend',
      RESEND_API_KEY: fallbackKey,
    }))
      vi.stubEnv(name, value);
    const secrets = createSecrets({ logger: new Logger({ serviceName: 'review9' }) });

    // Act: an application request with a 10-second budget.
    const outcome = await Promise.race([
      secrets.resend().then(
        (value) => ({ value: value.api_key }),
        (error: Error) => ({ error: error.name }),
      ),
      new Promise<{ timedOut: true }>((resolve) => setTimeout(() => resolve({ timedOut: true }), 10_000)),
    ]);

    // Assess: the read reached the silent endpoint, and the fallback answered in time.
    expect(endpoint.connections()).toBeGreaterThan(0);
    expect(outcome).toEqual({ value: fallbackKey });
  }, 30_000);
});
