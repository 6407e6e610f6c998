/**
 * moto overwrites a version's value on a repeated PutSecretValue with the same
 * ClientRequestToken; AWS refuses to change a version (its API reference: "If a version with
 * this value already exists and the version's SecretString … values are different from those
 * in the request, then the request fails", ResourceExistsException) and ignores an identical
 * repeat. Tests of two attempts running at once need AWS's behaviour, so this middleware gives
 * a moto-backed client exactly that: a check-and-write under one in-process lock per version.
 * Everything else still goes to moto through the real SDK client.
 */
import {
  GetSecretValueCommand,
  type PutSecretValueCommandInput,
  ResourceExistsException,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';

/** One promise chain per version id: a write waits for the one before it. */
const locks = new Map<string, Promise<unknown>>();

/** How many PutSecretValue calls this middleware refused, for tests to assert that the race happened. */
export const refusedWrites = { count: 0 };

async function withLock<R>(key: string, fn: () => Promise<R>): Promise<R> {
  const before = locks.get(key) ?? Promise.resolve();
  const run = before.then(fn, fn);
  const settled = run.catch(() => undefined);
  locks.set(key, settled);
  try {
    return await run;
  } finally {
    if (locks.get(key) === settled) locks.delete(key);
  }
}

/** Makes `client`'s PutSecretValue behave as AWS documents when the version already holds a value. */
export function withAwsPutSemantics<C extends SecretsManagerClient>(client: C): C {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'PutSecretValueCommand') return next(args);
      const input = args.input as PutSecretValueCommandInput;
      const token = input.ClientRequestToken;
      if (!token || !input.SecretId) return next(args);
      return withLock(token, async () => {
        let existing: string | undefined;
        try {
          const out = await client.send(
            new GetSecretValueCommand({ SecretId: input.SecretId, VersionId: token }),
          );
          existing = out.SecretString;
        } catch (error) {
          if (!(error instanceof ResourceNotFoundException)) throw error;
        }
        if (existing !== undefined && existing !== input.SecretString) {
          refusedWrites.count++;
          throw new ResourceExistsException({
            message: `You can't modify an existing version, you can only create a new version (${token})`,
            $metadata: { httpStatusCode: 400 },
          });
        }
        return next(args);
      });
    },
    { step: 'initialize', name: 'awsPutSemantics' },
  );
  return client;
}
