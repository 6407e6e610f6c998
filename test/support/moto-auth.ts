import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  IAMClient,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';

/** Credentials of an administrator in moto's IAM. */
export interface MotoCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/**
 * Creates an administrator in a moto server's IAM, then turns moto's request
 * authentication on (`POST /moto-api/reset-auth` with `0`: every later request is checked).
 * From then on moto refuses unknown and deleted keys and bad signatures, as AWS does (it
 * still accepts an Inactive key). The setting is server-wide: use a private moto server.
 */
export async function enableMotoAuth(endpoint: string, region = 'us-east-1'): Promise<MotoCredentials> {
  const bootstrap = new IAMClient({
    region,
    endpoint,
    credentials: { accessKeyId: 'bootstrap', secretAccessKey: 'bootstrap' },
  });
  await bootstrap.send(new CreateUserCommand({ UserName: 'rotation-admin' }));
  await bootstrap.send(
    new PutUserPolicyCommand({
      UserName: 'rotation-admin',
      PolicyName: 'admin',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
      }),
    }),
  );
  const key = (await bootstrap.send(new CreateAccessKeyCommand({ UserName: 'rotation-admin' }))).AccessKey;
  const response = await fetch(`${endpoint}/moto-api/reset-auth`, { method: 'POST', body: '0' });
  if (!response.ok) throw new Error(`moto refused to turn authentication on: HTTP ${response.status}`);
  return { accessKeyId: key?.AccessKeyId ?? '', secretAccessKey: key?.SecretAccessKey ?? '' };
}
