import { setTimeout as sleep } from 'node:timers/promises';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { KeyTestFailedError } from '../../errors.js';
import { keyHint } from '../../http.js';
import type { ApiKeyProvider, ProviderContext } from '../../provider.js';
import { AUTH_CODES, codeOf, PROPAGATION_CODES, toProviderError } from './errors.js';
import { AWS_PROVIDER } from './schema.js';

/** How long {@link ApiKeyProvider.test} waits for IAM to propagate a new key. */
export interface PropagationPolicy {
  /** Attempts in all, including the first. Default 10. */
  readonly attempts: number;
  /** Pause between attempts. Default 2000 ms. */
  readonly delayMs: number;
}

/** Default {@link PropagationPolicy}: 10 attempts 2 s apart (IAM usually takes a few seconds). */
export const DEFAULT_PROPAGATION: PropagationPolicy = { attempts: 10, delayMs: 2000 };

/**
 * Calls STS GetCallerIdentity with the new access key `accessKeyId` (signed by `sts`) until it
 * signs in, waiting out IAM's propagation delay as `propagation` allows.
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
  let lastCode = '';
  for (let attempt = 1; attempt <= propagation.attempts; attempt++) {
    let arn: string | undefined;
    try {
      arn = (await sts.send(new GetCallerIdentityCommand({}))).Arn;
    } catch (error) {
      const code = codeOf(error);
      if (AUTH_CODES.has(code) && !PROPAGATION_CODES.has(code)) {
        throw new KeyTestFailedError(AWS_PROVIDER, `STS refused the new access key ${hint} (${code})`);
      }
      if (!PROPAGATION_CODES.has(code)) throw toProviderError(`test the new access key ${hint}`, error);
      lastCode = code;
      context.logger.info('aws: new access key not accepted yet (IAM propagation)', {
        key: hint,
        code,
        attempt,
        attempts: propagation.attempts,
      });
      if (attempt < propagation.attempts) await sleep(propagation.delayMs);
      continue;
    }
    if (!arn || !isUserArn(arn, userName)) {
      throw new KeyTestFailedError(
        AWS_PROVIDER,
        `the new access key ${hint} does not sign in as IAM user ${userName} (STS named another principal)`,
      );
    }
    context.logger.info('aws: new access key works', { user: userName, key: hint, attempt });
    return;
  }
  throw new KeyTestFailedError(
    AWS_PROVIDER,
    `STS refused the new access key ${hint} (${lastCode}) ${propagation.attempts} times, ` +
      `${propagation.delayMs} ms apart: it does not work`,
  );
}

/** True when `arn` is that of IAM user `userName` (`…:user/name` or `…:user/path/name`). */
function isUserArn(arn: string, userName: string): boolean {
  const resource = arn.split(':').slice(5).join(':');
  return resource.startsWith('user/') && resource.split('/').at(-1) === userName;
}
