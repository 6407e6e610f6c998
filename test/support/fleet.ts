/**
 * Secrets in the setup guide's shapes for fleet and report tests: each test uses its own
 * environment name, so the managed prefixes (`{environment}/database/`, `…/api-keys/`) hold
 * only its secrets on the shared moto server.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  CreateSecretCommand,
  SecretsManagerClient,
  type SecretsManagerClientConfig,
  type Tag,
} from '@aws-sdk/client-secrets-manager';
import { DAY_MS } from '../../shared/policy/index.js';
import { uniqueName } from './bed.js';

/** A fresh environment name: its prefixes are this test's alone. */
export const uniqueEnvironment = () => uniqueName('env');

/** The setup guide's secret kinds: the database and the four API-key secrets. */
export type SeedKind = 'database' | 'clerk' | 'aws' | 'resend' | 'google';

/** A value in the seed's shape for `kind`, with made-up credentials (returned so tests can scan for leaks). */
export function seedValue(
  kind: SeedKind,
  rotatedAt?: Date,
): { value: Record<string, string>; secrets: string[] } {
  const token = () => randomBytes(12).toString('hex');
  const stamp: Record<string, string> = rotatedAt
    ? { rotated_at: rotatedAt.toISOString().replace(/\.\d{3}Z$/, 'Z') }
    : {};
  switch (kind) {
    case 'database': {
      const password = `pw-${token()}`;
      return {
        value: {
          connection_string: `postgresql://muejam_user:${password}@db.example.com:5432/muejam`,
          host: 'db.example.com',
          port: '5432',
          database: 'muejam',
          username: 'muejam_user',
          password,
          ...stamp,
        },
        secrets: [password],
      };
    }
    case 'clerk': {
      const secretKey = `sk_live_${token()}`;
      return {
        value: { secret_key: secretKey, publishable_key: `pk_live_${token()}`, ...stamp },
        secrets: [secretKey],
      };
    }
    case 'aws': {
      const secretAccessKey = token();
      return {
        value: {
          access_key_id: `AKIA${token().slice(0, 16).toUpperCase()}`,
          secret_access_key: secretAccessKey,
          ...stamp,
        },
        secrets: [secretAccessKey],
      };
    }
    case 'resend': {
      const apiKey = `re_${token()}`;
      return { value: { api_key: apiKey, ...stamp }, secrets: [apiKey] };
    }
    case 'google': {
      const [safeBrowsing, recaptcha] = [`AIza${token()}`, `6Le${token()}`];
      return {
        value: { safe_browsing_api_key: safeBrowsing, recaptcha_secret_key: recaptcha, ...stamp },
        secrets: [safeBrowsing, recaptcha],
      };
    }
  }
}

/** The seed's name for `kind` under `environment`, with an optional suffix. */
export const seedName = (environment: string, kind: SeedKind, suffix = '') =>
  kind === 'database'
    ? `${environment}/database/primary${suffix}`
    : `${environment}/api-keys/${kind}${suffix}`;

/** Creates a secret in the seed's shape, `rotated_at` so many days ago (none when undefined). Returns its ARN and credential values. */
export async function createSeedSecret(
  client: SecretsManagerClient,
  name: string,
  kind: SeedKind,
  options: { rotatedDaysAgo?: number; now?: Date; tags?: Record<string, string> } = {},
): Promise<{ arn: string; secrets: string[] }> {
  const now = options.now ?? new Date();
  const { value, secrets } = seedValue(
    kind,
    options.rotatedDaysAgo === undefined
      ? undefined
      : new Date(now.getTime() - options.rotatedDaysAgo * DAY_MS),
  );
  const tags: Tag[] = Object.entries(options.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
  const out = await client.send(
    new CreateSecretCommand({
      Name: name,
      SecretString: JSON.stringify(value),
      ...(tags.length > 0 ? { Tags: tags } : {}),
    }),
  );
  return { arn: out.ARN ?? name, secrets };
}

/** The transport of a real SDK client, for wrapping. */
type Transport = NonNullable<SecretsManagerClientConfig['requestHandler']> & {
  handle(request: { headers: Record<string, string> }, options?: unknown): Promise<{ response: unknown }>;
};

/**
 * A request handler (the SDK's transport) that answers the first `times` calls of
 * `command` with HTTP 400 ThrottlingException, as Secrets Manager does past its quota, and
 * sends everything else on to the real transport. `fired` counts the throttled attempts.
 */
export function throttlingTransport(command: string, times: number) {
  const real = new SecretsManagerClient({ region: 'us-east-1' }).config
    .requestHandler as unknown as Transport;
  const state = { fired: 0 };
  const handler = {
    handle: async (request: { headers: Record<string, string> }, options?: unknown) => {
      if (request.headers['x-amz-target'] === `secretsmanager.${command}` && state.fired < times) {
        state.fired++;
        return {
          response: {
            statusCode: 400,
            reason: 'Bad Request',
            headers: {
              'content-type': 'application/x-amz-json-1.1',
              'x-amzn-requestid': `throttled-${state.fired}`,
            },
            body: Readable.from([
              Buffer.from(JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' })),
            ]),
          },
        };
      }
      return real.handle(request, options);
    },
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
  };
  return { handler: handler as unknown as SecretsManagerClientConfig['requestHandler'], state };
}

/** Records the `SecretIdList` length of every BatchGetSecretValue call `client` sends. */
export function recordBatchSizes(client: SecretsManagerClient): number[] {
  const sizes: number[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'BatchGetSecretValueCommand')
        sizes.push((args.input as { SecretIdList?: string[] }).SecretIdList?.length ?? 0);
      return next(args);
    },
    { step: 'initialize', name: 'recordBatchSizes' },
  );
  return sizes;
}
