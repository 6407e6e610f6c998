import { MalformedSecretError } from '../../../rotation/errors.js';
import type { SecretFields } from '../../../rotation/strategy.js';
import * as z from '../../../zod.js';
import { KeyTestFailedError } from '../../errors.js';
import { DEFAULT_RETRY, keyHint, type RetryPolicy, requestJson } from '../../http.js';
import type { ApiKeyProvider, IssueInput, RevokeInput, RevokeOutcome, TestInput } from '../../provider.js';
import { STAGED_LABEL, stagedValueMissing } from '../../staged.js';

const PROVIDER = 'clerk';

/** Clerk's production Backend API base URL, for {@link createClerkProvider}. */
export const CLERK_API_URL = 'https://api.clerk.com';

/** A Clerk instance's mode, from its keys' prefixes. */
export type ClerkMode = 'live' | 'test';

const SECRET_KEY = /^sk_(live|test)_[A-Za-z0-9_-]{8,}$/;
const PUBLISHABLE_KEY = /^pk_(live|test)_([A-Za-z0-9+/_-]+={0,2})$/;
const HOSTNAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i;

const SECRET_KEY_FORM = 'must be a Clerk secret key (sk_live_… or sk_test_…)';
const PUBLISHABLE_KEY_FORM =
  'must be a Clerk publishable key (pk_live_… or pk_test_… then the base64 of the Frontend API host and "$")';

/** The mode of a Clerk secret key (`sk_live_…` → `live`), or undefined when it is not one. */
export function secretKeyMode(key: string): ClerkMode | undefined {
  return SECRET_KEY.exec(key)?.[1] as ClerkMode | undefined;
}

/**
 * Reads a Clerk publishable key: `pk_live_`/`pk_test_` followed by the base64 of the
 * instance's Frontend API host and a `$` (e.g. `clerk.example.com$`).
 * @returns its mode and Frontend API host, or undefined when it is not of that form.
 */
export function parsePublishableKey(key: string): { mode: ClerkMode; frontendApi: string } | undefined {
  const match = PUBLISHABLE_KEY.exec(key);
  if (!match?.[1] || !match[2]) return undefined;
  // Node's base64 decoder also reads the URL-safe alphabet.
  const decoded = Buffer.from(match[2], 'base64').toString('utf8');
  if (!decoded.endsWith('$')) return undefined;
  const host = decoded.slice(0, -1);
  if (!HOSTNAME.test(host)) return undefined;
  return { mode: match[1] as ClerkMode, frontendApi: host };
}

const requiredString = () =>
  z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') });

/**
 * Validates a Clerk secret (the seed's `production/api-keys/clerk` shape). Unknown fields
 * are carried over; messages name fields, never values.
 */
export const clerkSecretSchema = z
  .looseObject({
    /** The Backend API secret key, rotated from a staged value. */
    secret_key: requiredString().check(z.regex(SECRET_KEY, { error: SECRET_KEY_FORM })),
    /** The publishable key: public, carried over unless a new one is staged with the secret key. */
    publishable_key: requiredString().check(
      z.refine((key) => parsePublishableKey(key) !== undefined, { error: PUBLISHABLE_KEY_FORM }),
    ),
  })
  .check(
    z.superRefine((secret, ctx) => {
      const secretMode = secretKeyMode(secret.secret_key);
      const publishableMode = parsePublishableKey(secret.publishable_key)?.mode;
      if (secretMode && publishableMode && secretMode !== publishableMode) {
        ctx.addIssue({
          code: 'custom',
          path: ['publishable_key'],
          message: `is a ${publishableMode} key but secret_key is a ${secretMode} key`,
        });
      }
    }),
  );

/** The typed view of a Clerk secret. */
export type ClerkSecret = z.infer<typeof clerkSecretSchema>;

/** Options of {@link createClerkProvider}. */
export interface ClerkProviderOptions {
  /** Backend API base URL without `/v1`, e.g. {@link CLERK_API_URL}. */
  readonly apiUrl: string;
  /** Retry policy of the Backend API call. */
  readonly retry?: RetryPolicy;
}

const userCountSchema = z.looseObject({ total_count: z.number() });

/** `GET /v1/domains`: the instance's primary and satellite domains, each with its Frontend API URL. */
const domainsSchema = z.looseObject({
  data: z.array(z.looseObject({ frontend_api_url: z.string() })),
});

/**
 * A secret key of another Clerk instance than the one the publishable key names: the
 * application's backend would talk to another instance, and every session would fail to
 * verify. The message names the field, both Frontend API hosts and what to stage.
 */
export class ClerkInstanceMismatchError extends MalformedSecretError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, ['secret_key'], options);
    this.name = 'ClerkInstanceMismatchError';
  }
}

/** No API revokes a Clerk secret key: Clerk issues and deletes them only in its dashboard. */
function manualRevocation(old: ClerkSecret, current: ClerkSecret): readonly string[] {
  if (old.secret_key === current.secret_key) return [];
  return [
    `delete the previous Clerk secret key ${keyHint(old.secret_key)} in the Clerk dashboard (API keys)`,
  ];
}

/**
 * The Clerk provider. Clerk issues secret keys only in its dashboard, so a rotation takes
 * the new secret key from a staged value, proves it against the Backend API, and reminds
 * the operator to delete the old one in the dashboard.
 */
