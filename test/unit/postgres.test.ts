import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  loadDatabaseRotationConfig,
  loadPasswordPolicy,
} from '../../shared/config/index.js';
import { DEFAULT_EXCLUDED_CHARACTERS } from '../../shared/password/index.js';
import {
  alterRolePasswordSql,
  postgresSecretSchema,
  quoteIdentifier,
  quoteLiteral,
  scramSha256Verifier,
  tlsOptions,
  withPassword,
} from '../../shared/postgres/index.js';

describe('quoteIdentifier', () => {
  it('wraps a name in double quotes and doubles inner quotes, keeping case and characters', () => {
    expect(quoteIdentifier('MixedCase')).toBe('"MixedCase"');
    expect(quoteIdentifier('we"ird;name')).toBe('"we""ird;name"');
    expect(quoteIdentifier('ünïcødé_用户')).toBe('"ünïcødé_用户"');
  });

  it('refuses a NUL character', () => {
    expect(() => quoteIdentifier('a\0b')).toThrow(TypeError);
  });
});

describe('quoteLiteral', () => {
  it('doubles single quotes and leaves backslashes literal', () => {
    expect(quoteLiteral(`it's`)).toBe(`'it''s'`);
    expect(quoteLiteral('a\\b')).toBe(`'a\\b'`);
  });
});

