import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../shared/config/index.js';
import {
  InvalidRotateNowInputError,
  loadRotateNowConfig,
  loadStepRunner,
  managedCategory,
  parseRotateNowRequest,
  requireManaged,
  resolveSecretId,
  UnmanagedSecretError,
} from '../../shared/rotate-now/index.js';

function rejection(input: unknown): Error {
  try {
    parseRotateNowRequest(input);
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected parseRotateNowRequest to throw');
}

describe('parseRotateNowRequest', () => {
  it('reads the secret and defaults every flag to false', () => {
    expect(parseRotateNowRequest({ secret: ' database/primary ' })).toEqual({
      secret: 'database/primary',
      wait: false,
      repair: false,
      rollback: false,
    });
    expect(parseRotateNowRequest({ secret: 'api-keys/resend', wait: true, repair: true })).toMatchObject({
      wait: true,
      repair: true,
    });
  });

  it('says the input is not a JSON object when --data was a string, an array or null', () => {
    for (const [input, what] of [
      ['database/primary', 'a string'],
      [['database/primary'], 'an array'],
      [null, 'null'],
      [undefined, 'a undefined'],
    ] as const) {
      const error = rejection(input);
      expect(error).toBeInstanceOf(InvalidRotateNowInputError);
      expect(error.message).toContain('must be a JSON object');
      expect(error.message).toContain(what);
    }
  });

  it('names each bad field and what is wrong with it', () => {
    const error = rejection({ wait: 'yes', rollbak: true });

    expect(error.name).toBe('InvalidRotateNowInputError');
    expect(error.message).toContain('secret is required');
    expect(error.message).toContain('wait must be true or false');
    expect(error.message).toContain('unknown field "rollbak"');
  });

  it('refuses a secret that is not a name or ARN without echoing it', () => {
    const pasted = 'p@ss word with spaces and "quotes"';
    const error = rejection({ secret: pasted });

    expect(error.message).toContain('secret must be a secret name or ARN');
    expect(error.message).not.toContain(pasted);
  });

  it('refuses rollback combined with wait or repair', () => {
    expect(rejection({ secret: 'database/primary', rollback: true, wait: true }).message).toContain(
      'cannot be combined with wait or repair',
    );
  });
});

describe('resolveSecretId', () => {
  it('adds the environment prefix to a short name and keeps a full name or an ARN', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:production/database/primary-AbCdEf';

    expect(resolveSecretId('database/primary', 'production')).toBe('production/database/primary');
    expect(resolveSecretId('production/database/primary', 'production')).toBe('production/database/primary');
    expect(resolveSecretId(arn, 'production')).toBe(arn);
  });

  it('refuses an ARN of another service', () => {
    expect(() => resolveSecretId('arn:aws:ssm:us-east-1:123456789012:parameter/x', 'production')).toThrow(
      UnmanagedSecretError,
    );
  });
});

describe('requireManaged', () => {
  it('gives the category of a managed secret', () => {
    expect(requireManaged('production/database/primary', 'production')).toBe('database');
    expect(managedCategory('production/api-keys/resend', 'production')).toBe('api-keys');
  });

  it('refuses a secret outside the managed prefixes, naming them', () => {
    expect(() => requireManaged('production/rotation/google-service-account', 'production')).toThrow(
      /must start with production\/database\/ or production\/api-keys\//,
    );
    expect(() => requireManaged('production/staging/database/primary', 'production')).toThrow(
      UnmanagedSecretError,
    );
  });
});

describe('loadRotateNowConfig', () => {
  it('defaults to the production environment, a 60 s settle time, a one-hour repair age and 60 s steps', () => {
    expect(loadRotateNowConfig({})).toEqual({
      environment: 'production',
      settleMs: 60_000,
      pollMs: 2000,
      repairMinAgeMs: 3_600_000,
      stepTimeoutMs: 60_000,
    });
  });

  it("reads the rotation functions' timeout from ROTATION_STEP_TIMEOUT_SECONDS", () => {
    expect(loadRotateNowConfig({ ROTATION_STEP_TIMEOUT_SECONDS: '90' }).stepTimeoutMs).toBe(90_000);
    expect(() => loadRotateNowConfig({ ROTATION_STEP_TIMEOUT_SECONDS: '0' })).toThrow(
      /ROTATION_STEP_TIMEOUT_SECONDS must be an integer from 1 to 900/,
    );
  });

  it('fails with a ConfigurationError naming the variable', () => {
    expect(() => loadRotateNowConfig({ ROTATE_NOW_SETTLE_SECONDS: 'soon' })).toThrow(
      /ROTATE_NOW_SETTLE_SECONDS/,
    );
    expect(() => loadRotateNowConfig({ ENVIRONMENT: 'prod/x' })).toThrow(ConfigurationError);
    expect(() => loadStepRunner({ ROTATION_STEP_RUNNER: 'docker' })).toThrow(/lambda or in-process/);
    expect(loadStepRunner({})).toBe('lambda');
  });
});
