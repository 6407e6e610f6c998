/**
 * Review finding (rule 8): a rollback supersedes AWSCURRENT's key (the rotation's new key), but
 * records no supersession and schedules no revocation for it, and its result and log do not
 * say that key stays live. Until the next rotation (90 days on the default schedule) a key no
 * version in use holds stays valid, and the revoke input refuses it ("no record").
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { IAMClient } from '@aws-sdk/client-iam';
import { CreateSecretCommand, DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRotateApiKeyHandler } from '../../functions/rotate-api-key/handler.js';
import { SUPERSEDED_TAG_PREFIX } from '../../shared/api-keys/index.js';
import { createProviders } from '../../shared/api-keys/providers/index.js';
import { loadApiKeyRotationConfig } from '../../shared/config/index.js';
import { describeRotationTarget } from '../../shared/repair/index.js';
import { apiKeyCheck, IamKeyReactivator, rollBack } from '../../shared/rollback/index.js';
import { SecretStore } from '../../shared/rotation/index.js';
import {
  captureOutput,
  runSteps,
  secretsManager,
  stack,
  stagesOf,
  startRotation,
  uniqueName,
} from '../support/bed.js';
import { type FakeResend, startFakeResend } from '../support/fakes/resend-server.js';

let resend: FakeResend;
beforeAll(async () => {
  resend = await startFakeResend();
});
afterAll(async () => {
  await resend.close();
});

describe('rollback (review, rule 8)', () => {
  it('records when the rolled-back key stopped being AWSCURRENT, so that its revocation is not lost', async () => {
    // Prepare: k1 rotated to k2.
    const sm = secretsManager();
    const cfg = loadApiKeyRotationConfig({ RESEND_API_URL: resend.url });
    const providers = createProviders(cfg, {
      retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1, timeoutMs: 2000 },
    });
    const logger = new Logger({ serviceName: 'review', logLevel: 'ERROR' });
    const handler = buildRotateApiKeyHandler({ config: cfg, secretsManager: sm, logger, providers });
    const name = uniqueName('review-rb');
    const k1 = resend.seedKey({ name, permission: 'full_access' });
    const out = await sm.send(
      new CreateSecretCommand({
        Name: `production/api-keys/resend-${uniqueName('r')}`,
        SecretString: JSON.stringify({
          api_key: k1.token,
          api_key_id: k1.id,
          api_key_name: name,
          rotated_at: '2024-01-01T00:00:00Z',
        }),
        Tags: [{ Key: 'rotation-provider', Value: 'resend' }],
      }),
    );
    const arn = out.ARN ?? '';
    const output = captureOutput();
    let v2 = '';
    try {
      v2 = await startRotation(sm, arn);
      await runSteps(handler, arn, v2);

      // Act: roll back (what rotateNow {"rollback": true} runs).
      const store = new SecretStore(sm);
      await rollBack(
        {
          store,
          logger,
          checkFor: () =>
            apiKeyCheck({
              providers,
              reactivator: new IamKeyReactivator(
                new IAMClient({
                  region: 'us-east-1',
                  endpoint: stack().awsEndpoint,
                  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
                }),
              ),
              readSecret: async () => ({}),
            }),
          describe: (id) => describeRotationTarget(sm, id),
        },
        await describeRotationTarget(sm, arn),
      );
    } finally {
      output.stop();
    }

    // Assess: v2 (k2) is AWSPREVIOUS now, and the moment it stopped being AWSCURRENT is recorded.
    expect((await stagesOf(sm, arn))[v2]).toEqual(['AWSPREVIOUS']);
    const tags = (await sm.send(new DescribeSecretCommand({ SecretId: arn }))).Tags ?? [];
    expect(
      tags.map((tag) => tag.Key),
      'no record (and no schedule) for the key the rollback superseded',
    ).toContain(`${SUPERSEDED_TAG_PREFIX}${v2}`);
  });
});
