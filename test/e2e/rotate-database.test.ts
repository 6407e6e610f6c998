import { Logger } from '@aws-lambda-powertools/logger';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildRotateDatabaseHandler } from '../../functions/rotate-database/handler.js';
import { loadConnectorOptions, loadDatabaseRotationConfig } from '../../shared/config/index.js';
import {
  canLogin,
  captureOutput,
  createRole,
  createRotatingSecret,
  findLeaks,
  hostilePassword,
  runSteps,
  STEPS,
  secretsManager,
  seedDatabaseSecret,
  stack,
  stagesOf,
  startRotation,
  uniqueName,
  valueAt,
} from '../support/bed.js';

const sm = secretsManager();
let output: ReturnType<typeof captureOutput>;
let seen: string[];

function handlerWith(env: Record<string, string> = {}) {
  return buildRotateDatabaseHandler({
    config: loadDatabaseRotationConfig(env),
    secretsManager: sm,
    logger: new Logger({ serviceName: 'rotation-e2e', logLevel: 'DEBUG' }),
  });
}

/** Creates a role and its seed-shaped secret, rotation started. */
async function databaseSecret(options: { username?: string; password?: string; extra?: object } = {}) {
  const username = options.username ?? uniqueName('app_user');
  const password = options.password ?? hostilePassword();
  await createRole(username, password);
  const name = uniqueName('production/database/primary');
  const { arn, token } = await createRotatingSecret(
    sm,
    name,
    seedDatabaseSecret({ username, password, extra: options.extra }),
  );
  seen.push(password);
  return { username, password, name, arn, token };
}

beforeEach(() => {
  seen = [];
  output = captureOutput();
});

afterEach(() => {
  output.stop();
  expect(findLeaks(output.text(), seen), 'secret values in captured output').toEqual([]);
});

