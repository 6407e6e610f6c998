/**
 * Finding: `sslmode` require or verify-ca to an RDS database accepts a certificate from any
 * public CA, for any host name.
 *
 * For an RDS target the connector (shared/postgres/connection.ts trustFor) trusts
 * rdsTrustedCertificates() (shared/postgres/tls.ts), which is the RDS bundle PLUS every one of
 * Node's ~144 public roots; tlsOptions then turns the host name check off for require (with a
 * CA) and verify-ca. A chain check without a name check is only as strong as the set of CAs:
 * here anyone with a free Let's Encrypt certificate for a domain of their own, on the network
 * path, receives the password (PostgreSQL 16's libpq refuses exactly this combination:
 * sslrootcert=system demands verify-full). The issue asks that require with a CA "verify the
 * CA, as libpq does" (libpq with the RDS bundle trusts the RDS CAs only).
 *
 * The test drives the production connector and records the options it gives node-postgres.
 */
import { X509Certificate } from 'node:crypto';
import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadDatabaseRotationConfig } from '../../shared/config/index.js';
import { createPostgresConnector, type SslMode } from '../../shared/postgres/index.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** The TLS options the production connector hands node-postgres for one target. */
async function tlsFor(sslmode: SslMode): Promise<ConnectionOptions> {
  let seen: pg.ClientConfig | undefined;
  vi.spyOn(pg, 'Client').mockImplementation(function (this: unknown, config?: string | pg.ClientConfig) {
    seen = config as pg.ClientConfig;
    throw new Error('recorded: no connection made');
  } as unknown as typeof pg.Client);
  const connector = createPostgresConnector(loadDatabaseRotationConfig({}).database);
  await connector
    .connect(
      {
        host: 'prod.abcdefghijkl.us-east-1.rds.amazonaws.com',
        port: 5432,
        database: 'postgres',
        username: 'app',
        sslmode,
        rds: { kind: 'instance', identifier: 'prod' },
      },
      'unused',
    )
    .catch(() => undefined);
  if (!seen || typeof seen.ssl !== 'object') throw new Error('the connector built no TLS options');
  return seen.ssl as ConnectionOptions;
}

const organisation = (pem: string) =>
  new X509Certificate(pem).subject
    .split('\n')
    .filter((line) => line.startsWith('O=') || line.startsWith('CN='))
    .join(', ');

describe('TLS to RDS without a host name check (sslmode require with the RDS bundle, verify-ca)', () => {
  it.each(['require', 'verify-ca'] as const)(
    'with sslmode %s trusts no CA but Amazon’s, since any name is accepted',
    async (sslmode) => {
      // Act
      const options = await tlsFor(sslmode);

      // Assess: the host name is not checked...
      expect(options.checkServerIdentity?.('attacker.example', {} as never)).toBeUndefined();
      // ...so every trusted certificate must be Amazon's (the RDS bundle; Amazon's roots for RDS Proxy).
      const ca = ([] as unknown[]).concat(options.ca ?? []).map(String);
      const foreign = ca.map(organisation).filter((subject) => !/Amazon|Starfield/.test(subject));
      expect(
        foreign.length,
        `non-Amazon CAs trusted without a name check, e.g. ${foreign.slice(0, 3).join(' | ')}`,
      ).toBe(0);
    },
  );
});
