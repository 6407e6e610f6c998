/**
 * Review finding (rule 1, confused deputy): `admin_secret_id` (Resend) and
 * `service_account_secret_id` (Google) may name ANY secret the rotation role can read, which
 * includes every other `{environment}/api-keys/*` secret, not only `{environment}/rotation/*`
 * as the README says. Whoever may write one API-key secret can point it at another team's
 * full-access key: the rotation then creates keys with that key and stores them where the
 * writer reads them, and its revocation deletes whatever `api_key_id` names with it.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRotateApiKeyHandler } from '../../functions/rotate-api-key/handler.js';
import { createProviders } from '../../shared/api-keys/providers/index.js';
import { loadApiKeyRotationConfig } from '../../shared/config/index.js';
import { captureOutput, runSteps, secretsManager, startRotation, uniqueName } from '../support/bed.js';
import { type FakeResend, startFakeResend } from '../support/fakes/resend-server.js';

let resend: FakeResend;
beforeAll(async () => {
  resend = await startFakeResend();
});
afterAll(async () => {
  await resend.close();
});

describe('rotateApiKey admin_secret_id (review, rule 1)', () => {
  it("refuses an admin_secret_id outside {environment}/rotation/ (another team's API-key secret)", async () => {
    // Prepare: the billing team's full-access key, in its own API-key secret.
    const sm = secretsManager();
    const billingKey = resend.seedKey({ name: 'billing', permission: 'full_access' });
    const billingSecret = `production/api-keys/resend-billing-${uniqueName('b')}`;
    await sm.send(
      new CreateSecretCommand({
        Name: billingSecret,
        SecretString: JSON.stringify({ api_key: billingKey.token, api_key_id: billingKey.id }),
      }),
    );
    // Another team's sending-only secret, pointed at the billing team's secret.
    const mine = resend.seedKey({ name: 'newsletter', permission: 'sending_access' });
    const out = await sm.send(
      new CreateSecretCommand({
        Name: `production/api-keys/resend-newsletter-${uniqueName('n')}`,
        SecretString: JSON.stringify({
          api_key: mine.token,
          api_key_id: mine.id,
          permission: 'sending_access',
          admin_secret_id: billingSecret,
        }),
        Tags: [{ Key: 'rotation-provider', Value: 'resend' }],
      }),
    );
    const cfg = loadApiKeyRotationConfig({ RESEND_API_URL: resend.url });
    const handler = buildRotateApiKeyHandler({
      config: cfg,
      secretsManager: sm,
      logger: new Logger({ serviceName: 'review', logLevel: 'ERROR' }),
      providers: createProviders(cfg, {
        retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1, timeoutMs: 2000 },
      }),
    });
    const arn = out.ARN ?? '';
    const keysBefore = resend.keys().length;
    const output = captureOutput();

    // Act
    const outcome = await runSteps(handler, arn, await startRotation(sm, arn), ['createSecret']).then(
      () => 'done: a key was created with the billing team key',
      (error: Error) => error.name,
    );
    output.stop();

    // Assess
    expect(outcome).not.toBe('done: a key was created with the billing team key');
    expect(resend.keys().length).toBe(keysBefore);
  });
});
