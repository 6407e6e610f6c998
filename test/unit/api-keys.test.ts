import { describe, expect, it } from 'vitest';
import {
  InvalidRevocationRequestError,
  PROVIDER_TAG,
  parseRevocationRequest,
  providerFor,
  roleArnBeside,
  scheduleName,
  stagedValueMissing,
  UnknownProviderError,
} from '../../shared/api-keys/index.js';
import { createProviders } from '../../shared/api-keys/providers/index.js';
import { ConfigurationError, loadApiKeyRotationConfig } from '../../shared/config/index.js';
import type { SecretDescription } from '../../shared/rotation/index.js';

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

  it('schedules revocations when the scheduler role is named', () => {
    expect(loadApiKeyRotationConfig({ REVOKE_SCHEDULER_ROLE_NAME: 'revoker' }).revocation).toEqual({
      roleName: 'revoker',
      groupName: 'default',
    });
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
