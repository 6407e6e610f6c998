import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { GetRandomPasswordCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ConfigurationError,
  loadDatabaseRotationConfig,
  loadPasswordPolicy,
} from '../../shared/config/index.js';
import {
  effectivePasswordPolicy,
  InvalidPasswordPolicyError,
  type PasswordPolicy,
  POSTGRES_USER_LIMITS,
  RDS_CLUSTER_MASTER_LIMITS,
  RDS_INSTANCE_MASTER_LIMITS,
  SecretsManagerPasswordSource,
} from '../../shared/password/index.js';
import {
  createPostgresConnector,
  isRdsHost,
  otherLogin,
  type PostgresTarget,
  postgresSecretSchema,
  RDS_CA_BUNDLE_FILE,
  RdsCaBundleError,
  RoleNameTooLongError,
  RotationMode,
  rdsManagedSecretOwner,
  rdsTrustedCertificates,
  rolePairOf,
  rotationModeOf,
  type SslMode,
  splitPem,
} from '../../shared/postgres/index.js';

const base: PasswordPolicy = { length: 32, excludeCharacters: '' };
const secret = { host: 'db.example.com', username: 'app', password: 'pw' };

describe('effectivePasswordPolicy', () => {
  it("lays a secret's settings over the function's and always excludes what the database refuses", () => {
    const policy = effectivePasswordPolicy(
      base,
      { length: 40, excludeCharacters: 'x' },
      RDS_INSTANCE_MASTER_LIMITS,
      's',
    );
    expect(policy).toEqual({ length: 40, excludeCharacters: 'x/"@' });
  });

  it.each([
    [{ length: 8 }, POSTGRES_USER_LIMITS, 'length 8 is outside 16 to 4096'],
    [
      { length: 42 },
      RDS_CLUSTER_MASTER_LIMITS,
      "an RDS cluster's master user (ModifyDBCluster): length 42 is outside 16 to 41",
    ],
    [{ length: 129 }, RDS_INSTANCE_MASTER_LIMITS, 'length 129 is outside 16 to 128'],
    [
      { excludeUppercase: true, excludeLowercase: true, excludeNumbers: true, excludePunctuation: true },
      POSTGRES_USER_LIMITS,
      'it excludes every character',
    ],
    [
      { excludeCharacters: '0123456789' },
      POSTGRES_USER_LIMITS,
      'require_each_included_type asks for numbers',
    ],
    [
      { length: 16, excludeUppercase: true, excludeLowercase: true, excludePunctuation: true },
      POSTGRES_USER_LIMITS,
      '16 characters from 10 give 53 bits, fewer than the 90 required',
    ],
  ])('refuses %j for its limits, saying why', (override, limits, problem) => {
    expect(() => effectivePasswordPolicy(base, override, limits, 'secret s')).toThrow(
      InvalidPasswordPolicyError,
    );
    expect(() => effectivePasswordPolicy(base, override, limits, 'secret s')).toThrow(problem);
  });

  it('accepts excluding a class entirely when each remaining class keeps a character', () => {
    const policy = effectivePasswordPolicy(
      base,
      { excludePunctuation: true, length: 24 },
      POSTGRES_USER_LIMITS,
      's',
    );
    expect(policy).toMatchObject({ excludePunctuation: true, length: 24 });
  });
});

describe('loadPasswordPolicy', () => {
  it('refuses function settings that make weak passwords with a ConfigurationError', () => {
    expect(() =>
      loadPasswordPolicy({
        PASSWORD_LENGTH: '16',
        PASSWORD_EXCLUDE_UPPERCASE: 'true',
        PASSWORD_EXCLUDE_LOWERCASE: 'true',
        PASSWORD_EXCLUDE_PUNCTUATION: 'true',
      }),
    ).toThrow(ConfigurationError);
  });
});

describe('SecretsManagerPasswordSource', () => {
  const sm = mockClient(SecretsManagerClient);
  beforeEach(() => sm.reset());

  it("asks GetRandomPassword for the policy's length, exclusions and classes, never a space", async () => {
    sm.on(GetRandomPasswordCommand).resolves({ RandomPassword: 'a'.repeat(40) });
    const source = new SecretsManagerPasswordSource(new SecretsManagerClient({}), base);

    await source.generate({
      length: 40,
      excludeCharacters: '/"@',
      excludePunctuation: true,
      requireEachIncludedType: false,
    });

    expect(sm.commandCalls(GetRandomPasswordCommand)[0]?.args[0].input).toEqual({
      PasswordLength: 40,
      ExcludeCharacters: '/"@',
      ExcludePunctuation: true,
      IncludeSpace: false,
      RequireEachIncludedType: false,
    });
  });
});