export function createClerkProvider(options: ClerkProviderOptions): ApiKeyProvider<ClerkSecret> {
  const apiUrl = options.apiUrl.replace(/\/+$/, '');
  const retry = options.retry ?? DEFAULT_RETRY;

  /**
   * Proves `secretKey` belongs to the instance `publishableKey` names: the Backend API's
   * `GET /v1/domains`, called with the secret key, lists the instance's domains, and one of
   * their Frontend API URLs must have the host the publishable key encodes.
   * @throws {ClerkInstanceMismatchError} when none has (`what` says which value is at fault).
   * @throws {KeyTestFailedError} when the Backend API refuses the secret key.
   */
  async function proveInstance(secretKey: string, publishableKey: string, what: string): Promise<void> {
    const frontendApi = parsePublishableKey(publishableKey)?.frontendApi.toLowerCase();
    const operation = 'list the instance domains with the new secret key';
    const response = await requestJson(
      {
        provider: PROVIDER,
        operation,
        method: 'GET',
        url: `${apiUrl}/v1/domains`,
        headers: { authorization: `Bearer ${secretKey}` },
        schema: domainsSchema,
        accept: [401, 403],
      },
      retry,
    );
    if (response.status === 401 || response.status === 403) {
      throw new KeyTestFailedError(
        PROVIDER,
        `the new secret key was refused by the Backend API: HTTP ${response.status} ${clerkCode(response.errorBody)}`,
        { status: response.status },
      );
    }
    const hosts = (response.body?.data ?? []).map((domain) => hostOf(domain.frontend_api_url));
    if (frontendApi && hosts.includes(frontendApi)) return;
    throw new ClerkInstanceMismatchError(
      `${what}: secret_key belongs to another Clerk instance than publishable_key: the publishable key names the ` +
        `Frontend API ${frontendApi ?? '(none)'}, while the secret key's instance serves ${hosts.join(', ') || 'no domain'}. ` +
        'Stage the secret key of the instance whose publishable key the secret holds (Clerk dashboard → that application → ' +
        "API keys), or stage that instance's publishable_key with it",
    );
  }

  return {
    name: PROVIDER,
    schema: clerkSecretSchema,
    stagedFields: ['secret_key'],

    async issue({ current, staged, context }: IssueInput<ClerkSecret>): Promise<SecretFields> {
      const secretKey = staged?.secret_key;
      if (secretKey === undefined) throw stagedValueMissing(context.secret.name, ['secret_key']);
      const refused = (field: string, problem: string) =>
        new MalformedSecretError(
          `the ${STAGED_LABEL} value of secret ${context.secret.name} is not usable: ${field}: ${problem}`,
          [field],
        );
      const mode = typeof secretKey === 'string' ? secretKeyMode(secretKey) : undefined;
      if (typeof secretKey !== 'string' || !mode) throw refused('secret_key', SECRET_KEY_FORM);
      const currentMode = secretKeyMode(current.secret_key);
      if (mode !== currentMode) {
        throw refused(
          'secret_key',
          `is a ${mode} key but AWSCURRENT's is a ${currentMode} key: stage the ${currentMode} secret key of the same instance`,
        );
      }
      const fields: SecretFields = { secret_key: secretKey };
      const publishable = staged?.publishable_key;
      if (publishable !== undefined) {
        const parsed = typeof publishable === 'string' ? parsePublishableKey(publishable) : undefined;
        if (typeof publishable !== 'string' || !parsed)
          throw refused('publishable_key', PUBLISHABLE_KEY_FORM);
        if (parsed.mode !== mode)
          throw refused('publishable_key', `is a ${parsed.mode} key but secret_key is a ${mode} key`);
        fields.publishable_key = publishable;
      }
      await proveInstance(
        secretKey,
        publishable ?? current.publishable_key,
        `the ${STAGED_LABEL} value of secret ${context.secret.name} is not usable`,
      );
      context.logger.info('Clerk secret key taken from the staged value', {
        publishableKey: publishable === undefined ? 'carried over' : 'staged',
      });
      return fields;
    },

    async test({ value, context }: TestInput<ClerkSecret>): Promise<void> {
      await proveInstance(value.secret_key, value.publishable_key, `secret ${context.secret.name}`);
      // A cheap read that needs the secret key and returns no personal data.
      const response = await requestJson(
        {
          provider: PROVIDER,
          operation: 'count users with the new secret key',
          method: 'GET',
          url: `${apiUrl}/v1/users/count`,
          headers: { authorization: `Bearer ${value.secret_key}` },
          schema: userCountSchema,
          accept: [401, 403],
        },
        retry,
      );
      if (response.status === 401 || response.status === 403) {
        throw new KeyTestFailedError(
          PROVIDER,
          `the new secret key was refused by the Backend API: HTTP ${response.status} ${clerkCode(response.errorBody)}`,
          { status: response.status },
        );
      }
      context.logger.info('Clerk secret key works');
    },

    manualRevocation,

    async revoke({ old, current, keep = [] }: RevokeInput<ClerkSecret>): Promise<RevokeOutcome> {
      // A key any kept value still holds (AWSPENDING, AWSPREVIOUS in its grace period) must stay.
      if (keep.some((value) => value.secret_key === old.secret_key)) return { revoked: [], manual: [] };
      return { revoked: [], manual: manualRevocation(old, current) };
    },
  };
}

/** The code of a Clerk error answer (`{errors: [{code, message, long_message}]}`), short and never a key. */
function clerkCode(body: unknown): string {
  const errors =
    typeof body === 'object' && body !== null ? (body as { errors?: unknown }).errors : undefined;
  const code = Array.isArray(errors) ? (errors[0] as { code?: unknown } | undefined)?.code : undefined;
  return typeof code === 'string' ? code.replace(/[^\w.:-]/g, '').slice(0, 64) : 'error';
}

/** The lower-case host of a Frontend API URL (`https://clerk.example.com` → `clerk.example.com`), or '' when it is not a URL. */
function hostOf(url: string): string {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return '';
  }
}
