/**
 * Keys holding characters no HTTP header, URL or form field can carry (a key written from a
 * file by a templating tool ends in a newline): every provider's schema refuses them with a
 * message naming the field only, before any request, so no library ever gets to quote the key
 * in an error. Checked at the schema, through the engine's parse (the error a step throws),
 * for staged values, and end to end through the deployed handler with its log captured.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { IAMClient } from '@aws-sdk/client-iam';
import { CreateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildRotateApiKeyHandler } from '../../../functions/rotate-api-key/handler.js';
import type { ApiKeyProvider } from '../../../shared/api-keys/provider.js';
import { createProviders } from '../../../shared/api-keys/providers/index.js';
import { loadApiKeyRotationConfig } from '../../../shared/config/index.js';
import { MalformedSecretError } from '../../../shared/rotation/errors.js';
import { parseSecretVersion } from '../../../shared/rotation/parse.js';
import type { SecretFields } from '../../../shared/rotation/strategy.js';
import {
  captureOutput,
  findLeaks,
  runSteps,
  secretsManager,
  stack,
  startRotation,
  uniqueName,
} from '../../support/bed.js';
import { type FakeClerk, startFakeClerk } from '../../support/fakes/clerk-server.js';
import { type FakeGoogle, startFakeGoogle } from '../../support/fakes/google-server.js';
import { type FakeResend, startFakeResend } from '../../support/fakes/resend-server.js';
import { RecordingLogger } from '../../support/fakes.js';
import { providerContext, Seen } from '../../support/provider-tests.js';

const FAST = { attempts: 2, baseDelayMs: 1, maxDelayMs: 2, timeoutMs: 2000 };
const PUBLISHABLE = `pk_live_${Buffer.from('clerk.acme.example$').toString('base64')}`;

/** Characters no header value carries as they are, by the name tests give them. */
const HOSTILE: readonly (readonly [name: string, char: string])[] = [
  ['CR', '\r'],
  ['LF', '\n'],
  ['CRLF', '\r\n'],
  ['NUL', '\0'],
  ['TAB', '\t'],
  ['a space', ' '],
  ['non-ASCII (é)', 'é'],
  ['non-ASCII (zero-width space)', '\u200b'],
];

/** One provider's secret: a valid value, and the key fields sent in a header, URL or form. */
interface Shape {
  readonly provider: 'aws' | 'resend' | 'google' | 'clerk';
  readonly valid: SecretFields;
  readonly fields: readonly string[];
}

const SHAPES: readonly Shape[] = [
  {
    provider: 'aws',
    valid: {
      access_key_id: 'AKIAIOSFODNN7EXAMPLE',
      secret_access_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    },
    fields: ['access_key_id', 'secret_access_key'],
  },
  {
    provider: 'resend',
    valid: { api_key: 're_Abc123def456ghi789jkl012', api_key_id: '4ef9a417-02e9-4d39-ad75-9611e0fcc33c' },
    fields: ['api_key', 'api_key_id'],
  },
  {
    provider: 'google',
    valid: {
      safe_browsing_api_key: 'AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW',
      recaptcha_secret_key: '6LeAbCdEfGhIjKlMnOpQrStUvWxYz0123456789',
    },
    fields: ['safe_browsing_api_key', 'recaptcha_secret_key'],
  },
  {
    provider: 'clerk',
    valid: { secret_key: 'sk_live_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789', publishable_key: PUBLISHABLE },
    fields: ['secret_key'],
  },
];

/** The providers as deployed, configured for endpoints no test request may reach. */
const providers = createProviders(
  loadApiKeyRotationConfig({
    RESEND_API_URL: 'http://127.0.0.1:9',
    CLERK_API_URL: 'http://127.0.0.1:9',
    GOOGLE_API_KEYS_URL: 'http://127.0.0.1:9',
    GOOGLE_SAFE_BROWSING_URL: 'http://127.0.0.1:9',
    RECAPTCHA_VERIFY_URL: 'http://127.0.0.1:9/recaptcha/api/siteverify',
  }),
  { retry: FAST },
);
const providerNamed = (name: string): ApiKeyProvider => {
  const provider = providers.get(name);
  if (!provider) throw new Error(`no provider ${name}`);
  return provider;
};