describe('rotateDatabase, single user, on moto and PostgreSQL', () => {
  it('rotates a production/database/primary secret: new password works, old one is refused', async () => {
    const { username, password, arn, token } = await databaseSecret({ extra: { team: 'library' } });
    const before = await valueAt(sm, arn, 'AWSCURRENT');
    const currentId = Object.entries(await stagesOf(sm, arn)).find(([, s]) => s.includes('AWSCURRENT'))?.[0];

    const results = await runSteps(handlerWith(), arn, token);

    const after = await valueAt(sm, arn, 'AWSCURRENT');
    seen.push(after?.password ?? '');
    expect(results.map((r) => (r as { outcome: string }).outcome)).toEqual(['done', 'done', 'done', 'done']);
    expect(JSON.stringify(results)).not.toContain(after?.password);
    expect(after?.password).toMatch(/^[A-Za-z0-9._-]{32}$/);
    expect(await canLogin(username, after?.password ?? '')).toBe(true);
    expect(await canLogin(username, password)).toBe(false);
    expect(await stagesOf(sm, arn)).toEqual({ [token]: ['AWSCURRENT'], [currentId ?? '']: ['AWSPREVIOUS'] });
    expect(Date.now() - Date.parse(after?.rotated_at ?? '')).toBeLessThan(60_000);
    expect(after?.rotated_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const url = new URL(after?.connection_string ?? '');
    expect(decodeURIComponent(url.password)).toBe(after?.password);
    expect(decodeURIComponent(url.username)).toBe(username);
    expect(url.host).toBe(new URL(before?.connection_string ?? '').host);
    const { password: _p, connection_string: _c, rotated_at: _r, ...kept } = after ?? {};
    const { password: _p0, connection_string: _c0, rotated_at: _r0, ...keptBefore } = before ?? {};
    expect(kept).toEqual(keptBefore);
    expect(kept.team).toBe('library');
  });

  it('completes when every step runs twice, as Secrets Manager retries do', async () => {
    const { username, arn, token } = await databaseSecret();
    const handler = handlerWith();
    const outcomes: string[] = [];
    for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const) {
      for (let i = 0; i < 2; i++) {
        const result = (await runSteps(handler, arn, token, [step]))[0] as { outcome: string };
        outcomes.push(result.outcome);
      }
    }
    const after = await valueAt(sm, arn, 'AWSCURRENT');
    seen.push(after?.password ?? '');
    expect(outcomes).toEqual([
      'done',
      'already-done',
      'done',
      'already-done',
      'done',
      'done',
      'done',
      'already-current',
    ]);
    expect(await canLogin(username, after?.password ?? '')).toBe(true);
  });

  it('rotates a secret in the RDS shape (engine, dbname, numeric port) without adding fields', async () => {
    const username = uniqueName('rds_user');
    const password = hostilePassword();
    seen.push(password);
    await createRole(username, password);
    const { host, port } = stack().postgres;
    const value = {
      engine: 'postgres',
      host,
      port,
      username,
      password,
      dbname: 'postgres',
      sslmode: 'disable',
    };
    const { arn, token } = await createRotatingSecret(sm, uniqueName('production/database/rds'), value);

    await runSteps(handlerWith(), arn, token);

    const after = await valueAt(sm, arn, 'AWSCURRENT');
    seen.push(after?.password ?? '');
    expect(Object.keys(after ?? {}).sort()).toEqual([...Object.keys(value), 'rotated_at'].sort());
    expect(await canLogin(username, after?.password ?? '')).toBe(true);
  });

  it.each([
    ['a quote and a semicolon', `we"ird;name'--`],
    ['mixed case', 'MixedCase_User'],
    ['unicode', 'ünïcødé_用户'],
    ['an injection attempt', `x"; DROP ROLE postgres; --`],
  ])('rotates a user whose name has %s', async (_label, base) => {
    const { username, arn, token } = await databaseSecret({ username: `${base}${uniqueName('')}` });
    await runSteps(handlerWith(), arn, token);
    const after = await valueAt(sm, arn, 'AWSCURRENT');
    seen.push(after?.password ?? '');
    expect(await canLogin(username, after?.password ?? '')).toBe(true);
    expect(await canLogin(stack().postgres.superuser, stack().postgres.superuserPassword)).toBe(true);
  });

  it('sets generated passwords full of punctuation exactly, and encodes them in connection_string', async () => {
    const { username, arn, token } = await databaseSecret();
    await runSteps(handlerWith({ PASSWORD_EXCLUDE_CHARACTERS: '', PASSWORD_LENGTH: '64' }), arn, token);
    const after = await valueAt(sm, arn, 'AWSCURRENT');
    seen.push(after?.password ?? '');
    expect(after?.password).toMatch(/[^A-Za-z0-9]/);
    expect(decodeURIComponent(new URL(after?.connection_string ?? '').password)).toBe(after?.password);
    expect(await canLogin(username, after?.password ?? '')).toBe(true);
  });
});

