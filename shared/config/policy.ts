import {
  apiKeysPrefix,
  DEFAULT_POLICY,
  databasePrefix,
  defaultPolicySettings,
  InvalidPolicySettingsError,
  type PolicySettings,
} from '../policy/index.js';
import { ConfigurationError, getIntegerFromEnv, getOptionalStringFromEnv, getStringFromEnv } from './env.js';

type Env = Record<string, string | undefined>;

/** The service name in `serverless.yml`: deployed functions are `{service}-{stage}-{function}`. */
const SERVICE = 'secrets-rotation';

/**
 * Reads the 90-day policy: `ENVIRONMENT` (default `production`), `MANAGED_PREFIXES` (comma
 * separated; default `{ENVIRONMENT}/database/,{ENVIRONMENT}/api-keys/`), `POLICY_MAX_AGE_DAYS`
 * (90), `POLICY_WARNING_DAYS` (14), `POLICY_SCHEDULE_DAYS` (75), `POLICY_UNUSED_DAYS` (90),
 * `POLICY_STUCK_AFTER_HOURS` (24), and this product's rotation functions (names or ARNs):
 * `ROTATION_FUNCTION_DATABASE` for `{ENVIRONMENT}/database/`, `ROTATION_FUNCTION_API_KEYS` for
 * `{ENVIRONMENT}/api-keys/` (defaults: the names `serverless.yml` deploys them under,
 * `secrets-rotation-{ENVIRONMENT}-rotateDatabase` and `…-rotateApiKey`).
 */
export function loadPolicySettings(env: Env = process.env): PolicySettings {
  const environment = getStringFromEnv('ENVIRONMENT', { defaultValue: 'production', env });
  if (!/^[\w.+=@-]+$/.test(environment))
    throw new ConfigurationError(
      'environment variable ENVIRONMENT must be a secret-name segment (letters, digits, _ . + = @ -)',
    );
  const prefixes = getOptionalStringFromEnv('MANAGED_PREFIXES', env)
    ?.split(',')
    .map((prefix) => prefix.trim())
    .filter(Boolean) ?? [databasePrefix(environment), apiKeysPrefix(environment)];
  const rotationFunctions: Record<string, string> = {};
  for (const [variable, prefix, deployed] of [
    ['ROTATION_FUNCTION_DATABASE', databasePrefix(environment), 'rotateDatabase'],
    ['ROTATION_FUNCTION_API_KEYS', apiKeysPrefix(environment), 'rotateApiKey'],
  ] as const) {
    const fn = getStringFromEnv(variable, { defaultValue: `${SERVICE}-${environment}-${deployed}`, env });
    if (prefixes.includes(prefix)) rotationFunctions[prefix] = fn;
  }
  const days = (name: string, defaultValue: number, min: number, max: number) =>
    getIntegerFromEnv(name, { defaultValue, min, max, env });
  try {
    return defaultPolicySettings(environment, {
      managedPrefixes: prefixes,
      rotationFunctions,
      maxAgeDays: days('POLICY_MAX_AGE_DAYS', DEFAULT_POLICY.maxAgeDays, 2, 365),
      warningDays: days('POLICY_WARNING_DAYS', DEFAULT_POLICY.warningDays, 0, 364),
      scheduleDays: days('POLICY_SCHEDULE_DAYS', DEFAULT_POLICY.scheduleDays, 1, 365),
      unusedDays: days('POLICY_UNUSED_DAYS', DEFAULT_POLICY.unusedDays, 1, 3650),
      stuckAfterHours: days('POLICY_STUCK_AFTER_HOURS', DEFAULT_POLICY.stuckAfterHours, 1, 720),
    });
  } catch (error) {
    if (error instanceof InvalidPolicySettingsError)
      throw new ConfigurationError(`the policy settings do not hold together: ${error.message}`, {
        cause: error,
      });
    throw error;
  }
}

/** Where the compliance report goes, and whom it alerts. */
export interface ReportConfig {
  readonly policy: PolicySettings;
  /** S3 bucket of the reports, and the key prefix under it. */
  readonly bucket: string;
  readonly prefix: string;
  /** The SNS topic (by name) that gets a summary when any secret needs attention. */
  readonly alertTopicName: string;
  /**
   * True when `AWS_ENDPOINT_URL` points the SDK at a local emulator: the function then creates
   * its bucket and topic if they are missing (on AWS, CloudFormation does) and uses path-style S3 URLs.
   */
  readonly localEndpoint: boolean;
}

/**
 * Reads the compliance report's configuration: the policy ({@link loadPolicySettings}),
 * `REPORT_BUCKET`, `REPORT_PREFIX` (default `compliance-reports/`) and `ALERT_TOPIC_NAME`
 * (defaults `secrets-rotation-{ENVIRONMENT}-reports` and `secrets-rotation-{ENVIRONMENT}-alerts`,
 * the names `serverless.yml` gives them).
 */
export function loadReportConfig(env: Env = process.env): ReportConfig {
  const policy = loadPolicySettings(env);
  const bucket = getStringFromEnv('REPORT_BUCKET', {
    defaultValue: `${SERVICE}-${policy.environment}-reports`,
    env,
  });
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    throw new ConfigurationError('environment variable REPORT_BUCKET must be an S3 bucket name');
  const prefix = getStringFromEnv('REPORT_PREFIX', { defaultValue: 'compliance-reports/', env });
  const alertTopicName = getStringFromEnv('ALERT_TOPIC_NAME', {
    defaultValue: `${SERVICE}-${policy.environment}-alerts`,
    env,
  });
  if (!/^[\w-]{1,256}$/.test(alertTopicName))
    throw new ConfigurationError('environment variable ALERT_TOPIC_NAME must be an SNS topic name');
  return {
    policy,
    bucket,
    prefix: prefix.endsWith('/') ? prefix : `${prefix}/`,
    alertTopicName,
    localEndpoint: getOptionalStringFromEnv('AWS_ENDPOINT_URL', env) !== undefined,
  };
}