describe('scramSha256Verifier', () => {
  it('computes the verifier PostgreSQL stores for a password (RFC 5802 keys)', () => {
    const salt = Buffer.from('0123456789abcdef');
    const verifier = scramSha256Verifier('correct-horse', salt);
    const salted = pbkdf2Sync('correct-horse', salt, 4096, 32, 'sha256');
    const stored = createHash('sha256')
      .update(createHmac('sha256', salted).update('Client Key').digest())
      .digest();
    const server = createHmac('sha256', salted).update('Server Key').digest();
    expect(verifier).toBe(
      `SCRAM-SHA-256$4096:${salt.toString('base64')}$${stored.toString('base64')}:${server.toString('base64')}`,
    );
  });

  it('uses a fresh salt each time', () => {
    expect(scramSha256Verifier('same')).not.toBe(scramSha256Verifier('same'));
  });

  it('refuses passwords SASLprep would change', () => {
    expect(() => scramSha256Verifier('ünicode')).toThrow(TypeError);
    expect(() => scramSha256Verifier('with space')).toThrow(TypeError);
  });

  it('never puts the password in the ALTER ROLE statement', () => {
    const sql = alterRolePasswordSql('app"user', 'Secret-Password-123');
    expect(sql).toMatch(/^ALTER ROLE "app""user" WITH PASSWORD 'SCRAM-SHA-256\$4096:/);
    expect(sql).not.toContain('Secret-Password-123');
  });
});

describe('postgresSecretSchema', () => {
  const seed = {
    connection_string: 'postgresql://muejam_user:pw@db.example.com:5432/muejam',
    host: 'db.example.com',
    port: '5432',
    database: 'muejam',
    username: 'muejam_user',
    password: 'pw',
    rotated_at: '2024-01-01T00:00:00Z',
  };

  it('reads the seed shape, with TLS verify-full by default', () => {
    expect(postgresSecretSchema.parse(seed)).toEqual({
      host: 'db.example.com',
      port: 5432,
      database: 'muejam',
      username: 'muejam_user',
      password: 'pw',
      sslmode: 'verify-full',
      sslmodeFrom: 'default',
      connectionString: seed.connection_string,
    });
  });

  it('reads the RDS shape', () => {
    const rds = { engine: 'postgres', host: 'h', port: 5433, username: 'u', password: 'p', dbname: 'app' };
    expect(postgresSecretSchema.parse(rds)).toMatchObject({
      port: 5433,
      database: 'app',
      sslmode: 'verify-full',
    });
  });

  it('takes sslmode from the connection string when the field is absent', () => {
    const value = { ...seed, connection_string: `${seed.connection_string}?sslmode=require` };
    expect(postgresSecretSchema.parse(value).sslmode).toBe('require');
  });

  it.each(['prefer', 'allow'])('refuses sslmode=%s, which can fall back to plaintext', (mode) => {
    expect(postgresSecretSchema.safeParse({ ...seed, sslmode: mode }).success).toBe(false);
    const url = { ...seed, connection_string: `${seed.connection_string}?sslmode=${mode}` };
    expect(postgresSecretSchema.safeParse(url).success).toBe(false);
  });

  it('reports a connection string that is not a URL as a field issue, without its value', () => {
    const result = postgresSecretSchema.safeParse({ ...seed, connection_string: 'not a url hunter2-pass' });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([
      ['connection_string', 'must be a postgresql:// URL'],
    ]);
    expect(JSON.stringify(result.error?.issues)).not.toContain('hunter2-pass');
  });

  it('refuses another engine, a bad port, a too long user name, and names the field without its value', () => {
    const result = postgresSecretSchema.safeParse({
      ...seed,
      engine: 'mysql',
      port: '99999',
      username: 'x'.repeat(64),
      password: 'hunter2-value',
    });
    expect(result.success).toBe(false);
    const issues = result.error?.issues.map((issue) => issue.path.join('.')) ?? [];
    expect(issues).toEqual(['engine', 'port', 'username']);
    expect(JSON.stringify(result.error?.issues)).not.toContain('hunter2-value');
  });
});

describe('withPassword', () => {
  it('replaces the password, percent-encoded, and keeps the rest of the URL', () => {
    const url = withPassword('postgresql://u:old@h:5432/db?sslmode=require', `p@ss:/?#%'"`);
    expect(url).toBe("postgresql://u:p%40ss%3A%2F%3F%23%25'%22@h:5432/db?sslmode=require");
    expect(decodeURIComponent(new URL(url).password)).toBe(`p@ss:/?#%'"`);
  });
});

describe('tlsOptions', () => {
  it('maps libpq modes to TLS options and never falls back to plaintext', () => {
    expect(tlsOptions('disable', undefined)).toBe(false);
    expect(tlsOptions('require', undefined)).toEqual({ rejectUnauthorized: false });
    // As libpq with a root certificate: require with a CA configured verifies the chain, not the host.
    const requireWithCa = tlsOptions('require', 'CA');
    expect(requireWithCa).toMatchObject({ rejectUnauthorized: true, ca: 'CA' });
    expect(
      requireWithCa ? requireWithCa.checkServerIdentity?.('other-host', {} as never) : 'no options',
    ).toBeUndefined();
    expect(tlsOptions('verify-full', 'CA')).toEqual({ rejectUnauthorized: true, ca: 'CA' });
    const verifyCa = tlsOptions('verify-ca', undefined);
    expect(verifyCa).toMatchObject({ rejectUnauthorized: true });
    expect(
      verifyCa ? verifyCa.checkServerIdentity?.('other-host', {} as never) : 'no options',
    ).toBeUndefined();
  });
});

describe('database rotation configuration', () => {
  it('has defaults', () => {
    expect(loadDatabaseRotationConfig({})).toEqual({
      password: {
        length: 32,
        excludeCharacters: DEFAULT_EXCLUDED_CHARACTERS,
        excludeUppercase: false,
        excludeLowercase: false,
        excludeNumbers: false,
        excludePunctuation: false,
        requireEachIncludedType: true,
      },
      database: { connectTimeoutMs: 5000, queryTimeoutMs: 10000 },
      masterPasswordWait: { timeoutMs: 40_000, intervalMs: 2000 },
    });
  });

  it('keeps an empty exclusion list, and spaces in it', () => {
    expect(loadPasswordPolicy({ PASSWORD_EXCLUDE_CHARACTERS: '' }).excludeCharacters).toBe('');
    expect(loadPasswordPolicy({ PASSWORD_EXCLUDE_CHARACTERS: ' /' }).excludeCharacters).toBe(' /');
  });

  it('throws a ConfigurationError naming the variable', () => {
    expect(() => loadPasswordPolicy({ PASSWORD_LENGTH: '8' })).toThrow(ConfigurationError);
    expect(() => loadPasswordPolicy({ PASSWORD_LENGTH: 'long' })).toThrow(
      /PASSWORD_LENGTH must be an integer from 16 to 4096/,
    );
  });
});
