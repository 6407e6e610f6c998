/**
 * Review 9, finding: `connectionString` silently keeps another host when the secret's `host`
 * is one the WHATWG URL `hostname` setter refuses (it ignores the assignment, without an
 * error): a Unix-socket directory (which node-postgres, libpq and the schema all accept), an
 * IPv6 address with a zone, a host with a typo'd space. The string then carries the secret's
 * current user and password to the host of a stale `connection_string`, or to `localhost`,
 * not to the host the secret names, with TLS unverified for `require`.
 */
import { describe, expect, it } from 'vitest';
import type { PostgresSecret } from '../../shared/postgres/secret.js';
import { databaseCredentials } from '../../shared/secrets/index.js';

const secret = (host: string, connectionString?: string): PostgresSecret => ({
  host,
  port: 5432,
  database: 'muejam',
  username: 'muejam_user',
  password: 'current-password',
  sslmode: 'require',
  ...(connectionString ? { connectionString } : {}),
});

/** The host libpq connects to for a URI: its `host` parameter, else its host part. */
function targetOf(connectionString: string): string {
  const url = new URL(connectionString);
  return url.searchParams.get('host') ?? decodeURIComponent(url.hostname).replace(/^\[(.*)\]$/, '$1');
}

describe("the database getter's connectionString host (review 9)", () => {
  it.each([
    [
      'a Unix-socket directory, with a stale connection_string',
      '/var/run/postgresql',
      'postgresql://muejam_user:old@old-db.example.com:5432/muejam',
    ],
    [
      'an IPv6 address with a zone, with a stale connection_string',
      'fe80::1%eth0',
      'postgresql://muejam_user:old@old-db.example.com:5432/muejam',
    ],
    ['an IPv6 address with a zone, without a connection_string', 'fe80::1%eth0', undefined],
    ['a Unix-socket directory, without a connection_string', '/var/run/postgresql', undefined],
  ])('names the secret host or refuses, never another host: %s', (_title, host, connectionString) => {
    // Act
    let built: string | Error;
    try {
      built = databaseCredentials(secret(host, connectionString)).connectionString;
    } catch (error) {
      built = error as Error;
    }

    // Assess: an error is acceptable; a string must send the password to `host` and nowhere else.
    if (typeof built === 'string') {
      expect(targetOf(built), built.replace('current-password', '***')).toBe(host);
      expect(decodeURIComponent(new URL(built).username)).toBe('muejam_user');
    }
  });
});
