import { describe, expect, it } from 'vitest';
import { CredentialSecretRefusedError } from '../../shared/api-keys/errors.js';
import {
  atExpression,
  InvalidRevocationRequestError,
  PROVIDER_TAG,
  parseRevocationRequest,
  providerFor,
  roleArnBeside,
  SUPERSEDED_TAG_PREFIX,
  scheduleName,
  stagedValueMissing,
  supersessions,
  supersessionTag,
  UnknownProviderError,
} from '../../shared/api-keys/index.js';
import type { ProviderContext } from '../../shared/api-keys/provider.js';
import { readCredentialSecret } from '../../shared/api-keys/providers/credentials.js';
import { createProviders } from '../../shared/api-keys/providers/index.js';
import { ConfigurationError, loadApiKeyRotationConfig } from '../../shared/config/index.js';
import type { SecretDescription } from '../../shared/rotation/index.js';
import { RecordingLogger } from '../support/fakes.js';

const secret = (name: string, tags: Record<string, string> = {}): SecretDescription => ({
  arn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`,
  name,
  rotationEnabled: true,
  versions: {},
  tags,
});

describe('providerFor', () => {
  const providers = createProviders(loadApiKeyRotationConfig({}));

  it('registers the four built-in providers', () => {
    expect([...providers.keys()].sort()).toEqual(['aws', 'clerk', 'google', 'resend']);
  });

  it('takes the provider from the rotation-provider tag first', () => {
    expect(
      providerFor(secret('production/api-keys/mail', { [PROVIDER_TAG]: 'resend' }), providers).name,
    ).toBe('resend');
  });

  it("falls back to the last part of the secret's name", () => {
    expect(providerFor(secret('production/api-keys/clerk'), providers).name).toBe('clerk');
  });

  it('throws an UnknownProviderError listing the providers', () => {
    expect(() => providerFor(secret('production/api-keys/stripe'), providers)).toThrow(UnknownProviderError);
    expect(() => providerFor(secret('x', { [PROVIDER_TAG]: 'stripe' }), providers)).toThrow(
      /tagged rotation-provider=stripe, which is not a provider \(known: aws, resend, google, clerk\)/,
    );
  });
});

describe('the revoke input', () => {
  it('is accepted as documented', () => {
    const input = { action: 'revoke', SecretId: 'production/api-keys/resend', VersionId: 'v1' };
    expect(parseRevocationRequest(input)).toEqual(input);
  });

  it('takes "force": true, and refuses a force that is not a boolean', () => {
    const input = { action: 'revoke', SecretId: 's', VersionId: 'v1' };
    expect(parseRevocationRequest({ ...input, force: true })).toEqual({ ...input, force: true });
    expect(() => parseRevocationRequest({ ...input, force: 'yes' })).toThrow('force must be true or false');
  });

  it('names every missing field', () => {
    expect(() => parseRevocationRequest({ action: 'revoke' })).toThrow(InvalidRevocationRequestError);
    expect(() => parseRevocationRequest({ action: 'revoke' })).toThrow(
      'SecretId is required; VersionId is required',
    );
  });

  it('gets one schedule name per secret and version, within Scheduler’s 64 characters', () => {
    const request = { action: 'revoke' as const, SecretId: 'arn:…:secret:a', VersionId: 'v1' };
    expect(scheduleName(request)).toBe(scheduleName({ ...request }));
    expect(scheduleName(request)).not.toBe(scheduleName({ ...request, VersionId: 'v2' }));
    expect(scheduleName(request)).toMatch(/^revoke-[0-9a-f]{40}$/);
  });

  it("is sent with the scheduler role of the function's own account and partition", () => {
    expect(roleArnBeside('arn:aws-cn:lambda:cn-north-1:210987654321:function:f:live', 'revoke')).toBe(
      'arn:aws-cn:iam::210987654321:role/revoke',
    );
  });
});

describe('atExpression', () => {
  it('rounds the time UP to the whole second: a schedule never fires before it', () => {
    expect(atExpression(new Date('2026-11-30T12:00:00.000Z'))).toBe('at(2026-11-30T12:00:00)');
    expect(atExpression(new Date('2026-11-30T12:00:00.001Z'))).toBe('at(2026-11-30T12:00:01)');
    expect(atExpression(new Date('2026-11-30T23:59:59.999Z'))).toBe('at(2026-12-01T00:00:00)');
  });
});

describe('supersession records', () => {
  const withTags = (tags: Record<string, string>) => ({ ...secret('production/api-keys/resend'), tags });

  it('reads back what it writes, to the millisecond, including version ids no tag may hold', () => {
    const records = [
      {
        versionId: 'a1b2c3d4-0000-4000-8000-000000000001',
        at: new Date('2026-11-30T12:00:00.123Z'),
        by: 'b2',
      },
      { versionId: 'token with spaces & ünïcode-0123456789', at: new Date(1), by: 'b64.looks-encoded' },
    ];
    const tags = Object.fromEntries(records.map((r) => [supersessionTag(r).Key, supersessionTag(r).Value]));
    expect([...supersessions(withTags(tags)).values()]).toEqual(records);
    for (const [key, value] of Object.entries(tags)) {
      expect(key).toMatch(/^[A-Za-z0-9+\-=._:/@]{1,127}$/);
      expect(value).toMatch(/^[A-Za-z0-9+\-=._:/@ ]{1,255}$/);
    }
  });

  it('takes a tag that does not parse as no record, and ignores other tags', () => {
    const records = supersessions(
      withTags({
        [`${SUPERSEDED_TAG_PREFIX}v1`]: 'yesterday v2',
        [`${SUPERSEDED_TAG_PREFIX}v3`]: '2026-11-30T12:00:00.000Z',
        [PROVIDER_TAG]: 'resend',
      }),
    );
    expect(records.size).toBe(0);
  });
});

describe('stagedValueMissing', () => {
  it('says exactly what to run, through a file', () => {
    const error = stagedValueMissing('production/api-keys/clerk', ['secret_key']);
    expect(error.message).toContain('{"secret_key": "<new value>"}');
    expect(error.message).toContain(
      'aws secretsmanager put-secret-value --secret-id production/api-keys/clerk --secret-string file://new-key.json --version-stages STAGED',
    );
  });
});

describe('API-key rotation configuration', () => {
  it('defaults to a 900 s grace period, the providers’ public endpoints, and no scheduler', () => {
    const config = loadApiKeyRotationConfig({});
    expect(config.gracePeriodMs).toBe(900_000);
    expect(config.revocation).toBeUndefined();
    expect(config.endpoints.resend).toBe('https://api.resend.com');
  });

  it('schedules revocations when the scheduler role is named, in the group named', () => {
    expect(loadApiKeyRotationConfig({ REVOKE_SCHEDULER_ROLE_NAME: 'revoker' }).revocation).toEqual({
      roleName: 'revoker',
      groupName: 'default',
    });
    expect(
      loadApiKeyRotationConfig({ REVOKE_SCHEDULER_ROLE_NAME: 'revoker', REVOKE_SCHEDULE_GROUP: 'rotation' })
        .revocation?.groupName,
    ).toBe('rotation');
  });

  it('requires https provider endpoints, allowing http only on a loopback host, naming the variable and never the value', () => {
    const local = loadApiKeyRotationConfig({
      RESEND_API_URL: 'http://127.0.0.1:4010',
      CLERK_API_URL: 'http://localhost:4011',
      GOOGLE_API_KEYS_URL: 'http://[::1]:4012',
    });
    expect(local.endpoints).toMatchObject({
      resend: 'http://127.0.0.1:4010',
      clerk: 'http://localhost:4011',
      googleApiKeys: 'http://[::1]:4012',
    });
    for (const name of [
      'RESEND_API_URL',
      'GOOGLE_API_KEYS_URL',
      'GOOGLE_SAFE_BROWSING_URL',
      'RECAPTCHA_VERIFY_URL',
      'CLERK_API_URL',
    ]) {
      for (const [value, rule] of [
        ['http://api.resend.example', 'must be an https:// URL'],
        ['http://127.0.0.1.evil.example', 'must be an https:// URL'],
        ['ftp://127.0.0.1/x', 'must be an https:// URL'],
        ['api.resend.com', 'must be an absolute URL'],
        ['https://user:s3cr3t-in-url@api.resend.com', 'must not carry a user name or password'],
      ] as const) {
        const error = (() => {
          try {
            loadApiKeyRotationConfig({ [name]: value });
          } catch (e) {
            return e as Error;
          }
          return undefined;
        })();
        expect(error, `${name}=${value}`).toBeInstanceOf(ConfigurationError);
        expect(error?.message).toContain(`environment variable ${name} ${rule}`);
        expect(error?.message).not.toContain(value);
      }
    }
  });

  it('refuses a bad grace period or role name, naming the variable', () => {
    expect(() => loadApiKeyRotationConfig({ ROTATION_GRACE_PERIOD_SECONDS: '-1' })).toThrow(
      ConfigurationError,
    );
    expect(() => loadApiKeyRotationConfig({ REVOKE_SCHEDULER_ROLE_NAME: 'arn:aws:iam::1:role/x' })).toThrow(
      /REVOKE_SCHEDULER_ROLE_NAME/,
    );
  });
});

describe('readCredentialSecret', () => {
  const rotated = secret('production/api-keys/resend');
  const context = (reads: string[]): ProviderContext => ({
    secret: rotated,
    token: 't',
    logger: new RecordingLogger(),
    now: new Date(),
    inFlightMs: 0,
    rotationStartedAt: async () => undefined,
    async readSecret(id) {
      reads.push(id);
      return { api_key: 're_x' };
    },
  });

  it("reads a credential under the rotated secret's {environment}/rotation/, by name or ARN in its account and region", async () => {
    const reads: string[] = [];
    const ids = [
      'production/rotation/resend-admin',
      'arn:aws:secretsmanager:us-east-1:123456789012:secret:production/rotation/resend-admin-XyZ123',
    ];
    for (const id of ids) await readCredentialSecret(context(reads), 'admin_secret_id', id);
    expect(reads).toEqual(ids);
  });

  it('refuses any other id before reading it, naming the field and where credentials live', async () => {
    const reads: string[] = [];
    for (const id of [
      'production/api-keys/resend-billing',
      'staging/rotation/resend-admin',
      'production/rotation/',
      'productionX/rotation/resend-admin',
      'arn:aws:secretsmanager:us-east-1:210987654321:secret:production/rotation/resend-admin-XyZ123',
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:production/rotation/resend-admin-XyZ123',
      'arn:aws:secretsmanager:us-east-1:123456789012:secret:production/api-keys/resend-billing-XyZ123',
      'arn:aws:s3:::production/rotation/resend-admin',
    ]) {
      const error = await readCredentialSecret(context(reads), 'admin_secret_id', id).catch((e: Error) => e);
      expect(error, id).toBeInstanceOf(CredentialSecretRefusedError);
      expect((error as CredentialSecretRefusedError).fields).toEqual(['admin_secret_id']);
      expect((error as Error).message).toMatch(/^secret production\/api-keys\/resend: admin_secret_id /);
      expect((error as Error).message).toContain('read only from secrets named production/rotation/<name>');
      // The id is never echoed (a key pasted into the field would be): only the rule is.
      if (id !== 'production/rotation/') expect((error as Error).message).not.toContain(id);
    }
    expect(reads).toEqual([]);
  });

  it('refuses every id for a secret whose name has no environment', async () => {
    const reads: string[] = [];
    const ctx = { ...context(reads), secret: secret('resend') };
    const error = await readCredentialSecret(ctx, 'admin_secret_id', 'rotation/x').catch((e: Error) => e);
    expect(error).toBeInstanceOf(CredentialSecretRefusedError);
    expect(reads).toEqual([]);
  });
});
