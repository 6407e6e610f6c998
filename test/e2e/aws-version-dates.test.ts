/**
 * The test bed's stand-in for one AWS behaviour moto lacks: ListSecretVersionIds answers when
 * each version was created (moto answers the time of the call).
 */
import {
  CreateSecretCommand,
  ListSecretVersionIdsCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, describe, expect, it } from 'vitest';
import { secretsManager, startRotation, uniqueName } from '../support/bed.js';
import { withAwsVersionDates } from '../support/fakes/version-dates.js';

const plain = secretsManager();
const dated = withAwsVersionDates(secretsManager());

afterAll(() => {
  plain.destroy();
  dated.destroy();
});

async function createdDate(client: SecretsManagerClient, arn: string, versionId: string) {
  const out = await client.send(new ListSecretVersionIdsCommand({ SecretId: arn }));
  return out.Versions?.find((version) => version.VersionId === versionId)?.CreatedDate;
}

describe('withAwsVersionDates on the moto server', () => {
  it("answers the second RotateSecret created the version, where moto answers the call's", async () => {
    // Prepare
    const out = await dated.send(new CreateSecretCommand({ Name: uniqueName('dates'), SecretString: '{}' }));
    const arn = out.ARN ?? '';
    const before = Math.floor(Date.now() / 1000) * 1000;
    const token = await startRotation(dated, arn);
    await new Promise((resolve) => setTimeout(resolve, 1100));

    // Act
    const [answered, moto] = [await createdDate(dated, arn, token), await createdDate(plain, arn, token)];

    // Assess
    expect(answered?.getTime()).toBeGreaterThanOrEqual(before);
    expect(answered?.getTime()).toBeLessThan(before + 1000 + 1000);
    expect(moto?.getTime()).toBeGreaterThanOrEqual(before + 1000); // the defect this stands in for
    expect(answered?.getTime()).toBeLessThan(moto?.getTime() ?? 0);
  });
});
