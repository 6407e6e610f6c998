import { randomBytes, randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import pg from 'pg';
import { inject } from 'vitest';
import type { StepName } from '../../shared/rotation/index.js';

/** The local stack's coordinates, from the global setup. */
export const stack = () => inject('stack');

/** A Secrets Manager client on the moto server, as the functions build it (plus the endpoint). */
export function secretsManager(): SecretsManagerClient {
  return new SecretsManagerClient({
    region: 'us-east-1',
    endpoint: stack().awsEndpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}

/** A static Lambda context for handler calls. */
export const lambdaContext = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'rotateDatabase',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:rotateDatabase',
  memoryLimitInMB: '256',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  logGroupName: '/aws/lambda/rotateDatabase',
  logStreamName: '2026/11/25/[$LATEST]abcdef',
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} as Context;

/** A fresh, unique name: tests share one moto server and one PostgreSQL. */
export const uniqueName = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

/** A password that is hard to quote: quotes, backslash, semicolon, percent, at, unicode. */
export const hostilePassword = () => `p'a"s\\s;--%@:/?#${randomBytes(4).toString('hex')}ü€`;

/** Runs `fn` with a client logged in as the local PostgreSQL's superuser. */
export async function superuser<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const { host, port, superuser: user, superuserPassword } = stack().postgres;
  const client = new pg.Client({ host, port, user, password: superuserPassword, database: 'postgres' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates a login role with the server's own quoting (`format('%I', '%L')`), independent of ours. */
export async function createRole(name: string, password: string): Promise<void> {
  await superuser(async (client) => {
    const { rows } = await client.query<{ sql: string }>(
      "SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', $1::text, $2::text) AS sql",
      [name, password],
    );
    await client.query(rows[0]?.sql ?? '');
  });
}

/** True when `user` logs in with `password`; false when the server refuses it; throws otherwise. */
export async function canLogin(
  user: string,
  password: string,
  port = stack().postgres.port,
): Promise<boolean> {
  const client = new pg.Client({ host: stack().postgres.host, port, user, password, database: 'postgres' });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (error) {
    if (['28P01', '28000'].includes((error as { code?: string }).code ?? '')) return false;
    throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A secret in the seed's `production/database/primary` shape. */
export function seedDatabaseSecret(options: {
  username: string;
  password: string;
  port?: number;
  extra?: object;
}) {
  const { host } = stack().postgres;
  const port = options.port ?? stack().postgres.port;
  const url = new URL(`postgresql://${host}:${port}/postgres`);
  url.username = encodeURIComponent(options.username);
  url.password = encodeURIComponent(options.password);
  return {
    connection_string: url.toString(),
    host,
    port: String(port),
    database: 'postgres',
    username: options.username,
    password: options.password,
    sslmode: 'disable',
    rotated_at: '2024-01-01T00:00:00Z',
    ...options.extra,
  };
}

/**
 * Creates a secret and starts its rotation as Secrets Manager would: RotateSecret records
 * it and stages an empty AWSPENDING version (moto then answers 404, as it cannot invoke a
 * Lambda). Returns the secret's ARN and the rotation's token.
 */
export async function createRotatingSecret(
  client: SecretsManagerClient,
  name: string,
  value: object | string,
  options: { rotate?: boolean } = {},
): Promise<{ arn: string; token: string }> {
  const created = await client.send(
    new CreateSecretCommand({
      Name: name,
      SecretString: typeof value === 'string' ? value : JSON.stringify(value),
    }),
  );
  const arn = created.ARN ?? name;
  if (options.rotate === false) return { arn, token: randomUUID() };
  return { arn, token: await startRotation(client, arn) };
}

/** Starts a rotation (RotateSecret) and returns its token. */
export async function startRotation(client: SecretsManagerClient, arn: string): Promise<string> {
  await client
    .send(
      new RotateSecretCommand({
        SecretId: arn,
        RotationLambdaARN: 'arn:aws:lambda:us-east-1:123456789012:function:rotateDatabase',
        RotationRules: { AutomaticallyAfterDays: 90 },
      }),
    )
    .catch((error: Error) => {
      if (error.name !== 'ResourceNotFoundException') throw error;
    });
  const versions = await stagesOf(client, arn);
  const token = Object.entries(versions).find(([, stages]) => stages.includes('AWSPENDING'))?.[0];
  if (!token) throw new Error('RotateSecret staged no AWSPENDING version');
  return token;
}

/** Version id → staging labels. */
export async function stagesOf(client: SecretsManagerClient, arn: string): Promise<Record<string, string[]>> {
  const out = await client.send(new DescribeSecretCommand({ SecretId: arn }));
  return (out.VersionIdsToStages ?? {}) as Record<string, string[]>;
}

/** The parsed value staged `stage`, or undefined when no version holding a value has it. */
export async function valueAt(
  client: SecretsManagerClient,
  arn: string,
  stage: string,
): Promise<Record<string, string> | undefined> {
  try {
    const out = await client.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: stage }));
    return out.SecretString ? JSON.parse(out.SecretString) : undefined;
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

export const STEPS: readonly StepName[] = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'];

type Handler = (event: unknown, context: Context) => Promise<unknown>;

/** Runs steps in order as Secrets Manager does; returns their results. */
export async function runSteps(
  handler: Handler,
  arn: string,
  token: string,
  steps: readonly StepName[] = STEPS,
): Promise<unknown[]> {
  const results: unknown[] = [];
  for (const Step of steps)
    results.push(await handler({ SecretId: arn, ClientRequestToken: token, Step }, lambdaContext));
  return results;
}

/** Captures everything written to stdout and stderr while it is on (echoed when `ECHO_LOGS=1`). */
export function captureOutput() {
  const chunks: string[] = [];
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const hook =
    (original: typeof out) =>
    (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      if (process.env.ECHO_LOGS !== '1') return true;
      return (original as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
    };
  process.stdout.write = hook(out) as typeof process.stdout.write;
  process.stderr.write = hook(err) as typeof process.stderr.write;
  return {
    text: () => chunks.join(''),
    stop: () => {
      process.stdout.write = out;
      process.stderr.write = err;
    },
  };
}

/** Asserts that none of `values` occurs in `text` (raw, URL-encoded or JSON-escaped). */
export function findLeaks(text: string, values: readonly string[]): string[] {
  return values.filter(
    (value) =>
      value.length > 0 &&
      (text.includes(value) ||
        text.includes(encodeURIComponent(value)) ||
        text.includes(JSON.stringify(value).slice(1, -1))),
  );
}

/** Any SDK v3 client: only its middleware stack is used. */
interface WithMiddleware {
  readonly middlewareStack: { add: SecretsManagerClient['middlewareStack']['add'] };
}

/**
 * The error an injected fault throws: shaped as the SDK shapes an AWS service exception
 * (`$fault`, `$metadata`), as a throttled or failing AWS call would be, so its message is
 * quoted as AWS's messages are.
 */
function injectedServiceError(message: string): Error {
  return Object.assign(new Error(message), {
    name: 'InjectedFault',
    $fault: 'server' as const,
    $metadata: { httpStatusCode: 500 },
  });
}

/** A client with injected faults: how many of them have fired so far. */
export interface FaultInjected {
  /** Incremented each time an injected fault throws (a test asserts it, so a no-op injection fails). */
  readonly faultsFired: number;
}

const firings = new WeakMap<object, { count: number }>();
let injections = 0;

/** How many faults {@link injectFault} injected on `client` have fired: a fault test asserts its fault happened. */
export function faultsFired(client: object): number {
  return firings.get(client)?.count ?? 0;
}

/**
 * Makes the `nth` call of `command` (e.g. `PutSecretValueCommand`) on `client` fail, either
 * before it is sent or after it took effect (a lost response); or, given a predicate instead
 * of `nth`, every call whose input it accepts. `match`, when given with a number, picks the
 * calls that count by their input (e.g. one `VersionId`). Returns the client, which counts
 * the faults that fired in `faultsFired` (also {@link faultsFired}).
 */
export function injectFault<C>(
  client: C,
  command: string,
  when: 'before' | 'after',
  nth: number | ((input: Record<string, unknown>) => boolean) = 1,
  match: (input: Record<string, unknown>) => boolean = () => true,
): C & FaultInjected {
  let record = firings.get(client as object);
  if (!record) {
    const created = { count: 0 };
    record = created;
    firings.set(client as object, created);
    Object.defineProperty(client, 'faultsFired', { get: () => created.count });
  }
  const counter = record;
  let calls = 0;
  const matches = (input: Record<string, unknown>) =>
    typeof nth === 'number' ? match(input) && ++calls === nth : nth(input);
  // Clients' stacks differ only in their input and output types, which this middleware ignores.
  (client as unknown as WithMiddleware).middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === command && matches(args.input as Record<string, unknown>)) {
        counter.count++;
        if (when === 'before') throw injectedServiceError(`injected: ${command} failed`);
        await next(args);
        throw injectedServiceError(`injected: ${command} took effect but its response was lost`);
      }
      return next(args);
    },
    { step: 'initialize', name: `injectFault-${++injections}` },
  );
  return client as C & FaultInjected;
}
