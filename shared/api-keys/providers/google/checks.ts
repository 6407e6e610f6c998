import { setTimeout as sleep } from 'node:timers/promises';
import * as z from '../../../zod.js';
import { KeyTestFailedError, ProviderResponseError } from '../../errors.js';
import { keyHint, type RetryPolicy, requestJson } from '../../http.js';
import type { ProviderContext } from '../../provider.js';
import { bodyOf, PROVIDER, shortCode } from './response.js';
import type { GoogleSecret } from './schema.js';

/** A response token no user ever solved: siteverify answers `invalid-input-response` for a valid secret. */
const RECAPTCHA_PROBE = 'rotation-probe-not-a-user-response';

const threatMatchesSchema = z.looseObject({ matches: z.optional(z.array(z.unknown())) });

const siteverifySchema = z.looseObject({
  success: z.boolean(),
  'error-codes': z.optional(z.array(z.string())),
});

/** Options of {@link testSafeBrowsing}. */
export interface SafeBrowsingCheckOptions {
  /** Safe Browsing API base URL, without a trailing slash. */
  readonly safeBrowsingUrl: string;
  /** Retry policy of every HTTP call. */
  readonly retry: RetryPolicy;
  /** How many lookups to try while a new key propagates, and how long to wait between them. */
  readonly propagation: { readonly attempts: number; readonly delayMs: number };
}

/** Options of {@link testRecaptcha}. */
export interface RecaptchaCheckOptions {
  /** The full siteverify URL. */
  readonly recaptchaVerifyUrl: string;
  /** Retry policy of every HTTP call. */
  readonly retry: RetryPolicy;
}

/** One Safe Browsing lookup of a harmless URL with the key `keyString` (in the header, never the URL). */
async function lookup(keyString: string, operation: string, options: SafeBrowsingCheckOptions) {
  return requestJson(
    {
      provider: PROVIDER,
      operation,
      method: 'POST',
      url: `${options.safeBrowsingUrl}/v4/threatMatches:find`,
      // The header rather than `?key=`: a URL may end up in a message or a proxy's log.
      headers: { 'x-goog-api-key': keyString },
      body: {
        client: { clientId: 'secrets-rotation-workers', clientVersion: '1.0' },
        threatInfo: {
          threatTypes: ['MALWARE'],
          platformTypes: ['ANY_PLATFORM'],
          threatEntryTypes: ['URL'],
          threatEntries: [{ url: 'https://example.com/' }],
        },
      },
      schema: threatMatchesSchema,
      accept: [400, 403],
    },
    options.retry,
  );
}

/**
 * Looks the new key up in Safe Browsing, waiting a bounded time for it to propagate.
 * @throws {KeyTestFailedError} when Safe Browsing refuses the key.
 * @throws {ProviderResponseError} when the lookup fails for another reason.
 */
export async function testSafeBrowsing(
  value: GoogleSecret,
  context: ProviderContext,
  options: SafeBrowsingCheckOptions,
): Promise<void> {
  const operation = 'look up a URL with the new Safe Browsing key';
  const which = value.safe_browsing_api_key_id ?? keyHint(value.safe_browsing_api_key);
  const { attempts, delayMs } = options.propagation;
  for (let attempt = 1; ; attempt++) {
    const response = await lookup(value.safe_browsing_api_key, operation, options);
    if (response.status < 300) {
      context.logger.info('Safe Browsing key works', { keyId: which, attempts: attempt });
      return;
    }
    const reason = googleReason(response.errorBody);
    const keyProblem = response.status === 403 || reason.startsWith('API_KEY_');
    if (!keyProblem) {
      throw new ProviderResponseError(PROVIDER, `could not ${operation}: HTTP ${response.status} ${reason}`, {
        status: response.status,
      });
    }
    if (reason === 'API_KEY_INVALID' && attempt < attempts) {
      context.logger.info('Safe Browsing key not valid yet; waiting for it to propagate', {
        keyId: which,
        attempt,
      });
      await sleep(delayMs);
      continue;
    }
    throw new KeyTestFailedError(
      PROVIDER,
      `the Safe Browsing key ${which} was refused: HTTP ${response.status} ${reason} after ${attempt} attempt(s)`,
      { status: response.status },
    );
  }
}

