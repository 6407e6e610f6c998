/**
 * Review finding (rule 1): the `aws` provider's "orphan" evidence (created after the token's
 * version, never used, older than the step timeout) does not prove a key is this rotation's.
 * A key another team creates on the same IAM user while a rotation is stuck or retrying
 * (e.g. the other application's own rotation, deployed but not yet used) fits it, and the
 * next createSecret deletes it.
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
  it('never deletes a key another principal created on the user after the rotation began', async () => {
    // Prepare: a user holding this secret's key; the rotation began an hour ago.
    const iam = new IAMClient({
      region: REGION,
      endpoint: stack().awsEndpoint,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const userName = uniqueName('shared-user');
    await iam.send(new CreateUserCommand({ UserName: userName }));
    const current = (await iam.send(new CreateAccessKeyCommand({ UserName: userName }))).AccessKey;
    // Another team's key for another application, made on the same user after the rotation began
    // (the rotation failed and is retried later; the other application deploys its key tonight).
    const otherTeams = (await iam.send(new CreateAccessKeyCommand({ UserName: userName }))).AccessKey;
    const provider = createAwsProvider({
      iam,
      stsFor: (credentials) => new STSClient({ region: REGION, endpoint: stack().awsEndpoint, credentials }),
      propagation: { attempts: 1, delayMs: 0 },
    });
    const secret = {
      access_key_id: current?.AccessKeyId ?? '',
      secret_access_key: current?.SecretAccessKey ?? '',
      user_name: userName,
    };
    const context = providerContext({
      secretName: 'production/api-keys/aws',
      region: REGION,
      token: '6f1a1c52-0c4e-4b8a-9d38-6f3f1d2b7c11',
      rotationStartedAt: new Date(Date.now() - 3_600_000),
      // Secrets Manager retries the step 20 minutes later.
      now: new Date(Date.now() + 20 * 60_000),
    });

    // Act
    const outcome = await provider
      .issue({ current: secret, staged: undefined, keep: [secret], superseded: [], context })
      .then(
        () => 'issued',
        (error: Error) => error.name,
      );

    // Assess: the other team's key is still there (the step must stop, naming it, instead).
    const listed = await iam.send(new ListAccessKeysCommand({ UserName: userName }));
    const ids = (listed.AccessKeyMetadata ?? []).map((key) => key.AccessKeyId);
    expect(ids, `createSecret ${outcome}, deleting the other team's key`).toContain(otherTeams?.AccessKeyId);
  });
});
