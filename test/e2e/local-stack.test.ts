import { readFileSync } from 'node:fs';
import { ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const stack = inject('stack');
const ca = readFileSync(stack.postgres.caFile, 'utf8');

function client(overrides: Partial<pg.ClientConfig> = {}): pg.Client {
  const c = new pg.Client({
    host: stack.postgres.host,
    port: stack.postgres.port,
    user: stack.postgres.superuser,
    password: stack.postgres.superuserPassword,
    database: 'postgres',
    ssl: { ca, rejectUnauthorized: true },
    connectionTimeoutMillis: 5_000,
    ...overrides,
  });
  c.on('error', () => undefined);
  return c;
}

async function selectOne(c: pg.Client): Promise<number> {
  await c.connect();
  try {
    const result = await c.query<{ one: number }>('select 1 as one');
    return result.rows[0]?.one ?? -1;
  } finally {
    await c.end();
  }
}

describe('local stack', () => {
  it('accepts the superuser password over TLS verified against the CA (IP and localhost)', async () => {
    expect(await selectOne(client())).toBe(1);
    expect(await selectOne(client({ host: 'localhost' }))).toBe(1);

    const c = client();
    await c.connect();
    try {
      const { rows } = await c.query<{ ssl: boolean; version: string }>(
        'select ssl, version() as version from pg_stat_ssl where pid = pg_backend_pid()',
      );
      expect(rows[0]?.ssl).toBe(true);
      expect(rows[0]?.version).toMatch(/^PostgreSQL 15\./);
    } finally {
      await c.end();
    }
  });

  it('refuses a TLS certificate that does not chain to the CA', async () => {
    await expect(selectOne(client({ ssl: { rejectUnauthorized: true } }))).rejects.toThrow(
      /self[- ]signed|unable to (get|verify)/i,
    );
  });

  it('refuses a wrong password with SQLSTATE 28P01', async () => {
    await expect(selectOne(client({ password: 'definitely-wrong' }))).rejects.toMatchObject({
      code: '28P01',
    });
  });

  it('answers Secrets Manager ListSecrets through moto', async () => {
    const sm = new SecretsManagerClient({
      endpoint: stack.awsEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    try {
      const response = await sm.send(new ListSecretsCommand({}));
      expect(response.$metadata.httpStatusCode).toBe(200);
      expect(Array.isArray(response.SecretList)).toBe(true);
    } finally {
      sm.destroy();
    }
  });

  describe('tcp proxy', () => {
    let proxy: TcpProxy | undefined;
    afterEach(async () => {
      await proxy?.close();
      proxy = undefined;
    });

    it('forwards, then makes the database unreachable (not an auth error), then recovers', async () => {
      proxy = await startTcpProxy({ host: stack.postgres.host, port: stack.postgres.port });
      const viaProxy = (): pg.Client => client({ host: proxy?.host, port: proxy?.port });

      expect(await selectOne(viaProxy())).toBe(1);

      // A connection that is open when the database goes away is cut.
      const open = viaProxy();
      await open.connect();
      const cut = new Promise<Error>((resolve) => open.once('error', resolve));
      proxy.setAvailable(false);
      expect(await cut).toBeInstanceOf(Error);
      await expect(open.query('select 1')).rejects.toThrow();
      await open.end().catch(() => undefined);

      // New connections fail at the network level, not with an authentication error.
      const failure = await selectOne(viaProxy()).then(
        () => undefined,
        (error: unknown) => error as Error & { code?: string },
      );
      expect(failure).toBeInstanceOf(Error);
      expect(failure?.code).not.toBe('28P01');
      expect(failure?.code === 'ECONNRESET' || /terminated|socket|closed/i.test(failure?.message ?? '')).toBe(
        true,
      );

      proxy.setAvailable(true);
      expect(await selectOne(viaProxy())).toBe(1);
    });
  });
});