/**
 * Whether Safe Browsing still takes the key `keyString`: one lookup. `refused` only for
 * `API_KEY_INVALID` (an unknown or deleted key); a key whose restrictions block the lookup
 * still `works` elsewhere. Any other failure is thrown: it proves nothing either way.
 */
export async function probeSafeBrowsing(
  keyString: string,
  options: SafeBrowsingCheckOptions,
): Promise<'works' | 'refused'> {
  const operation = 'find out whether the previous Safe Browsing key still works';
  const response = await lookup(keyString, operation, options);
  if (response.status < 300) return 'works';
  const reason = googleReason(response.errorBody);
  if (reason === 'API_KEY_INVALID') return 'refused';
  if (response.status === 403 || reason.startsWith('API_KEY_')) return 'works';
  throw new ProviderResponseError(PROVIDER, `could not ${operation}: HTTP ${response.status} ${reason}`, {
    status: response.status,
  });
}

/**
 * Proves a new reCAPTCHA secret with a response token no user solved: siteverify answers
 * `invalid-input-response` for a valid secret and `invalid-input-secret` for a bad one.
 * A secret carried over unchanged from AWSCURRENT is not tested again.
 * @throws {KeyTestFailedError} when siteverify refuses the secret.
 * @throws {ProviderResponseError} when siteverify answers anything else unexpected.
 */
export async function testRecaptcha(
  value: GoogleSecret,
  context: ProviderContext,
  options: RecaptchaCheckOptions,
): Promise<void> {
  const current = await context.readSecret(context.secret.arn).catch(() => undefined);
  if (current !== undefined && current.recaptcha_secret_key === value.recaptcha_secret_key) {
    context.logger.info('recaptcha secret unchanged; not tested');
    return;
  }
  const operation = 'verify the new reCAPTCHA secret';
  const body = bodyOf(
    await requestJson(
      {
        provider: PROVIDER,
        operation,
        method: 'POST',
        url: options.recaptchaVerifyUrl,
        body: new URLSearchParams({ secret: value.recaptcha_secret_key, response: RECAPTCHA_PROBE }),
        schema: siteverifySchema,
      },
      options.retry,
    ),
    operation,
  );
  const codes = (body['error-codes'] ?? []).map(shortCode);
  if (codes.includes('invalid-input-secret') || codes.includes('missing-input-secret')) {
    throw new KeyTestFailedError(
      PROVIDER,
      `the reCAPTCHA secret was refused by siteverify: ${codes.join(', ')}`,
    );
  }
  if (!body.success && !codes.includes('invalid-input-response')) {
    throw new ProviderResponseError(
      PROVIDER,
      `could not ${operation}: siteverify answered ${codes.join(', ') || 'no error code'}`,
    );
  }
  context.logger.info('recaptcha secret accepted by siteverify');
}

/** The reason of a Google API error (`API_KEY_INVALID`), else its status (`INVALID_ARGUMENT`). */
function googleReason(body: unknown): string {
  const error = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
  if (typeof error !== 'object' || error === null) return 'error';
  const { details, status, message } = error as { details?: unknown; status?: unknown; message?: unknown };
  const reason = Array.isArray(details)
    ? details
        .map((detail) =>
          typeof detail === 'object' && detail !== null ? (detail as { reason?: unknown }).reason : undefined,
        )
        .find((value): value is string => typeof value === 'string')
    : undefined;
  if (reason) return shortCode(reason);
  // Older answers carry no ErrorInfo: the message is the only sign of an unknown key.
  if (typeof message === 'string' && /API key not valid/i.test(message)) return 'API_KEY_INVALID';
  return typeof status === 'string' ? shortCode(status) : 'error';
}