describe('postgresSecretSchema, fields beyond the seed', () => {
  it.each([
    [true, 'verify-full', 'ssl'],
    ['TRUE', 'verify-full', 'ssl'],
    [false, 'disable', 'ssl'],
    ['false', 'disable', 'ssl'],
    [undefined, 'verify-full', 'default'],
  ])('reads "ssl": %j as sslmode %s', (ssl, sslmode, from) => {
    expect(postgresSecretSchema.parse({ ...secret, ssl })).toMatchObject({ sslmode, sslmodeFrom: from });
  });

  it('lets sslmode decide with ssl true, and refuses contradictions naming ssl', () => {
    expect(postgresSecretSchema.parse({ ...secret, ssl: true, sslmode: 'require' })).toMatchObject({
      sslmode: 'require',
      sslmodeFrom: 'sslmode',
    });
    const result = postgresSecretSchema.safeParse({ ...secret, ssl: true, sslmode: 'disable' });
    expect(result.error?.issues.map((i) => i.path.join('.'))).toEqual(['ssl']);
  });

  it('reads masterarn, dbInstanceIdentifier, dbClusterIdentifier and password_policy', () => {
    expect(
      postgresSecretSchema.parse({
        ...secret,
        masterarn: 'arn:aws:secretsmanager:us-east-1:1:secret:rds!db-1',
        dbInstanceIdentifier: 'prod-db',
        password_policy: { length: 48, exclude_punctuation: true },
      }),
    ).toMatchObject({
      masterArn: 'arn:aws:secretsmanager:us-east-1:1:secret:rds!db-1',
      rds: { kind: 'instance', identifier: 'prod-db' },
      passwordPolicy: { length: 48, excludePunctuation: true },
    });
  });

  it.each([
    [{ dbInstanceIdentifier: 'a', dbClusterIdentifier: 'b' }, 'dbClusterIdentifier'],
    [{ dbInstanceIdentifier: '1abc' }, 'dbInstanceIdentifier'],
    [{ dbClusterIdentifier: 'a--b' }, 'dbClusterIdentifier'],
    [{ password_policy: { lenght: 40 } }, 'password_policy'],
    [{ password_policy: { length: '40' } }, 'password_policy.length'],
    [{ masterarn: '' }, 'masterarn'],
  ])('refuses %j, naming the field', (extra, field) => {
    const result = postgresSecretSchema.safeParse({ ...secret, ...extra });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toContain(field);
  });

  it('chooses the rotation mode from the fields', () => {
    const parse = (extra: object) => rotationModeOf(postgresSecretSchema.parse({ ...secret, ...extra }));
    expect(parse({})).toBe(RotationMode.SINGLE_USER);
    expect(parse({ dbClusterIdentifier: 'c' })).toBe(RotationMode.RDS_MASTER);
    expect(parse({ masterarn: 'm', dbInstanceIdentifier: 'i' })).toBe(RotationMode.ALTERNATING_USERS);
  });
});

describe('rolePairOf', () => {
  it('pairs a user with its _clone, from either name', () => {
    expect(rolePairOf('app')).toEqual({ original: 'app', clone: 'app_clone' });
    expect(rolePairOf('app_clone')).toEqual({ original: 'app', clone: 'app_clone' });
    expect(otherLogin('app')).toBe('app_clone');
    expect(otherLogin('app_clone')).toBe('app');
  });

  it('refuses a name whose clone passes 63 bytes, counting bytes, not characters', () => {
    expect(rolePairOf('a'.repeat(57)).clone).toHaveLength(63);
    expect(() => rolePairOf('a'.repeat(58))).toThrow(RoleNameTooLongError);
    expect(() => rolePairOf('é'.repeat(29))).toThrow(/is 64 bytes/);
  });
});

describe('rdsManagedSecretOwner', () => {
  it('reads the database from the tags RDS sets, and knows rds! names without them', () => {
    expect(
      rdsManagedSecretOwner({
        name: 'x',
        tags: { 'aws:rds:primaryDBClusterArn': 'arn:aws:rds:us-east-1:1:cluster:c1' },
      }),
    ).toEqual({ ref: { kind: 'cluster', identifier: 'c1' }, arn: 'arn:aws:rds:us-east-1:1:cluster:c1' });
    expect(rdsManagedSecretOwner({ name: 'rds!db-123', tags: {} })).toEqual({
      ref: undefined,
      arn: undefined,
    });
    expect(rdsManagedSecretOwner({ name: 'production/database/primary', tags: {} })).toBeUndefined();
  });
});