/** Every (provider, field, character, position) to refuse, with the hostile value and the key it spoils. */
const CASES = SHAPES.flatMap((shape) =>
  shape.fields.flatMap((field) =>
    HOSTILE.flatMap(([name, char]) => {
      const clean = String(shape.valid[field]);
      return [
        { ...shape, field, name, where: 'at the end', value: `${clean}${char}`, clean },
        {
          ...shape,
          field,
          name,
          where: 'inside',
          value: `${clean.slice(0, 10)}${char}${clean.slice(10)}`,
          clean,
        },
      ];
    }),
  ),
);

describe('every provider schema', () => {
  it.each(SHAPES)(
    'accepts the valid $provider value the refusals below start from',
    ({ provider, valid }) => {
      expect(providerNamed(provider).schema.safeParse(valid).success).toBe(true);
    },
  );

  it.each(CASES)(
    '$provider: refuses $field with $name $where, naming only the field, and quotes no key',
    ({ provider, valid, field, value, clean }) => {
      const seen = new Seen(new RecordingLogger());
      const strategy = { kind: `api-key:${provider}`, schema: providerNamed(provider).schema };
      const fields = { ...valid, [field]: value };

      const result = strategy.schema.safeParse(fields);
      let thrown: unknown;
      try {
        parseSecretVersion(
          strategy,
          `production/api-keys/${provider}`,
          'v1',
          'AWSCURRENT',
          JSON.stringify(fields),
        );
      } catch (error) {
        thrown = error;
      }
      seen.errors.push(thrown);
      seen.outputs.push(result.error?.issues);

      expect(result.success).toBe(false);
      expect(result.error?.issues.map((issue) => issue.path.join('.'))).toEqual([field]);
      expect(thrown).toBeInstanceOf(MalformedSecretError);
      expect((thrown as MalformedSecretError).fields).toEqual([field]);
      expect((thrown as Error).message).toMatch(new RegExp(`: ${field}: [^;]+$`));
      expect(seen.leaks([value, clean])).toEqual([]);
    },
  );
});

describe('staged values', () => {
  const hostile = HOSTILE.map(([name, char]) => [name, char] as const);

  it.each(hostile)(
    'google: refuses a staged reCAPTCHA secret with %s before any request',
    async (_name, char) => {
      const logger = new RecordingLogger();
      const seen = new Seen(logger);
      const current = providerNamed('google').schema.parse({
        ...SHAPES[2]?.valid,
        service_account_secret_id: 'production/rotation/google-service-account',
      });
      const staged = `6LeStagedStagedStagedStagedStagedStaged${char}`;

      const error = await seen.failure(
        providerNamed('google').issue({
          current,
          staged: { recaptcha_secret_key: staged },
          keep: [current],
          context: providerContext({ secretName: 'production/api-keys/google', token: 'v2', logger }),
        }),
      );

      expect(error).toBeInstanceOf(MalformedSecretError);
      expect((error as MalformedSecretError).fields).toEqual(['recaptcha_secret_key']);
      expect(error.message).toContain(
        'recaptcha_secret_key: must be a non-empty string that is printable ASCII',
      );
      expect(seen.leaks([staged, staged.trim()])).toEqual([]);
    },
  );

  it.each(hostile)('clerk: refuses a staged secret key with %s', async (_name, char) => {
    const logger = new RecordingLogger();
    const seen = new Seen(logger);
    const current = providerNamed('clerk').schema.parse(SHAPES[3]?.valid);
    const staged = `sk_live_StagedStagedStagedStagedStaged${char}`;

    const error = await seen.failure(
      providerNamed('clerk').issue({
        current,
        staged: { secret_key: staged },
        keep: [current],
        context: providerContext({ secretName: 'production/api-keys/clerk', token: 'v2', logger }),
      }),
    );

    expect(error).toBeInstanceOf(MalformedSecretError);
    expect((error as MalformedSecretError).fields).toEqual(['secret_key']);
    expect(seen.leaks([staged, staged.trim()])).toEqual([]);
  });
});