describe('rotateDatabase refuses bad input and changes nothing', () => {
  async function expectUnchanged(arn: string, username: string, password: string) {
    expect(await canLogin(username, password)).toBe(true);
    const stages = await stagesOf(sm, arn);
    const pendingId = Object.entries(stages).find(([, s]) => s.includes('AWSPENDING'))?.[0];
    if (pendingId) expect(await valueAt(sm, arn, 'AWSPENDING')).toBeUndefined();
  }

  it('fails createSecret with a MalformedSecretError when the secret is not JSON', async () => {
    const username = uniqueName('bad_json');
    const password = hostilePassword();
    seen.push(password);
    await createRole(username, password);
    const raw = `{"username":"${username}","password":"${password}"`;
    const { arn, token } = await createRotatingSecret(sm, uniqueName('production/database/bad'), raw);
    await expect(runSteps(handlerWith(), arn, token, ['createSecret'])).rejects.toMatchObject({
      name: 'MalformedSecretError',
      message: expect.stringMatching(/AWSCURRENT.*is not valid JSON/),
    });
    await expectUnchanged(arn, username, password);
  });

  it('names every missing or invalid field, and no value', async () => {
    const { username, password, arn, token } = await databaseSecret();
    const broken = {
      ...seedDatabaseSecret({ username, password }),
      host: undefined,
      port: 'not-a-port',
      sslmode: 'prefer',
    };
    const { arn: brokenArn, token: brokenToken } = await createRotatingSecret(
      sm,
      uniqueName('production/database/broken'),
      broken,
    );
    const error = await runSteps(handlerWith(), brokenArn, brokenToken, ['createSecret']).catch(
      (e: Error) => e,
    );
    expect(error).toMatchObject({ name: 'MalformedSecretError', fields: ['host', 'port', 'sslmode'] });
    expect((error as Error).message).toMatch(
      /host: is required; port: must be a port number; sslmode: must be one of/,
    );
    await expectUnchanged(brokenArn, username, password);
    await expectUnchanged(arn, username, password);
    void token;
  });

  it('refuses a secret whose rotation is not enabled', async () => {
    const username = uniqueName('no_rotation');
    const password = hostilePassword();
    seen.push(password);
    await createRole(username, password);
    const { arn, token } = await createRotatingSecret(
      sm,
      uniqueName('production/database/off'),
      seedDatabaseSecret({ username, password }),
      { rotate: false },
    );
    await expect(runSteps(handlerWith(), arn, token, ['createSecret'])).rejects.toMatchObject({
      name: 'RotationNotEnabledError',
    });
    expect(await canLogin(username, password)).toBe(true);
  });

  it('refuses a token that is not a version of the secret', async () => {
    const { username, password, arn } = await databaseSecret();
    await expect(
      runSteps(handlerWith(), arn, '99999999-9999-4999-8999-999999999999', ['setSecret']),
    ).rejects.toMatchObject({ name: 'UnknownVersionError' });
    await expectUnchanged(arn, username, password);
  });

  it('refuses a malformed event before calling anything', async () => {
    const handler = handlerWith();
    await expect(
      handler({ SecretId: 'x', Step: 'createSecret' } as never, {} as never),
    ).rejects.toMatchObject({
      name: 'InvalidRotationEventError',
      message: expect.stringContaining('ClientRequestToken is required'),
    });
  });
});

describe('rotateDatabase over TLS', () => {
  async function tlsSecret(sslmode?: string) {
    const { username, password, arn, token } = await databaseSecret();
    const { host, port } = stack().postgres;
    const value = { ...seedDatabaseSecret({ username, password }), host: 'localhost', sslmode };
    const created = await createRotatingSecret(sm, uniqueName('production/database/tls'), value);
    void arn;
    void token;
    void host;
    void port;
    return { username, password, ...created };
  }

  it('verifies the server certificate by default (verify-full) against DB_TLS_CA_FILE', async () => {
    const { username, arn, token } = await tlsSecret(undefined);
    await runSteps(handlerWith({ DB_TLS_CA_FILE: stack().postgres.caFile }), arn, token);
    const after = await valueAt(sm, arn, 'AWSCURRENT');
    seen.push(after?.password ?? '');
    expect(await canLogin(username, after?.password ?? '')).toBe(true);
  });

  it('fails setSecret, without falling back to plaintext, when the certificate is not trusted', async () => {
    const { username, password, arn, token } = await tlsSecret('verify-full');
    await runSteps(handlerWith(), arn, token, ['createSecret']);
    await expect(runSteps(handlerWith(), arn, token, ['setSecret'])).rejects.toMatchObject({
      name: 'TlsNotTrustedError',
      message: expect.stringMatching(/certificate.*Set DB_TLS_CA_FILE/),
    });
    expect(await canLogin(username, password)).toBe(true);
    seen.push((await valueAt(sm, arn, 'AWSPENDING'))?.password ?? '');
  });

  it('accepts sslmode=require in the connection string without verifying', async () => {
    const { username, password } = await databaseSecret();
    const value = seedDatabaseSecret({ username, password });
    const { sslmode: _drop, ...rest } = value;
    const url = new URL(value.connection_string);
    url.searchParams.set('sslmode', 'require');
    const { arn, token } = await createRotatingSecret(sm, uniqueName('production/database/req'), {
      ...rest,
      connection_string: url.toString(),
    });
    await runSteps(handlerWith(), arn, token);
    const after = await valueAt(sm, arn, 'AWSCURRENT');
    seen.push(after?.password ?? '');
    expect(new URL(after?.connection_string ?? '').searchParams.get('sslmode')).toBe('require');
    expect(await canLogin(username, after?.password ?? '')).toBe(true);
  });

  it('reads DB_TLS_CA_FILE once and refuses an unreadable one by name', () => {
    expect(() => loadConnectorOptions({ DB_TLS_CA_FILE: '/nonexistent/ca.pem' })).toThrow(
      /DB_TLS_CA_FILE names a file that cannot be read/,
    );
  });
});

