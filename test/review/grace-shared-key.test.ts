/**
 * Review finding (rule 4): a superseded version's keys are revoked when its own grace period
 * ends, compared only with AWSCURRENT's key. When a later version holds the same key (an
 * operator restored the old value with put-secret-value, the usual way to "undo" outside
 * rotateNow), that key is revoked while it is AWSPREVIOUS, seconds after it stopped being
 * AWSCURRENT, by the old version's scheduled revocation (or by the next finish's repair).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
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

const GRACE_S = 3600;
let resend: FakeResend;

beforeAll(async () => {
  resend = await startFakeResend();
});
afterAll(async () => {
  await resend.close();
});

describe('rotateApiKey grace period (review, rule 4)', () => {
  it('never revokes a key that AWSPREVIOUS holds before its grace period is over', async () => {
    // Prepare: k1 current; a rotation at t0 makes k2 current (V1's revocation due at t0 + grace).
    const sm = secretsManager();
    let clock = Date.parse('2030-01-01T00:00:00Z');
    const cfg = loadApiKeyRotationConfig({
      ROTATION_GRACE_PERIOD_SECONDS: String(GRACE_S),
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
    const name = uniqueName('review-k');
    const k1 = resend.seedKey({ name, permission: 'full_access' });
    const v1Value = JSON.stringify({ api_key: k1.token, api_key_id: k1.id, api_key_name: name });
    const created = await sm.send(
      new CreateSecretCommand({
        Name: `production/api-keys/resend-${uniqueName('r')}`,
        SecretString: v1Value,
        Tags: [{ Key: 'rotation-provider', Value: 'resend' }],
      }),
    );
    const arn = created.ARN ?? '';
    const v1 = Object.keys(await stagesOf(sm, arn))[0] ?? '';
    const output = captureOutput();
    try {
      await runSteps(handler, arn, await startRotation(sm, arn));
      // The new key k2 broke something: the operator puts the old value back (k1 is AWSCURRENT again).
      const restored = await sm.send(
        new PutSecretValueCommand({ SecretId: arn, SecretString: v1Value, VersionStages: ['RESTORED'] }),
      );
      const currentId = Object.entries(await stagesOf(sm, arn)).find(([, s]) =>
        s.includes('AWSCURRENT'),
      )?.[0];
      await sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId: arn,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: restored.VersionId,
          RemoveFromVersionId: currentId,
        }),
      );
      // 59 minutes later, a rotation: k1 stops being AWSCURRENT now; its grace period runs to now + 1 h.
      clock += 59 * 60_000;
      await runSteps(handler, arn, await startRotation(sm, arn));
      const previous = await sm.send(
        new GetSecretValueCommand({ SecretId: arn, VersionStage: 'AWSPREVIOUS' }),
      );
      expect(JSON.parse(previous.SecretString ?? '{}').api_key_id).toBe(k1.id);
      expect(resend.keys().map((key) => key.id)).toContain(k1.id);

      // Act: two minutes later V1's own revocation (scheduled at the first finish) fires.
      clock += 2 * 60_000;
      await handler({ action: 'revoke', SecretId: arn, VersionId: v1 }, lambdaContext).catch(
        (error: Error) => error,
      );
    } finally {
      output.stop();
    }

    // Assess: k1, AWSPREVIOUS's key for three minutes only, is still live.
    expect(
      resend.keys().map((key) => key.id),
      'k1 (AWSPREVIOUS, 3 minutes into its grace period) was deleted',
    ).toContain(k1.id);
  });
});
