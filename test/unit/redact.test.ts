/**
 * The handler boundary's error redaction: whatever a step throws, the line logged and the
 * error handed to the Lambda runtime carry this product's messages and, for every other
 * error in the cause chain, only a name and a code.
 */
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLambdaHandler } from '../../functions/lib/rotation-handler.js';
import { ProviderUnavailableError } from '../../shared/api-keys/errors.js';
import { ConfigurationError } from '../../shared/config/index.js';
import { awsErrorText } from '../../shared/logging/aws-error.js';
import { RedactedError, redactError, summarizeError } from '../../shared/logging/redact.js';
import { SecretStoreError } from '../../shared/rotation/index.js';
import { captureOutput, findLeaks, lambdaContext } from '../support/bed.js';
import { errorTexts } from '../support/provider-tests.js';

/** A secret with the characters that break naive scrubbing: CR, LF, NUL, non-ASCII. */
function hostileSecret() {
  const parts = [
    randomBytes(8).toString('hex'),
    randomBytes(8).toString('hex'),
    randomBytes(8).toString('hex'),
  ];
  return { value: `re_${parts[0]}\r\n${parts[1]}\0ü€${parts[2]}`, parts };
}

/** Every text a redacted error can be turned into: what loggers, runtimes and people print. */
function renderings(error: Error): string {
  return [
    ...errorTexts(error),
    inspect(error, { depth: Number.POSITIVE_INFINITY }),
    JSON.stringify({ errorType: error.name, errorMessage: error.message, trace: error.stack?.split('\n') }),
  ].join('\n');
}

let output: ReturnType<typeof captureOutput>;
beforeEach(() => {
  output = captureOutput();
});
afterEach(() => output.stop());

describe('redactError', () => {
  it('keeps this product’s error and message, and reduces a foreign cause to its name and code', () => {
    // Prepare: fetch's invalid-header TypeError quotes the whole Authorization header.
    const secret = hostileSecret();
    const foreign = Object.assign(
      new TypeError(`Headers.append: "Bearer ${secret.value}" is an invalid header value.`),
      { code: 'ERR_INVALID_CHAR' },
    );
    const own = new ProviderUnavailableError(
      'resend',
      'could not create an API key: TypeError (api.resend.com)',
      {
        cause: foreign,
      },
    );

    // Act
    const redacted = redactError(own);

    // Assess
    expect(redacted).toBe(own);
    expect(redacted.message).toBe('resend: could not create an API key: TypeError (api.resend.com)');
    expect(redacted.cause).toBeInstanceOf(RedactedError);
    expect(redacted.cause).toMatchObject({
      originalName: 'TypeError',
      code: 'ERR_INVALID_CHAR',
      message: 'TypeError (ERR_INVALID_CHAR): its message is withheld, as it may quote a secret',
    });
    expect((redacted.cause as Error).stack).toMatch(
      /^RedactedError: TypeError \(ERR_INVALID_CHAR\): .*\n {4}at /,
    );
    expect(findLeaks(renderings(redacted), [secret.value, ...secret.parts])).toEqual([]);
  });

  it('survives a hostile chain: nested causes, values that are not errors, AggregateError, cycles, hostile names and getters', () => {
    // Prepare
    const secret = hostileSecret();
    const s = secret.value;
    const cycleA: Error = new Error(`a ${s}`);
    const cycleB: Error = new RangeError(`b ${s}`, { cause: cycleA });
    cycleA.cause = cycleB;
    const aggregate = new AggregateError(
      [new Error(s), { message: s, code: 'EPIPE' }, s, 42, { toString: () => s }, cycleA],
      `all failed: ${s}`,
    );
    const hostileName = Object.assign(new Error(s), { name: `Bad${s}`, code: `code ${s}` });
    const rewrittenMessage = new Error('short');
    void rewrittenMessage.stack; // V8 writes the stack on first read, with the message of then
    rewrittenMessage.message = s; // the stack's header no longer matches: its frames are dropped
    const getters = Object.defineProperties(new Error('x'), {
      name: {
        get() {
          throw new Error(s);
        },
      },
      cause: {
        get() {
          throw new Error(s);
        },
      },
    });
    // Each cause of the next; the getters' error ends the chain (its cause getter throws).
    aggregate.cause = hostileName;
    hostileName.cause = rewrittenMessage;
    rewrittenMessage.cause = getters;
    const chain = new SecretStoreError('Secrets Manager could not read version v1 of production/x: Error', {
      cause: new Error(s, { cause: aggregate }),
    });

    // Act
    const redacted = redactError(chain);

    // Assess: the product's message stays, every foreign part is a name (and code) only.
    const names: string[] = [];
    for (let e: unknown = redacted; e instanceof Error; e = e.cause) {
      names.push(e instanceof RedactedError ? `${e.originalName}${e.code ? `:${e.code}` : ''}` : e.name);
    }
    expect(names).toEqual(['SecretStoreError', 'Error', 'AggregateError', 'Error', 'Error', 'Error']);
    const aggregated = (redacted.cause as RedactedError).cause as RedactedError;
    expect(aggregated.errors?.map((e) => (e as RedactedError).originalName)).toEqual([
      'Error',
      'NonError',
      'NonError',
      'NonError',
      'NonError',
      'Error',
    ]);
    const [, plainObject, , , , looped] = (aggregated.errors ?? []) as RedactedError[];
    expect(plainObject?.code).toBe('EPIPE');
    expect(looped?.cause).toBeInstanceOf(RedactedError);
    expect((looped?.cause as Error | undefined)?.cause).toBeUndefined();
    const rewritten = (aggregated.cause as RedactedError).cause as RedactedError;
    expect(rewritten.stack).toBe(`RedactedError: ${rewritten.message}`);
    expect(findLeaks(renderings(redacted), [s, ...secret.parts])).toEqual([]);
  });

  it('ends a chain longer than eight causes, and a cycle, without looping', () => {
    let deep: Error = new Error('bottom');
    for (let i = 0; i < 100; i++) deep = new Error(String(i), { cause: deep });
    const looped = new ConfigurationError('environment variable X is bad');
    looped.cause = looped;

    let depth = 0;
    for (let e: unknown = redactError(deep); e instanceof Error; e = e.cause) depth++;
    const ownLoop = redactError(looped);

    expect(depth).toBe(9);
    expect(ownLoop).toBe(looped);
    expect(ownLoop.cause).toBeUndefined();
  });

  it('turns a thrown value that is not an Error into a RedactedError naming only its type', () => {
    const secret = hostileSecret();
    for (const [value, type] of [
      [secret.value, 'string'],
      [7, 'number'],
      [undefined, 'nothing'],
      [null, 'null'],
    ] as const) {
      const redacted = redactError(value);
      expect(redacted).toBeInstanceOf(RedactedError);
      expect(redacted.message).toBe(`a ${type} was thrown, not an Error; its value is withheld`);
      expect(findLeaks(renderings(redacted), [secret.value, ...secret.parts])).toEqual([]);
    }
  });
});