describe('rotateApiKey with a key no header can carry in AWSCURRENT', () => {
  let sm: SecretsManagerClient;
  let resend: FakeResend;
  let google: FakeGoogle;
  let clerk: FakeClerk;
  let output: ReturnType<typeof captureOutput>;

  beforeAll(async () => {
    sm = secretsManager();
    [resend, google, clerk] = await Promise.all([startFakeResend(), startFakeGoogle(), startFakeClerk()]);
  });

  afterAll(async () => {
    await Promise.all([resend?.close(), google?.close(), clerk?.close()]);
    sm?.destroy();
  });

  beforeEach(() => {
    output = captureOutput();
  });

  afterEach(() => {
    output.stop();
  });

  /** The handler as deployed, its providers on the fakes (IAM on the shared moto). */
  function handler() {
    const config = loadApiKeyRotationConfig({
      RESEND_API_URL: resend.url,
      CLERK_API_URL: clerk.url,
      GOOGLE_API_KEYS_URL: google.apiKeysUrl,
      GOOGLE_SAFE_BROWSING_URL: google.safeBrowsingUrl,
      RECAPTCHA_VERIFY_URL: google.recaptchaVerifyUrl,
    });
    const logger = new Logger({ serviceName: 'key-characters-e2e', logLevel: 'DEBUG' });
    const iam = new IAMClient({
      region: 'us-east-1',
      endpoint: stack().awsEndpoint,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    return buildRotateApiKeyHandler({
      config,
      secretsManager: sm,
      logger,
      providers: createProviders(config, { retry: FAST, iam }),
    });
  }

  const requests = () =>
    resend.server.requests.length + google.server.requests.length + clerk.server.requests.length;

  it.each(
    SHAPES.flatMap((shape) =>
      [
        ['LF', '\n'],
        ['CR', '\r'],
        ['NUL', '\0'],
        ['non-ASCII', 'ü'],
      ].map(([name, char]) => ({ ...shape, field: shape.fields.at(-1) ?? '', name, char: char ?? '' })),
    ),
  )(
    '$provider: createSecret fails naming $field ($name), sends no request, and logs no key',
    async ({ provider, valid, field, char }) => {
      const clean = String(valid[field]);
      const value = { ...valid, [field]: `${clean}${char}`, rotated_at: '2024-01-01T00:00:00Z' };
      const name = `production/api-keys/${provider}-${uniqueName('chars')}`;
      const created = await sm.send(
        new CreateSecretCommand({
          Name: name,
          SecretString: JSON.stringify(value),
          Tags: [{ Key: 'rotation-provider', Value: provider }],
        }),
      );
      const arn = created.ARN ?? '';
      const token = await startRotation(sm, arn);
      const before = requests();

      const error = await runSteps(handler(), arn, token, ['createSecret']).then(
        () => undefined,
        (e: unknown) => e,
      );

      expect(error).toBeInstanceOf(MalformedSecretError);
      expect((error as MalformedSecretError).fields).toEqual([field]);
      expect((error as Error).message).toContain(
        `(AWSCURRENT) of secret ${name} is not a valid api-key:${provider} secret: ${field}: must`,
      );
      expect(requests()).toBe(before);
      const logged = output.text();
      expect(logged).toContain('invocation failed');
      expect(findLeaks(logged, [`${clean}${char}`, clean])).toEqual([]);
    },
  );
});