describe('the RDS certificate bundle', () => {
  const pem = readFileSync(RDS_CA_BUNDLE_FILE, 'utf8');
  const certificates = splitPem(pem).map((text) => new X509Certificate(text));

  it('ships at RDS_CA_BUNDLE_FILE and holds only CA certificates, each a root or issued by one in the bundle', () => {
    expect(existsSync(RDS_CA_BUNDLE_FILE)).toBe(true);
    expect(certificates.length).toBeGreaterThanOrEqual(100);
    for (const certificate of certificates) {
      expect(certificate.ca, certificate.subject).toBe(true);
      expect(certificate.subject).toMatch(/O=Amazon Web Services/);
      const issuer = certificates.find(
        (other) => certificate.checkIssued(other) && certificate.verify(other.publicKey),
      );
      expect(issuer, certificate.subject).toBeDefined();
    }
  });

  it("holds the current roots of RDS's regions (RSA2048, RSA4096 and ECC384 G1)", () => {
    const names = certificates.map((c) => c.subject.match(/CN=(.*)/)?.[1]);
    for (const region of ['us-east-1', 'eu-west-1', 'ap-southeast-2', 'il-central-1']) {
      for (const kind of ['RSA2048', 'RSA4096', 'ECC384']) {
        expect(names).toContain(`Amazon RDS ${region} Root CA ${kind} G1`);
      }
    }
  });

  it("is all an RDS server is verified against when no host name is checked, with Node's public roots only under verify-full, and fails closed when missing", () => {
    const bundle = splitPem(pem);
    expect(rdsTrustedCertificates('require')).toEqual(bundle);
    expect(rdsTrustedCertificates('verify-ca')).toEqual(bundle);
    const full = rdsTrustedCertificates('verify-full');
    expect(full.slice(0, bundle.length)).toEqual(bundle);
    expect(full.length).toBeGreaterThan(bundle.length);
    expect(() => rdsTrustedCertificates('require', mkdtempSync(join(tmpdir(), 'no-bundle-')))).toThrow(
      RdsCaBundleError,
    );
  });

  it('recognises RDS endpoint names', () => {
    expect(isRdsHost('db.abcdefghijkl.us-east-1.rds.amazonaws.com')).toBe(true);
    expect(isRdsHost('db.abcdefghijkl.cn-north-1.rds.amazonaws.com.cn')).toBe(true);
    expect(isRdsHost('rds.amazonaws.com.evil.example')).toBe(false);
  });
});

describe('createPostgresConnector', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** The options the production connector hands node-postgres for one target (no connection is made). */
  async function clientConfigFor(target: PostgresTarget, ca?: string): Promise<pg.ClientConfig> {
    let seen: pg.ClientConfig | undefined;
    vi.spyOn(pg, 'Client').mockImplementation(function (this: unknown, config?: string | pg.ClientConfig) {
      seen = config as pg.ClientConfig;
      throw new Error('recorded: no connection made');
    } as unknown as typeof pg.Client);
    const options = loadDatabaseRotationConfig({}).database;
    await createPostgresConnector({ ...options, ...(ca ? { ca } : {}) })
      .connect(target, 'unused')
      .catch(() => undefined);
    if (!seen) throw new Error('the connector built no client');
    return seen;
  }

  const rdsTarget = (sslmode: SslMode): PostgresTarget => ({
    host: 'prod.abcdefghijkl.us-east-1.rds.amazonaws.com',
    port: 5432,
    database: 'postgres',
    username: 'app',
    sslmode,
    rds: { kind: 'instance', identifier: 'prod' },
  });

  const organisation = (certificate: string) =>
    new X509Certificate(certificate).subject
      .split('\n')
      .filter((line) => line.startsWith('O='))
      .join(', ');

  it.each(['require', 'verify-ca'] as const)(
    'trusts no CA but the RDS bundle for an RDS server with sslmode %s, since no host name is checked',
    async (sslmode) => {
      // Act
      const { ssl } = await clientConfigFor(rdsTarget(sslmode));

      // Assess: any name is accepted, so every trusted CA is an RDS one.
      const tls = ssl as ConnectionOptions;
      expect(tls.checkServerIdentity?.('attacker.example', {} as never)).toBeUndefined();
      const trusted = ([] as unknown[]).concat(tls.ca ?? []).map(String);
      expect(trusted.length).toBeGreaterThan(100);
      expect(trusted.map(organisation).filter((o) => !o.startsWith('O=Amazon Web Services'))).toEqual([]);
    },
  );

  it("trusts the RDS bundle alone, with the host name checked, for an RDS-managed master's login, even with DB_TLS_CA_FILE set", async () => {
    // Act
    const { ssl } = await clientConfigFor(
      { ...rdsTarget('verify-full'), sslmodeFrom: 'rds-managed-master', rdsBundleOnly: true },
      '-----BEGIN CERTIFICATE-----\nCORPORATE\n-----END CERTIFICATE-----',
    );

    // Assess
    const tls = ssl as ConnectionOptions;
    expect(tls.rejectUnauthorized).toBe(true);
    expect(tls.checkServerIdentity).toBeUndefined();
    expect(tls.ca).toEqual(splitPem(readFileSync(RDS_CA_BUNDLE_FILE, 'utf8')));
  });

  it('opens every session with the system catalog alone on its search path', async () => {
    const config = await clientConfigFor({ ...rdsTarget('disable'), host: 'db.example.com' });
    expect(config.options).toBe('-c search_path=pg_catalog,pg_temp');
  });
});