/** The id of the version that carries `stage`. */
async function versionWith(arn: string, stage: string): Promise<string | undefined> {
  return Object.entries(await stagesOf(sm, arn)).find(([, stages]) => stages.includes(stage))?.[0];
}

describe('rotateDatabase finishSecret promotes only a version whose value is valid and logs in', () => {
  it("refuses RotateSecret's empty placeholder (the README's stuck-rotation case): AWSCURRENT unchanged, applications' reads still work", async () => {
    // Prepare: a rotation started with RotateSecret whose createSecret never ran.
    const { username, password, arn, token } = await databaseSecret();
    const currentId = await versionWith(arn, 'AWSCURRENT');
    const stagesBefore = await stagesOf(sm, arn);

    // Act: an operator runs finishSecret on the stuck rotation's pending version.
    const error = await runSteps(handlerWith(), arn, token, ['finishSecret']).catch((e: unknown) => e);

    // Assess
    expect(error).toMatchObject({ name: 'PendingValueInvalidError' });
    expect((error as Error).message).toContain(
      `finishSecret refuses to make version ${token} AWSCURRENT: version ${token} of secret`,
    );
    expect((error as Error).message).toContain('AWSCURRENT is unchanged');
    expect(await stagesOf(sm, arn)).toEqual(stagesBefore);
    const read = await sm.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: 'AWSCURRENT' }));
    expect(read.VersionId).toBe(currentId);
    expect(JSON.parse(read.SecretString ?? '{}').password).toBe(password);
    expect(await canLogin(username, password)).toBe(true);

    // The error's first advice, run the steps from createSecret with this token, completes the rotation.
    await runSteps(handlerWith(), arn, token, STEPS);
    const after = await valueAt(sm, arn, 'AWSCURRENT');
    seen.push(after?.password ?? '');
    expect(await canLogin(username, after?.password ?? '')).toBe(true);
  });

  it('refuses a pending password setSecret never applied (finishSecret run on its own), and the steps then complete', async () => {
    // Prepare: createSecret stored the pending password; setSecret never ran (it failed).
    const { username, password, name, arn, token } = await databaseSecret();
    const stagesBefore = await stagesOf(sm, arn);
    await runSteps(handlerWith(), arn, token, ['createSecret']);
    const pending = await valueAt(sm, arn, 'AWSPENDING');
    seen.push(pending?.password ?? '');

    // Act: an operator runs finishSecret on its own.
    const error = await runSteps(handlerWith(), arn, token, ['finishSecret']).catch((e: unknown) => e);

    // Assess: refused with what to run, AWSCURRENT unchanged, its password still the one that logs in.
    expect(error).toMatchObject({ name: 'PendingNotVerifiedError' });
    expect((error as Error).message).toContain(
      `finishSecret refuses to make version ${token} of secret ${name} AWSCURRENT`,
    );
    expect((error as Error).message).toContain('PendingTestFailedError');
    expect((error as Error).message).toContain('run setSecret and testSecret with it, then finishSecret');
    expect(await stagesOf(sm, arn)).toEqual(stagesBefore);
    expect(await canLogin(username, password)).toBe(true);
    expect(await canLogin(username, pending?.password ?? '')).toBe(false);

    // What the error says to run completes the rotation.
    await runSteps(handlerWith(), arn, token, ['setSecret', 'testSecret', 'finishSecret']);
    expect((await stagesOf(sm, arn))[token]).toEqual(['AWSCURRENT']);
    expect(await canLogin(username, pending?.password ?? '')).toBe(true);
  });

  it('refuses a hand-written pending value that does not parse, naming the field and not the value', async () => {
    const { username, password, arn, token } = await databaseSecret();
    const stagesBefore = await stagesOf(sm, arn);
    const handWritten = hostilePassword();
    seen.push(handWritten);
    await sm.send(
      new PutSecretValueCommand({
        SecretId: arn,
        ClientRequestToken: token,
        SecretString: JSON.stringify({ username, passwd: handWritten }),
        VersionStages: ['AWSPENDING'],
      }),
    );

    const error = await runSteps(handlerWith(), arn, token, ['finishSecret']).catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'PendingValueInvalidError' });
    expect((error as Error).message).toMatch(/host: is required; password: is required/);
    expect((error as Error).message).toContain(`--remove-from-version-id ${token}`);
    expect(await stagesOf(sm, arn)).toEqual(stagesBefore);
    expect(await canLogin(username, password)).toBe(true);
  });
});

