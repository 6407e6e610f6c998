/**
 * The test bed's stand-in for one AWS behaviour moto lacks: PutSecretValue refuses to change
 * a version that already holds another value (moto overwrites it).
 */
import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { refusedWrites, withAwsPutSemantics } from '../support/aws-put-semantics.js';
import { secretsManager, uniqueName } from '../support/bed.js';

describe('withAwsPutSemantics on the moto server', () => {
  it('refuses a second, different value for one version and keeps the first, as AWS does', async () => {
    // Prepare
    const sm = withAwsPutSemantics(secretsManager());
    const name = uniqueName('put-semantics');
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: '{"v":"current"}' }));
    const token = randomUUID();
    const put = (value: string) =>
      sm.send(
        new PutSecretValueCommand({
          SecretId: name,
          ClientRequestToken: token,
          SecretString: value,
          VersionStages: ['AWSPENDING'],
        }),
      );
    const refusedBefore = refusedWrites.count;

    // Act: two writes at once, then an identical repeat of the winner.
    const results = await Promise.allSettled([put('{"v":"a"}'), put('{"v":"b"}')]);
    const stored = (await sm.send(new GetSecretValueCommand({ SecretId: name, VersionId: token })))
      .SecretString;
    await expect(put(stored ?? '')).resolves.toBeDefined();

    // Assess: exactly one write won, the other was refused, and the stored value is the winner's.
    const won = results.filter((result) => result.status === 'fulfilled');
    const lost = results.filter((result) => result.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(ResourceExistsException);
    expect(refusedWrites.count).toBe(refusedBefore + 1);
    expect(['{"v":"a"}', '{"v":"b"}']).toContain(stored);
  });
});
