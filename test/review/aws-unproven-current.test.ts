/**
 * Review finding (rule 1, confused deputy): the `aws` provider takes AWSCURRENT's
 * `access_key_id` as this secret's key without proof: `secret_access_key` is never checked.
 * Whoever may write a secret under `{environment}/api-keys/` (PutSecretValue, or CreateSecret
 * plus RotateSecret) can name any key of any IAM user under the rotator's path: the rotation
 * then creates a new access key for that user and stores it where the writer can read it,
 * and the revocation deactivates the victim's key after the grace period.
 */
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  IAMClient,
  ListAccessKeysCommand,
} from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { createAwsProvider } from '../../shared/api-keys/providers/aws/index.js';
import { stack, uniqueName } from '../support/bed.js';
import { providerContext } from '../support/provider-tests.js';

const REGION = 'us-east-1';

describe('aws provider issue (review, rule 1)', () => {
  it('creates no key for a user whose current key the secret cannot prove it holds', async () => {
    // Prepare: another application's user and key; a secret naming that key id, with a made-up secret.
    const iam = new IAMClient({
      region: REGION,
      endpoint: stack().awsEndpoint,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const victim = uniqueName('payments');
    await iam.send(new CreateUserCommand({ UserName: victim, Path: '/app/' }));
    const victimKey = (await iam.send(new CreateAccessKeyCommand({ UserName: victim }))).AccessKey;
    const provider = createAwsProvider({
      iam,
      stsFor: (credentials) => new STSClient({ region: REGION, endpoint: stack().awsEndpoint, credentials }),
      propagation: { attempts: 1, delayMs: 0 },
    });
    const forged = {
      access_key_id: victimKey?.AccessKeyId ?? '',
      secret_access_key: 'not-the-secret-of-that-key-0000000000000',
    };
    const context = providerContext({
      secretName: 'production/api-keys/anything',
      region: REGION,
      token: 't-1',
    });

    // Act
    const issued = await provider
      .issue({ current: forged, staged: undefined, keep: [forged], superseded: [], context })
      .catch((error: Error) => error);

    // Assess: nothing was created for the victim, and nothing was handed back.
    const keys = await iam.send(new ListAccessKeysCommand({ UserName: victim }));
    expect(
      keys.AccessKeyMetadata?.length,
      `issue returned ${issued instanceof Error ? issued.name : 'a new access key for the victim user'}`,
    ).toBe(1);
    expect(issued).toBeInstanceOf(Error);
  });
});