describe('summarizeError', () => {
  it('names the error and the codes along its chain, never a message', () => {
    const error = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
    });
    expect(summarizeError(error)).toBe('TypeError (ECONNREFUSED)');
    expect(summarizeError(new DOMException('The operation timed out.', 'TimeoutError'))).toBe('TimeoutError');
  });
});

describe('the handler boundary (logErrors)', () => {
  function handlerThrowing(error: unknown) {
    const logger = new Logger({ serviceName: 'boundary-test' });
    return createLambdaHandler(logger, async () => {
      throw error;
    });
  }

  it('logs one redacted line and rethrows the product error with a redacted cause', async () => {
    // Prepare
    const secret = hostileSecret();
    const thrown = new SecretStoreError('Secrets Manager could not read version v1 of production/x: Error', {
      cause: new AggregateError([new Error(secret.value)], secret.value, { cause: secret.value }),
    });

    // Act
    const error = await handlerThrowing(thrown)({}, lambdaContext as Context).catch(
      (e: unknown) => e as Error,
    );

    // Assess
    expect(error).toBe(thrown);
    expect(error.cause).toBeInstanceOf(RedactedError);
    const lines = output
      .text()
      .split('\n')
      .filter((line) => line.includes('invocation failed'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      level: 'ERROR',
      error: {
        name: 'SecretStoreError',
        message: 'Secrets Manager could not read version v1 of production/x: Error',
        cause: { name: 'RedactedError', originalName: 'AggregateError' },
      },
    });
    expect(findLeaks(`${output.text()}\n${renderings(error)}`, [secret.value, ...secret.parts])).toEqual([]);
  });

  it('throws a RedactedError, with no foreign message in its message or stack, for a foreign error', async () => {
    const secret = hostileSecret();

    const error = await handlerThrowing(new TypeError(`Bearer ${secret.value}`))(
      {},
      lambdaContext as Context,
    ).catch((e: unknown) => e as Error);

    expect(error).toBeInstanceOf(RedactedError);
    expect(error.message).toBe('TypeError: its message is withheld, as it may quote a secret');
    expect(findLeaks(`${output.text()}\n${renderings(error)}`, [secret.value, ...secret.parts])).toEqual([]);
  });
});

describe('the handler boundary (createLambdaHandler)', () => {
  it('never logs the event, even when POWERTOOLS_LOGGER_LOG_EVENT=true', async () => {
    // Prepare: the variable is read when a Logger is made, as at a cold start.
    const rotationToken = `rt-${randomBytes(12).toString('hex')}`;
    vi.stubEnv('POWERTOOLS_LOGGER_LOG_EVENT', 'true');
    const logger = new Logger({ serviceName: 'boundary-test' });
    vi.unstubAllEnvs();
    expect(logger.getLogEvent(), 'the variable took effect').toBe(true);
    const handler = createLambdaHandler(logger, async () => {
      logger.info('step ran');
      return 'done';
    });
    const event = {
      SecretId: 'production/api-keys/resend',
      ClientRequestToken: '22222222-2222-4222-8222-222222222222',
      Step: 'createSecret',
      RotationToken: rotationToken,
    };

    // Act
    await handler(event, lambdaContext as Context);

    // Assess: the handler ran and logged, but no line holds the event.
    expect(output.text()).toContain('step ran');
    expect(findLeaks(output.text(), [rotationToken])).toEqual([]);
  });
});

describe('awsErrorText', () => {
  it("keeps an AWS service exception's name and message", () => {
    const error = Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });

    expect(awsErrorText(error)).toBe('ThrottlingException: Rate exceeded');
  });

  it('reduces any other error to its name and code, never its message', () => {
    // A deserialization error: the SDK adds $metadata, never $fault, and the message quotes the body.
    const corrupt = Object.assign(
      new SyntaxError('Unexpected token \'h\', "hunter2-se"... is not valid JSON'),
      {
        $metadata: { httpStatusCode: 200 },
      },
    );
    const network = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443 hunter2'), {
      code: 'ECONNREFUSED',
    });

    expect(awsErrorText(corrupt)).toBe('SyntaxError');
    expect(awsErrorText(network)).toBe('Error (ECONNREFUSED)');
    expect(awsErrorText('hunter2')).toBe('Error');
  });
});
