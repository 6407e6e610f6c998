import { setTimeout as sleep } from 'node:timers/promises';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { KeyTestFailedError } from '../../errors.js';
import { keyHint } from '../../http.js';
import type { ProviderContext } from '../../provider.js';
import { AUTH_CODES, codeOf, PROPAGATION_CODES, toProviderError } from './errors.js';
import { AWS_PROVIDER } from './schema.js';

/** How long a sign-in waits for IAM to propagate a new key. */
export interface PropagationPolicy {
  /** Attempts in all, including the first. Default 10. */
  readonly attempts: number;
  /** Pause between attempts. Default 2000 ms. */
  readonly delayMs: number;
}

/** Default {@link PropagationPolicy}: 10 attempts 2 s apart (IAM usually takes a few seconds). */
export const DEFAULT_PROPAGATION: PropagationPolicy = { attempts: 10, delayMs: 2000 };

/** What STS GetCallerIdentity said to a key pair. */
export type SignIn =
  | { readonly kind: 'user'; readonly attempt: number }
  | { readonly kind: 'other-principal' }
  | { readonly kind: 'refused'; readonly code: string; readonly attempts: number };

/**
 * Calls STS GetCallerIdentity signed with a key pair (`sts` is built with it) and says whether
 * it signs in as IAM user `userName`. A refusal IAM gives a key it has not propagated yet is
 * tried again, up to `propagation.attempts` in all; any other refusal is final. A failure that
 * is not a refusal (STS unreachable, throttled) is thrown as a typed provider error: a sign-in
 * that could not be tried proves nothing either way.
 */
export async function signIn(
  sts: STSClient,
  accessKeyId: string,
  userName: string,
  propagation: PropagationPolicy,
  context: ProviderContext,
): Promise<SignIn> {
  const hint = keyHint(accessKeyId);
  let lastCode = '';
  for (let attempt = 1; attempt <= propagation.attempts; attempt++) {
    let arn: string | undefined;
    try {
      arn = (await sts.send(new GetCallerIdentityCommand({}))).Arn;
    } catch (error) {
      const code = codeOf(error);
      if (!AUTH_CODES.has(code)) throw toProviderError(`sign in with the access key ${hint}`, error);
      if (!PROPAGATION_CODES.has(code)) return { kind: 'refused', code, attempts: attempt };
      lastCode = code;
      context.logger.info('aws: access key not accepted yet (IAM propagation)', {
        key: hint,
        code,
        attempt,
        attempts: propagation.attempts,
      });
      if (attempt < propagation.attempts) await sleep(propagation.delayMs);
      continue;
    }
    return arn && isUserArn(arn, userName) ? { kind: 'user', attempt } : { kind: 'other-principal' };
  }
  return { kind: 'refused', code: lastCode, attempts: propagation.attempts };
}

/**
 * Proves the new access key `accessKeyId` works: it signs in as IAM user `userName`, waiting
 * out IAM's propagation delay as `propagation` allows.
 * @throws {KeyTestFailedError} when STS refuses the key for good, or it signs in as another
 *   principal than IAM user `userName`.
 */
export async function testSignIn(
  sts: STSClient,
  accessKeyId: string,
  userName: string,
  propagation: PropagationPolicy,
  context: ProviderContext,
): Promise<void> {
  const hint = keyHint(accessKeyId);
  const result = await signIn(sts, accessKeyId, userName, propagation, context);
  switch (result.kind) {
    case 'user':
      context.logger.info('aws: new access key works', {
        user: userName,
        key: hint,
        attempt: result.attempt,
      });
      return;
    case 'other-principal':
      throw new KeyTestFailedError(
        AWS_PROVIDER,
        `the new access key ${hint} does not sign in as IAM user ${userName} (STS named another principal)`,
      );
    case 'refused':
      throw new KeyTestFailedError(
        AWS_PROVIDER,
        result.attempts > 1
          ? `STS refused the new access key ${hint} (${result.code}) ${result.attempts} times, ` +
              `${propagation.delayMs} ms apart: it does not work`
          : `STS refused the new access key ${hint} (${result.code})`,
      );
  }
}

/** True when `arn` is that of IAM user `userName` (`…:user/name` or `…:user/path/name`). */
function isUserArn(arn: string, userName: string): boolean {
  const resource = arn.split(':').slice(5).join(':');
  return resource.startsWith('user/') && resource.split('/').at(-1) === userName;
}
