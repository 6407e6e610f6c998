import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../shared/config/index.js';
import { loadPolicySettings, loadReportConfig } from '../../shared/config/policy.js';

describe('loadPolicySettings', () => {
  it("defaults to production's two prefixes, the 90-day policy and the deployed rotation functions", () => {
    // Act
    const settings = loadPolicySettings({});

    // Assess
    expect(settings).toMatchObject({
      environment: 'production',
      managedPrefixes: ['production/database/', 'production/api-keys/'],
      maxAgeDays: 90,
      warningDays: 14,
      scheduleDays: 75,
      rotationFunctions: {
        'production/database/': 'secrets-rotation-production-rotateDatabase',
        'production/api-keys/': 'secrets-rotation-production-rotateApiKey',
      },
    });
  });

  it('reads the environment, prefixes, days and functions from the environment variables', () => {
    // Act
    const settings = loadPolicySettings({
      ENVIRONMENT: 'staging',
      MANAGED_PREFIXES: ' staging/database/ , rds! ',
      POLICY_MAX_AGE_DAYS: '60',
      POLICY_WARNING_DAYS: '10',
      POLICY_SCHEDULE_DAYS: '45',
      ROTATION_FUNCTION_DATABASE: 'arn:aws:lambda:eu-west-1:123456789012:function:db-rotator',
    });

    // Assess
    expect(settings).toMatchObject({
      environment: 'staging',
      managedPrefixes: ['staging/database/', 'rds!'],
      maxAgeDays: 60,
      warningDays: 10,
      scheduleDays: 45,
      rotationFunctions: { 'staging/database/': 'arn:aws:lambda:eu-west-1:123456789012:function:db-rotator' },
    });
  });

  it.each([
    [{ POLICY_SCHEDULE_DAYS: '90' }, /scheduleDays must be an integer from 1 to 76/],
    [{ POLICY_MAX_AGE_DAYS: 'ninety' }, /POLICY_MAX_AGE_DAYS must be an integer/],
    [{ ENVIRONMENT: 'prod/uction' }, /ENVIRONMENT must be a secret-name segment/],
  ])('throws a ConfigurationError naming the problem for %j', (env, message) => {
    expect(() => loadPolicySettings(env)).toThrow(ConfigurationError);
    expect(() => loadPolicySettings(env)).toThrow(message);
  });
});

describe('loadReportConfig', () => {
  it('names the bucket and topic as serverless.yml does, and treats AWS_ENDPOINT_URL as a local emulator', () => {
    // Act
    const onAws = loadReportConfig({ ENVIRONMENT: 'staging' });
    const local = loadReportConfig({ AWS_ENDPOINT_URL: 'http://127.0.0.1:5000', REPORT_PREFIX: 'reports' });

    // Assess
    expect(onAws).toMatchObject({
      bucket: 'secrets-rotation-staging-reports',
      prefix: 'compliance-reports/',
      alertTopicName: 'secrets-rotation-staging-alerts',
      localEndpoint: false,
    });
    expect(local).toMatchObject({ prefix: 'reports/', localEndpoint: true });
  });

  it('refuses a bucket name S3 would refuse', () => {
    expect(() => loadReportConfig({ REPORT_BUCKET: 'My_Bucket' })).toThrow(
      /REPORT_BUCKET must be an S3 bucket name/,
    );
  });
});
