/**
 * Review finding (rule 1): Resend's revoke deletes whatever key `api_key_id` names, with the
 * admin key of a sending-only secret, without proof that the id is the old version's key
 * (a full-access admin key can delete every key of the account). A wrong id (pasted from the
 * dashboard's neighbouring row) deletes another application's key; the old key stays live.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createResendProvider } from '../../shared/api-keys/providers/resend/index.js';
import { type FakeResend, startFakeResend } from '../support/fakes/resend-server.js';
import { RecordingLogger } from '../support/fakes.js';
import { providerContext } from '../support/provider-tests.js';

const ADMIN_SECRET = 'production/rotation/resend-admin';
let fake: FakeResend;

beforeEach(async () => {
  fake = await startFakeResend();
});
afterEach(async () => {
  await fake.close();
});

describe('resend provider revoke (review, rule 1)', () => {
  it("deletes only the old version's key, never another key its api_key_id field names", async () => {
    // Prepare: an admin key; this secret's sending key; another application's key.
    const provider = createResendProvider({
      baseUrl: fake.url,
      retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1, timeoutMs: 2000 },
    });
    const admin = fake.seedKey({ name: 'rotation admin', permission: 'full_access' });
    const ours = fake.seedKey({ name: 'web (sending)', permission: 'sending_access' });
    const theirs = fake.seedKey({ name: 'billing service', permission: 'full_access' });
    const old = provider.schema.parse({
      api_key: ours.token,
      api_key_id: theirs.id, // the wrong row of the dashboard
      permission: 'sending_access',
      admin_secret_id: ADMIN_SECRET,
    });
    const context = providerContext({
      secretName: 'production/api-keys/resend',
      token: '3f2a9c1e-4b5d-4e6f-8a9b-0c1d2e3f4a5b',
      logger: new RecordingLogger(),
      secrets: { [ADMIN_SECRET]: { api_key: admin.token, permission: 'full_access' } },
    });
    const current = provider.schema.parse({
      ...old,
      ...(await provider.issue({ current: old, staged: undefined, keep: [old], context })),
    });

    // Act: the revocation at the end of the grace period.
    await provider.revoke({ old, current, context });

    // Assess
    const live = fake.keys().map((key) => key.id);
    expect(live, "another application's key was deleted").toContain(theirs.id);
  });
});
