/**
 * Re-review of issue 6: the `rotation-key:<id>` tag is an unkeyed digest of public values
 * (the secret's ARN and the rotation token), so a principal that may only tag the IAM user
 * (iam:TagUser, no iam:DeleteAccessKey) can make the rotator delete another application's
 * key as "an orphan of this rotation". Expected: the rotation refuses (foreign key), deletes nothing.
 */
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  IAMClient,
  ListAccessKeysCommand,
  PutUserPolicyCommand,
  TagUserCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAwsProvider, keyTagKey, keyTagValue } from '../../../shared/api-keys/providers/aws/index.js';
import { startMoto } from '../../support/local-stack.js';
import { providerContext, secretArn } from '../../support/provider-tests.js';

const REGION = 'us-east-1';
const SECRET_NAME = 'production/api-keys/aws';
const TOKEN = '6f1a1c52-0c4e-4b8a-9d38-6f3f1d2b7c11';
const ARN = secretArn(SECRET_NAME, REGION);
type Creds = { accessKeyId: string; secretAccessKey: string };
let moto: { endpoint: string; stop(): Promise<void> };
let admin: IAMClient;
const iam = (c: Creds) => new IAMClient({ region: REGION, endpoint: moto.endpoint, credentials: c });

async function key(client: IAMClient, userName: string) {
  const out = await client.send(new CreateAccessKeyCommand({ UserName: userName }));
  return {
    access_key_id: out.AccessKey?.AccessKeyId ?? '',
    secret_access_key: out.AccessKey?.SecretAccessKey ?? '',
  };
}

beforeAll(async () => {
  moto = await startMoto();
  const boot = iam({ accessKeyId: 'b', secretAccessKey: 'b' });
  await boot.send(new CreateUserCommand({ UserName: 'admin' }));
  await boot.send(
    new PutUserPolicyCommand({
      UserName: 'admin',
      PolicyName: 'all',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
      }),
    }),
  );
  const k = await key(boot, 'admin');
  await fetch(`${moto.endpoint}/moto-api/reset-auth`, { method: 'POST', body: '0' });
  admin = iam({ accessKeyId: k.access_key_id, secretAccessKey: k.secret_access_key });
});
afterAll(async () => moto?.stop());

it("a principal that can only tag the user cannot make the rotation delete another application's key", async () => {
  const userName = 'app-forged';
  await admin.send(new CreateUserCommand({ UserName: userName }));
  const current = await key(admin, userName); // the secret's key
  const otherApp = await key(admin, userName); // another application's key on the same user
  const sts = new STSClient({
    region: REGION,
    endpoint: moto.endpoint,
    credentials: { accessKeyId: otherApp.access_key_id, secretAccessKey: otherApp.secret_access_key },
  });
  await sts.send(new GetCallerIdentityCommand({})); // in use
  sts.destroy();

  // The tagger may tag users, nothing else.
  await admin.send(new CreateUserCommand({ UserName: 'tagger' }));
  await admin.send(
    new PutUserPolicyCommand({
      UserName: 'tagger',
      PolicyName: 'tag-only',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 'iam:TagUser', Resource: '*' }],
      }),
    }),
  );
  const t = await key(admin, 'tagger');
  const tagger = iam({ accessKeyId: t.access_key_id, secretAccessKey: t.secret_access_key });
  await expect(
    tagger.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: otherApp.access_key_id })),
  ).rejects.toThrow();
  // The forged value needs only the secret's ARN and the rotation token (DescribeSecret shows it).
  await tagger.send(
    new TagUserCommand({
      UserName: userName,
      Tags: [{ Key: keyTagKey(otherApp.access_key_id), Value: keyTagValue(ARN, TOKEN, 'created') }],
    }),
  );

  const ctx = providerContext({
    secretName: SECRET_NAME,
    region: REGION,
    token: TOKEN,
    rotationStartedAt: new Date(Date.now() - 3_600_000),
    now: new Date(Date.now() + 16 * 60_000),
    inFlightMs: 15 * 60_000,
  });
  const aws = createAwsProvider({
    iam: admin,
    stsFor: (c) => new STSClient({ region: REGION, endpoint: moto.endpoint, credentials: c }),
    propagation: { attempts: 2, delayMs: 10 },
  });
  const secret = { ...current, user_name: userName, rotated_at: '2026-01-01T00:00:00Z' };
  await aws
    .issue({ current: secret, staged: undefined, keep: [secret], superseded: [], context: ctx })
    .catch(() => undefined);

  const listed = await admin.send(new ListAccessKeysCommand({ UserName: userName }));
  expect((listed.AccessKeyMetadata ?? []).map((k) => k.AccessKeyId)).toContain(otherApp.access_key_id);
});