describe('rotateDatabase setSecret and testSecret talk to the same database the same way', () => {
  /** A secret without sslmode (verify-full) on a host whose certificate the function does not trust. */
  async function untrustedTlsSecret() {
    const username = uniqueName('tls_user');
    const password = hostilePassword();
    seen.push(password);
    await createRole(username, password);
    const { sslmode: _none, ...value } = { ...seedDatabaseSecret({ username, password }), host: 'localhost' };
    const name = uniqueName('production/database/tls-story');
    const { arn, token } = await createRotatingSecret(sm, name, value);
    return { username, password, name, arn, token, value };
  }

  it.each([
    ['as a field', (value: Record<string, unknown>) => ({ ...value, sslmode: 'require' })],
    [
      'inside connection_string',
      (value: Record<string, unknown>) => {
        const url = new URL(String(value.connection_string));
        url.searchParams.set('sslmode', 'require');
        return { ...value, connection_string: url.toString() };
      },
    ],
  ])(
    'refuses setSecret when the operator added sslmode to AWSCURRENT %s after createSecret; the password does not change',
    async (_where, addSslmode) => {
      // Prepare: the story. setSecret fails on TLS; the operator adds sslmode to AWSCURRENT.
      const { username, password, name, arn, token, value } = await untrustedTlsSecret();
      await runSteps(handlerWith(), arn, token, ['createSecret']);
      const pending = (await valueAt(sm, arn, 'AWSPENDING'))?.password ?? '';
      seen.push(pending);
      await expect(runSteps(handlerWith(), arn, token, ['setSecret'])).rejects.toMatchObject({
        name: 'TlsNotTrustedError',
      });
      await sm.send(
        new PutSecretValueCommand({ SecretId: arn, SecretString: JSON.stringify(addSslmode(value)) }),
      );

      // Act: the retried setSecret.
      const error = await runSteps(handlerWith(), arn, token, ['setSecret']).catch((e: unknown) => e);

      // Assess
      expect(error).toMatchObject({ name: 'ConnectionMismatchError', fields: ['sslmode'] });
      expect((error as Error).message).toBe(
        `setSecret refuses version ${token} of secret ${name}: AWSCURRENT and the pending version connect to the database differently (sslmode), so setSecret and testSecret would not reach it the same way. Nothing was changed. Start over: remove AWSPENDING from the pending version (aws secretsmanager update-secret-version-stage --secret-id ${name} --version-stage AWSPENDING --remove-from-version-id ${token}), then rotate again (aws secretsmanager rotate-secret --secret-id ${name}); the new rotation copies AWSCURRENT's settings`,
      );
      expect(await canLogin(username, password)).toBe(true);
      expect(await canLogin(username, pending)).toBe(false);

      // Following the message completes a rotation that keeps the operator's sslmode.
      await sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId: name,
          VersionStage: 'AWSPENDING',
          RemoveFromVersionId: token,
        }),
      );
      const retry = await startRotation(sm, arn);
      await runSteps(handlerWith(), arn, retry, STEPS);
      const after = await valueAt(sm, arn, 'AWSCURRENT');
      seen.push(after?.password ?? '');
      expect(await canLogin(username, after?.password ?? '')).toBe(true);
      expect(after?.sslmode ?? new URL(after?.connection_string ?? '').searchParams.get('sslmode')).toBe(
        'require',
      );
    },
  );

  it('refuses a pending version that names another host, port, database or user, naming each field', async () => {
    const { username, password, arn, token } = await databaseSecret();
    await runSteps(handlerWith(), arn, token, ['createSecret']);
    seen.push((await valueAt(sm, arn, 'AWSPENDING'))?.password ?? '');
    const current = await valueAt(sm, arn, 'AWSCURRENT');
    await sm.send(
      new PutSecretValueCommand({
        SecretId: arn,
        SecretString: JSON.stringify({
          ...current,
          host: 'localhost',
          port: '5433',
          database: 'other',
          username: `${username}_other`,
        }),
      }),
    );

    const error = await runSteps(handlerWith(), arn, token, ['setSecret']).catch((e: unknown) => e);

    expect(error).toMatchObject({
      name: 'ConnectionMismatchError',
      fields: ['host', 'port', 'database', 'username'],
    });
    expect((error as Error).message).not.toContain('localhost');
    expect(await canLogin(username, password)).toBe(true);
  });
});

