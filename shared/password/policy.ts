import { RotationError } from '../rotation/errors.js';
import * as z from '../zod.js';

/**
 * What a generated password looks like: GetRandomPassword's options. The password is always
 * printable ASCII without spaces (what PostgreSQL's SCRAM verifier is computed from here).
 */
export interface PasswordPolicy {
  /** Number of characters. */
  readonly length: number;
  /** Characters never used. */
  readonly excludeCharacters: string;
  readonly excludeUppercase?: boolean;
  readonly excludeLowercase?: boolean;
  readonly excludeNumbers?: boolean;
  readonly excludePunctuation?: boolean;
  /** Every class left (upper, lower, digits, punctuation) appears at least once. Default true. */
  readonly requireEachIncludedType?: boolean;
}

/** A secret's own `password_policy`: any of the function's settings, overridden for this secret. */
export type PasswordPolicyOverride = Partial<PasswordPolicy>;

/** What a database accepts as a password, and the product's floor. */
export interface PasswordLimits {
  /** Who the limits are for, in messages: "a PostgreSQL user", "an RDS instance's master user". */
  readonly subject: string;
  readonly minLength: number;
  readonly maxLength: number;
  /** Characters the database refuses: always excluded, whatever the policy says. */
  readonly refusedCharacters: string;
}

/** The product's floor: no policy may give fewer bits than this. */
export const MIN_PASSWORD_BITS = 90;

/**
 * A PostgreSQL user's password set here: PostgreSQL has no length limit under SCRAM (the
 * password never crosses the wire) and takes any character but NUL; the verifier is computed
 * from printable ASCII without spaces, and GetRandomPassword makes at most 4096 characters.
 */
export const POSTGRES_USER_LIMITS: PasswordLimits = {
  subject: 'a PostgreSQL user',
  minLength: 16,
  maxLength: 4096,
  refusedCharacters: '',
};

/** RDS for PostgreSQL's master password (ModifyDBInstance): 8 to 128 characters, no `/`, `"` or `@`. */
export const RDS_INSTANCE_MASTER_LIMITS: PasswordLimits = {
  subject: "an RDS instance's master user (ModifyDBInstance)",
  minLength: 16,
  maxLength: 128,
  refusedCharacters: '/"@',
};

/** An Aurora or Multi-AZ cluster's master password (ModifyDBCluster): 8 to 41 characters, no `/`, `"` or `@`. */
export const RDS_CLUSTER_MASTER_LIMITS: PasswordLimits = {
  subject: "an RDS cluster's master user (ModifyDBCluster)",
  minLength: 16,
  maxLength: 41,
  refusedCharacters: '/"@',
};

/** Thrown when a password policy cannot make a password the database accepts, or too weak a one. */
export class InvalidPasswordPolicyError extends RotationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidPasswordPolicyError';
  }
}

const CLASSES = {
  uppercase: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  lowercase: 'abcdefghijklmnopqrstuvwxyz',
  numbers: '0123456789',
  punctuation: '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~',
} as const;

type ClassName = keyof typeof CLASSES;

const EXCLUDES: Record<ClassName, keyof PasswordPolicy> = {
  uppercase: 'excludeUppercase',
  lowercase: 'excludeLowercase',
  numbers: 'excludeNumbers',
  punctuation: 'excludePunctuation',
};

/**
 * The policy a password is generated with: `override` (a secret's `password_policy`) over
 * `base` (the function's settings), with the characters the database refuses added to the
 * exclusions, then checked against `limits`.
 * @throws {InvalidPasswordPolicyError} naming the setting and the limit, never a password.
 */
