/**
 * A key that no HTTP header can carry (a secret written from a file, ending in a newline)
 * reaches `fetch` through `requestJson`; fetch's error quotes the whole header. Neither the
 * log line of the handler boundary nor the error thrown (its message, stack, cause chain)
 * may carry any part of the key.
 */
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLambdaHandler } from '../../functions/lib/rotation-handler.js';
import { ProviderAuthError, ProviderUnavailableError } from '../../shared/api-keys/errors.js';
import { type RetryPolicy, requestJson } from '../../shared/api-keys/http.js';
import { RedactedError } from '../../shared/logging/redact.js';
import { captureOutput, findLeaks, lambdaContext } from '../support/bed.js';
import { FakeHttpServer } from '../support/fakes/http-server.js';
import { errorTexts } from '../support/provider-tests.js';

const FAST: RetryPolicy = { attempts: 2, baseDelayMs: 1, maxDelayMs: 1, timeoutMs: 2000 };

let server: FakeHttpServer;
let output: ReturnType<typeof captureOutput>;

beforeAll(async () => {
  server = (await FakeHttpServer.start()).route('GET', '/api-keys', () => ({
    status: 401,
    body: { name: 'invalid_api_key' },
  }));
});
afterAll(() => server.close());
beforeEach(() => {
  server.reset();
  output = captureOutput();
});
afterEach(() => output.stop());

/** Lists API keys with `key`. */
function listKeys(key: string) {
  return requestJson(
    {
      provider: 'resend',
      operation: 'list API keys',
      method: 'GET',
      url: `${server.url}/api-keys`,
      headers: { authorization: `Bearer ${key}` },
    },
    FAST,
  );
}

/** A handler, wired as the functions are, whose step lists API keys with `key`. */
function listKeysWith(key: string) {
  return createLambdaHandler(new Logger({ serviceName: 'http-leaks' }), () => listKeys(key));
}

/** A key around `characters`, and its printable parts (a leak of any part is a leak). */
function keyWith(characters: string) {
  const parts = [`re_${randomBytes(10).toString('hex')}`, randomBytes(10).toString('hex')];
  return { key: `${parts[0]}${characters}${parts[1]}`, parts };
}

/** What `promise` rejected with; fails the test when it resolves. */
function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected the invocation to fail');
    },
    (e: unknown) => e as Error,
  );
}

/** Every text the error and the captured log can be turned into. */
function everything(error: Error): string {
  return [output.text(), ...errorTexts(error), inspect(error, { depth: Number.POSITIVE_INFINITY })].join(
    '\n',
  );
}

describe('requestJson at the handler boundary, with a key no HTTP header can carry', () => {
  it.each([
    ['a carriage return', '\r'],
    ['a line feed', '\n'],
    ['a NUL', '\0'],
    ['a character beyond Latin-1', '€'],
    ['all of them', '\r\n\0€ü'],
  ])(
    'keeps a key with %s out of the log, the error, its causes and its stack',
    async (_label, characters) => {
      // Prepare
      const { key, parts } = keyWith(characters);

      // Act
      const direct = await rejection(listKeys(key));
      const error = await rejection(listKeysWith(key)({}, lambdaContext as Context));

      // Assess: fetch refused the header before sending; the error names the failure, not the key.
      expect(server.requests).toHaveLength(0);
      expect(error).toBeInstanceOf(ProviderUnavailableError);
      expect(error.message).toBe(`resend: could not list API keys: TypeError (${new URL(server.url).host})`);
      expect(error.cause).toBeInstanceOf(RedactedError);
      expect(error.cause).toMatchObject({ originalName: 'TypeError' });
      expect(output.text()).toContain('invocation failed');
      expect(findLeaks(everything(error), [key, ...parts])).toEqual([]);
      // requestJson's own error is already clean, before the boundary redacts anything.
      expect(findLeaks(errorTexts(direct).join('\n'), [key, ...parts])).toEqual([]);
    },
  );

  it('keeps a Latin-1 key that fetch does send out of the error the refusal causes', async () => {
    const { key, parts } = keyWith('ü');

    const error = await rejection(listKeysWith(key)({}, lambdaContext as Context));

    expect(server.requests).toHaveLength(1);
    expect(error).toBeInstanceOf(ProviderAuthError);
    expect(error.message).toBe('resend: could not list API keys: HTTP 401 invalid_api_key');
    expect(findLeaks(everything(error), [key, ...parts])).toEqual([]);
  });
});
