import { apiKeysPrefix, databasePrefix } from '../policy/settings.js';
import { UnmanagedSecretError } from './errors.js';

/** The categories of secrets this product rotates, as the second part of their names. */
export const ManagedCategory = {
  DATABASE: 'database',
  API_KEYS: 'api-keys',
} as const;

/** One of {@link ManagedCategory}'s values. */
export type ManagedCategory = (typeof ManagedCategory)[keyof typeof ManagedCategory];

/** Each category's managed prefix under an environment, as the policy defines it. */
const PREFIX_OF: Record<ManagedCategory, (environment: string) => string> = {
  [ManagedCategory.DATABASE]: databasePrefix,
  [ManagedCategory.API_KEYS]: apiKeysPrefix,
};

const ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/;

/**
 * The secret id to ask Secrets Manager for: an ARN as given, a name that already starts
 * with `{environment}/` as given, anything else with `{environment}/` put in front
 * (`database/primary` → `production/database/primary`).
 */
export function resolveSecretId(input: string, environment: string): string {
  if (input.startsWith('arn:')) {
    if (!ARN.test(input)) throw new UnmanagedSecretError(`${input} is not a Secrets Manager secret ARN`);
    return input;
  }
  return input.startsWith(`${environment}/`) ? input : `${environment}/${input}`;
}

/** The category of a managed secret (`{environment}/database/…`, `{environment}/api-keys/…`), or undefined. */
export function managedCategory(name: string, environment: string): ManagedCategory | undefined {
  return Object.values(ManagedCategory).find((category) => name.startsWith(PREFIX_OF[category](environment)));
}

/**
 * The category of a managed secret.
 * @throws {UnmanagedSecretError} for a name outside this deployment's managed prefixes.
 */
export function requireManaged(name: string, environment: string): ManagedCategory {
  const category = managedCategory(name, environment);
  if (category) return category;
  const prefixes = Object.values(ManagedCategory)
    .map((category) => PREFIX_OF[category](environment))
    .join(' or ');
  throw new UnmanagedSecretError(
    `secret ${name} is not one this deployment manages: its name must start with ${prefixes} (names are {environment}/{category}/{name}; this deployment's environment is ${environment})`,
  );
}
