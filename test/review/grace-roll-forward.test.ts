/**
 * Review finding (rule 4): a supersession record names the version that took over, and
 * AWSPREVIOUS's record counts whenever that version is AWSCURRENT again. After a rollback
 * and a roll-forward (both label moves; rotateNow refuses a second rollback, so the
 * roll-forward is by hand), the old version carries its first record: its key is revoked a
 * grace period after it FIRST stopped being AWSCURRENT, not after it LAST did.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { CreateSecretCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRotateApiKeyHandler } from '../../functions/rotate-api-key/handler.js';
import { createProviders } from '../../shared/api-keys/providers/index.js';
import { loadApiKeyRotationConfig } from '../../shared/config/index.js';
import {
  captureOutput,
  lambdaContext,
  runSteps,
  secretsManager,
  stagesOf,
  startRotation,
  uniqueName,
} from '../support/bed.js';
import { type FakeResend, startFakeResend } from '../support/fakes/resend-server.js';

const GRACE_MS = 15 * 60_000;
let resend: FakeResend;
beforeAll(async () => {
  resend = await startFakeResend();
});
afterAll(async () => {
  await resend.close();
});

describe('rotateApiKey grace period after a rollback and a roll-forward (review, rule 4)', () => {
  it('keeps a key for a whole grace period after it last stopped being AWSCURRENT', async () => {
    // Prepare: k1 superseded by k2 at t0.
    const sm = secretsManager();
    let clock = Date.parse('2030-02-01T00:00:00Z');
    const t0 = clock;
    const cfg = loadApiKeyRotationConfig({
      ROTATION_GRACE_PERIOD_SECONDS: String(GRACE_MS / 1000),
      RESEND_API_URL: resend.url,
    });
    const handler = buildRotateApiKeyHandler({
      config: cfg,
      secretsManager: sm,
      logger: new Logger({ serviceName: 'review', logLevel: 'ERROR' }),
      providers: createProviders(cfg, {
        retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1, timeoutMs: 2000 },
      }),
      now: () => new Date(clock),
    });
    const name = uniqueName('review-rf');
    const k1 = resend.seedKey({ name, permission: 'full_access' });
    const out = await sm.send(
      new CreateSecretCommand({
        Name: `production/api-keys/resend-${uniqueName('r')}`,
        SecretString: JSON.stringify({ api_key: k1.token, api_key_id: k1.id, api_key_name: name }),
        Tags: [{ Key: 'rotation-provider', Value: 'resend' }],
      }),
    );
    const arn = out.ARN ?? '';
    const v1 = Object.keys(await stagesOf(sm, arn))[0] ?? '';
    const output = captureOutput();
    const move = (to: string, from: string) =>
      sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId: arn,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: to,
          RemoveFromVersionId: from,
        }),
      );
    try {
      const v2 = await startRotation(sm, arn);
      await runSteps(handler, arn, v2);
      // t0 + 5 min: rolled back (k1 is AWSCURRENT again); t0 + 10 min: rolled forward (k1 superseded again).
      await move(v1, v2);
      await move(v2, v1);
      expect((await stagesOf(sm, arn))[v1]).toEqual(['AWSPREVIOUS']);

      // Act: the revocation scheduled at the first finish fires at t0 + grace, 5 minutes after
      // k1 last stopped being AWSCURRENT.
      clock = t0 + GRACE_MS + 1000;
      await handler({ action: 'revoke', SecretId: arn, VersionId: v1 }, lambdaContext).catch(
        (error: Error) => error,
      );
    } finally {
      output.stop();
    }

    // Assess
    expect(
      resend.keys().map((key) => key.id),
      'k1 was revoked 5 minutes after it last stopped being AWSCURRENT',
    ).toContain(k1.id);
  });
});
