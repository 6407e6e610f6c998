/**
 * Review finding (rules 5 and 10): the Clerk provider accepts a staged secret key of ANOTHER
 * Clerk instance of the same mode. api.clerk.com picks the instance from the key, so
 * `GET /v1/users/count` succeeds with any live key, and the rotation promotes a secret key
 * that does not match the carried-over publishable key: the application's backend then
 * talks to another instance (every session fails to verify). Nothing ties the staged key to
 * the instance the publishable key names.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createClerkProvider } from '../../shared/api-keys/providers/clerk/index.js';
import { type FakeClerk, startFakeClerk } from '../support/fakes/clerk-server.js';
import { RecordingLogger } from '../support/fakes.js';
import { providerContext } from '../support/provider-tests.js';

let clerk: FakeClerk;
beforeEach(async () => {
  clerk = await startFakeClerk();
});
afterEach(async () => {
  await clerk.close();
});

describe('clerk provider (review, rules 5 and 10)', () => {
  it("refuses a staged secret key of another instance than the publishable key's", async () => {
    // Prepare: the shop's instance (clerk.shop.example) and the blog's, both live.
    const shopKey = `sk_live_${'S'.repeat(40)}`;
    const blogKey = `sk_live_${'B'.repeat(40)}`;
    clerk.setSecretKeys([shopKey, blogKey]);
    const provider = createClerkProvider({
      apiUrl: clerk.url,
      retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1, timeoutMs: 2000 },
    });
    const current = provider.schema.parse({
      secret_key: shopKey,
      publishable_key: `pk_live_${Buffer.from('clerk.shop.example$').toString('base64')}`,
    });
    const context = providerContext({
      secretName: 'production/api-keys/clerk',
      token: '5b0c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d',
      logger: new RecordingLogger(),
    });

    // Act: the operator staged the blog's key by mistake.
    const outcome = await provider
      .issue({ current, staged: { secret_key: blogKey }, keep: [current], context })
      .then(async (fields) => {
        await provider.test({ value: provider.schema.parse({ ...current, ...fields }), context });
        return 'issued and tested: it would be promoted';
      })
      .catch((error: Error) => error.name);

    // Assess
    expect(outcome).not.toBe('issued and tested: it would be promoted');
  });
});