describe("rotateDatabase password policy: the secret's password_policy over the function's settings", () => {
  it('generates the password the secret asks for', async () => {
    const { username, arn, token } = await databaseSecret({
      extra: { password_policy: { length: 48, exclude_punctuation: true } },
    });

    await runSteps(handlerWith(), arn, token);

    const after = await valueAt(sm, arn, 'AWSCURRENT');
    seen.push(after?.password ?? '');
    expect(after?.password).toMatch(/^[A-Za-z0-9]{48}$/);
    expect(await canLogin(username, after?.password ?? '')).toBe(true);
    expect(after?.password_policy).toEqual({ length: 48, exclude_punctuation: true });
  });

  it.each([
    [
      { length: 8 },
      'InvalidPasswordPolicyError',
      'cannot be used for a PostgreSQL user: length 8 is outside 16 to 4096',
    ],
    [
      { length: 40, exclude_numbers: 'yes' },
      'MalformedSecretError',
      'password_policy.exclude_numbers: must be a boolean (got string)',
    ],
    [{ lenght: 40 }, 'MalformedSecretError', 'password_policy: unknown setting lenght'],
  ])('refuses %j at createSecret, saying why, and stores nothing', async (policy, name, message) => {
    const { username, password, arn, token } = await databaseSecret({ extra: { password_policy: policy } });

    const error = await runSteps(handlerWith(), arn, token, ['createSecret']).catch((e: unknown) => e);

    expect(error).toMatchObject({ name });
    expect((error as Error).message).toContain(message);
    expect(await valueAt(sm, arn, 'AWSPENDING')).toBeUndefined();
    expect(await canLogin(username, password)).toBe(true);
  });
});
