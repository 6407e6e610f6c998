import { InvalidPolicySettingsError } from './errors.js';

/** A provider whose keys only a person can issue: the new value comes staged (label `STAGED`). */
export interface StagedValueRule {
  /** The fields a person stages. */
  readonly fields: readonly string[];
  /**
   * True when rotation fails without a staged value (Clerk's secret key); false when it
   * carries the old value over (Google's reCAPTCHA secret), so that key does not age out.
   */
  readonly required: boolean;
}

/** The 90-day policy, as the enforcer applies it and the report checks it. */
export interface PolicySettings {
  /** The environment whose secrets are managed (`production`). */
  readonly environment: string;
  /** A credential older than this is overdue (and fails `secretsmanager-secret-periodic-rotation`). */
  readonly maxAgeDays: number;
  /** A credential within this many days of its max age is due soon. */
  readonly warningDays: number;
  /**
   * The rotation interval the enforcer sets (`AutomaticallyAfterDays`). At most
   * `maxAgeDays − warningDays`, so that a healthy secret rotates before it is due soon and a
   * failed rotation has the whole warning window for retries.
   */
  readonly scheduleDays: number;
  /** A secret not accessed for this many days is unused (`secretsmanager-secret-unused`). */
  readonly unusedDays: number;
  /** An AWSPENDING version older than this is a stuck rotation; younger, a rotation in progress. */
  readonly stuckAfterHours: number;
  /** `LastRotatedDate` and `rotated_at` further apart than this are flagged as disagreeing. */
  readonly sourceToleranceHours: number;
  /** Name prefixes of the secrets under the policy. */
  readonly managedPrefixes: readonly string[];
  /** Managed prefix → this product's rotation function for it (a function name or ARN). */
  readonly rotationFunctions: Readonly<Record<string, string>>;
  /** API-key providers whose new keys are staged by a person, by provider name. */
  readonly stagedValueProviders: Readonly<Record<string, StagedValueRule>>;
  /** API-key providers whose superseded keys only a person can revoke (Clerk's dashboard). */
  readonly manualRevocationProviders: readonly string[];
}

/** The policy's defaults. */
export const DEFAULT_POLICY = {
  maxAgeDays: 90,
  warningDays: 14,
  scheduleDays: 75,
  unusedDays: 90,
  stuckAfterHours: 24,
  sourceToleranceHours: 24,
} as const;

/** The category prefixes under an environment: `{environment}/database/`, `{environment}/api-keys/`. */
export const databasePrefix = (environment: string) => `${environment}/database/`;
export const apiKeysPrefix = (environment: string) => `${environment}/api-keys/`;

/**
 * The default settings for `environment`: 90 days max age, 14 days warning, rotation every
 * 75 days, `{environment}/database/` and `{environment}/api-keys/` managed. Clerk's secret
 * key is staged by a person and its old keys revoked by a person; Google's reCAPTCHA secret
 * changes only when staged.
 */
export function defaultPolicySettings(
  environment: string,
  overrides: Partial<Omit<PolicySettings, 'environment'>> = {},
): PolicySettings {
  return validatePolicySettings({
    environment,
    ...DEFAULT_POLICY,
    managedPrefixes: [databasePrefix(environment), apiKeysPrefix(environment)],
    rotationFunctions: {},
    stagedValueProviders: {
      clerk: { fields: ['secret_key'], required: true },
      google: { fields: ['recaptcha_secret_key'], required: false },
    },
    manualRevocationProviders: ['clerk'],
    ...overrides,
  });
}

const integerIn = (name: string, value: number, min: number, max: number) => {
  if (!Number.isInteger(value) || value < min || value > max)
    throw new InvalidPolicySettingsError(`${name} must be an integer from ${min} to ${max} (got ${value})`);
};

/**
 * Checks that settings hold together: the schedule leaves the warning window for retries,
 * and every rotation function belongs to a managed prefix.
 * @throws {InvalidPolicySettingsError} naming the setting.
 */
export function validatePolicySettings(settings: PolicySettings): PolicySettings {
  integerIn('maxAgeDays', settings.maxAgeDays, 2, 365);
  integerIn('warningDays', settings.warningDays, 0, settings.maxAgeDays - 1);
  integerIn('scheduleDays', settings.scheduleDays, 1, settings.maxAgeDays - settings.warningDays);
  integerIn('unusedDays', settings.unusedDays, 1, 3650);
  integerIn('stuckAfterHours', settings.stuckAfterHours, 1, 24 * 30);
  integerIn('sourceToleranceHours', settings.sourceToleranceHours, 0, 24 * 30);
  if (
    settings.managedPrefixes.length === 0 ||
    settings.managedPrefixes.some((prefix) => prefix.trim() === '')
  )
    throw new InvalidPolicySettingsError('managedPrefixes must list at least one non-empty prefix');
  if (settings.managedPrefixes.length > 10)
    throw new InvalidPolicySettingsError(
      'managedPrefixes may list at most 10 prefixes (one ListSecrets filter)',
    );
  for (const prefix of Object.keys(settings.rotationFunctions))
    if (!settings.managedPrefixes.includes(prefix))
      throw new InvalidPolicySettingsError(
        `rotationFunctions names ${prefix}, which is not a managed prefix`,
      );
  return settings;
}

/** The managed prefix `name` falls under, if any (the longest that matches). */
export function managedPrefixOf(settings: PolicySettings, name: string): string | undefined {
  let best: string | undefined;
  for (const prefix of settings.managedPrefixes)
    if (name.startsWith(prefix) && prefix.length > (best?.length ?? -1)) best = prefix;
  return best;
}