export function effectivePasswordPolicy(
  base: PasswordPolicy,
  override: PasswordPolicyOverride | undefined,
  limits: PasswordLimits,
  where: string,
): PasswordPolicy {
  const merged: PasswordPolicy = { ...base, ...override };
  const excluded = new Set([...merged.excludeCharacters, ...limits.refusedCharacters]);
  const policy: PasswordPolicy = { ...merged, excludeCharacters: [...excluded].join('') };
  const fail = (problem: string) => {
    throw new InvalidPasswordPolicyError(
      `the password policy of ${where} cannot be used for ${limits.subject}: ${problem}. Nothing was changed; fix password_policy in the secret or the function's PASSWORD_* settings`,
    );
  };
  if (
    !Number.isInteger(policy.length) ||
    policy.length < limits.minLength ||
    policy.length > limits.maxLength
  ) {
    fail(`length ${policy.length} is outside ${limits.minLength} to ${limits.maxLength}`);
  }
  const included = (Object.keys(CLASSES) as ClassName[])
    .filter((name) => policy[EXCLUDES[name]] !== true)
    .map((name) => ({ name, characters: [...CLASSES[name]].filter((c) => !excluded.has(c)) }));
  const alphabet = included.reduce((size, { characters }) => size + characters.length, 0);
  if (alphabet === 0) fail('it excludes every character');
  if (policy.requireEachIncludedType !== false) {
    const empty = included.filter(({ characters }) => characters.length === 0).map(({ name }) => name);
    if (empty.length > 0) {
      fail(
        `require_each_included_type asks for ${empty.join(', ')}, but exclude_characters removes every one of them (exclude the class instead)`,
      );
    }
    if (policy.length < included.length)
      fail(`length ${policy.length} cannot hold one of each of ${included.length} classes`);
  }
  const bits = Math.floor(policy.length * Math.log2(alphabet));
  if (bits < MIN_PASSWORD_BITS) {
    fail(
      `${policy.length} characters from ${alphabet} give ${bits} bits, fewer than the ${MIN_PASSWORD_BITS} required`,
    );
  }
  return policy;
}

const flag = z.optional(z.boolean({ error: z.fieldTypeError('boolean') }));

/**
 * A secret's `password_policy` field: `length`, `exclude_characters`, `exclude_uppercase`,
 * `exclude_lowercase`, `exclude_numbers`, `exclude_punctuation`, `require_each_included_type`
 * (GetRandomPassword's options). Unknown keys are refused, so that a misspelt one is not
 * silently ignored.
 */
export const passwordPolicyOverrideSchema = z.pipe(
  z.strictObject(
    {
      length: z.optional(
        z
          .number({ error: z.fieldTypeError('number') })
          .check(z.refine((n) => Number.isInteger(n) && n > 0, { error: 'must be a positive integer' })),
      ),
      exclude_characters: z.optional(
        z
          .string({ error: z.fieldTypeError('string') })
          .check(
            z.refine((s) => /^[\x20-\x7e]*$/.test(s), { error: 'must hold printable ASCII characters only' }),
          ),
      ),
      exclude_uppercase: flag,
      exclude_lowercase: flag,
      exclude_numbers: flag,
      exclude_punctuation: flag,
      require_each_included_type: flag,
    },
    {
      error: (issue) =>
        issue.code === 'unrecognized_keys' ? `unknown setting ${issue.keys.join(', ')}` : 'must be an object',
    },
  ),
  z.transform((raw): PasswordPolicyOverride => {
    const out: { -readonly [K in keyof PasswordPolicy]?: PasswordPolicy[K] } = {};
    if (raw.length !== undefined) out.length = raw.length;
    if (raw.exclude_characters !== undefined) out.excludeCharacters = raw.exclude_characters;
    if (raw.exclude_uppercase !== undefined) out.excludeUppercase = raw.exclude_uppercase;
    if (raw.exclude_lowercase !== undefined) out.excludeLowercase = raw.exclude_lowercase;
    if (raw.exclude_numbers !== undefined) out.excludeNumbers = raw.exclude_numbers;
    if (raw.exclude_punctuation !== undefined) out.excludePunctuation = raw.exclude_punctuation;
    if (raw.require_each_included_type !== undefined)
      out.requireEachIncludedType = raw.require_each_included_type;
    return out;
  }),
);
