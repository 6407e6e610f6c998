/**
 * Review finding (rule 1): the Google provider deletes whatever key `safe_browsing_api_key_id`
 * names, without checking that it is the key `safe_browsing_api_key` holds. An id typed or
 * pasted wrong by an operator (the seed shape has no id; the README asks the operator to add
 * it) makes the revocation delete another application's key and leave the old key live.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGoogleProvider, type GoogleSecret } from '../../shared/api-keys/providers/google/index.js';
import { type FakeGoogle, startFakeGoogle } from '../support/fakes/google-server.js';
import { RecordingLogger } from '../support/fakes.js';
import { providerContext } from '../support/provider-tests.js';

const SECRET_NAME = 'production/api-keys/google';
const SA_SECRET = 'production/google/rotation-service-account';
const PROJECT = 'acme-web-prod';
const TOKEN = '8c1e5a2f-4b3d-4e6f-9a7b-1c2d3e4f5a6b';
const RECAPTCHA = '6LeOLDoldOLDoldOLDoldOLDoldOLDoldOLDold1';

let google: FakeGoogle;

beforeEach(async () => {
  google = await startFakeGoogle();
  google.setRecaptchaSecrets([RECAPTCHA]);
});
afterEach(async () => {
  await google.close();
});

describe('google provider revoke (review, rule 1)', () => {
  it("deletes only the key the old version's key string is, never another key its id field names", async () => {
    // Prepare: this secret's key A; another application's key B in the same project. The
    // operator recorded B's id next to A's key string by mistake.
    const account = google.registerServiceAccount({ projectId: PROJECT });
    const provider = createGoogleProvider({
      apiKeysUrl: google.apiKeysUrl,
      safeBrowsingUrl: google.safeBrowsingUrl,
      recaptchaVerifyUrl: google.recaptchaVerifyUrl,
      retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2, timeoutMs: 2000 },
      operationPollMs: 1,
      keyPropagation: { attempts: 2, delayMs: 1 },
    });
    const keyA = google.seedKey({ projectId: PROJECT, displayName: 'Safe Browsing (web)' });
    const keyB = google.seedKey({ projectId: PROJECT, displayName: 'Mobile app (not this secret)' });
    const old: GoogleSecret = provider.schema.parse({
      safe_browsing_api_key: keyA.keyString,
      safe_browsing_api_key_id: keyB.name,
      recaptcha_secret_key: RECAPTCHA,
      service_account_secret_id: SA_SECRET,
    });
    const context = () =>
      providerContext({
        secretName: SECRET_NAME,
        token: TOKEN,
        logger: new RecordingLogger(),
        secrets: { [SA_SECRET]: account },
      });
    const issued = await provider.issue({
      current: old,
      staged: undefined,
      keep: [old],
      context: context(),
    });
    const current = provider.schema.parse({ ...old, ...issued });

    // Act: the revocation when the grace period ends.
    await provider.revoke({ old, current, context: context() });

    // Assess: another application's key survives; the key the old version held is revoked.
    const byName = (name: string) => google.keys().find((key) => key.name === name);
    expect(byName(keyB.name)?.deleteTime, "another application's key B was deleted").toBeUndefined();
    expect(byName(keyA.name)?.deleteTime, 'the old key A is still live').toBeDefined();
  });
});
