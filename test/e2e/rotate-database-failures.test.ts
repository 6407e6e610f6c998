import { Logger } from '@aws-lambda-powertools/logger';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildRotateDatabaseHandler } from '../../functions/rotate-database/handler.js';
import { loadDatabaseRotationConfig } from '../../shared/config/index.js';
import {
  createPostgresConnector,
  DatabaseUnavailableError,
  type PostgresConnector,
} from '../../shared/postgres/index.js';
import type { StepName } from '../../shared/rotation/index.js';
import {
  canLogin,
  captureOutput,
  createRole,
  createRotatingSecret,
  findLeaks,
  hostilePassword,
  injectFault,
  runSteps,
  STEPS,
  secretsManager,
  seedDatabaseSecret,
  stack,
  stagesOf,
  uniqueName,
  valueAt,
} from '../support/bed.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

/**
 * A failure is injected after each step and in the middle of each step; at that point the
 * stored AWSCURRENT or AWSPENDING password must log in (AWSCURRENT's until setSecret has
 * changed the password), and a retry of the rotation with the same token must complete,
 * after which AWSCURRENT's password logs in. Each attempt runs on a fresh handler, as on a
 * new Lambda container.
 */

const sm = secretsManager();
const config = loadDatabaseRotationConfig({ DB_CONNECT_TIMEOUT_MS: '2000' });
let proxy: TcpProxy;
let output: ReturnType<typeof captureOutput>;
let seen: string[];

beforeAll(async () => {
  proxy = await startTcpProxy({ host: stack().postgres.host, port: stack().postgres.port });
});
afterAll(async () => proxy.close());
beforeEach(() => {
  seen = [];
  proxy.setAvailable(true);
  output = captureOutput();
});
afterEach(() => {
  output.stop();
  proxy.setAvailable(true);
  expect(findLeaks(output.text(), seen), 'secret values in captured output').toEqual([]);
});

interface Fault {
  /** Secrets Manager client for the failing attempt. */
  secretsManager?: SecretsManagerClient;
  connector?: PostgresConnector;
  /** Run before the failing step. */
  arm?: () => void;
}

function handler(fault: Fault = {}) {
  return buildRotateDatabaseHandler({
    config,
    secretsManager: fault.secretsManager ?? sm,
    logger: new Logger({ serviceName: 'rotation-failures', logLevel: 'DEBUG' }),
    ...(fault.connector ? { connector: fault.connector } : {}),
  });
}

/** A connector whose ALTER ROLE reaches the database but whose reply is lost. */
function alterThenLoseConnection(): PostgresConnector {
  const real = createPostgresConnector(config.database);
  return {
    async connect(target, password) {
      const session = await real.connect(target, password);
      return {
        async query(sql) {
          const rows = await session.query(sql);
          if (sql.startsWith('ALTER ROLE'))
            throw new DatabaseUnavailableError('injected: connection lost after ALTER ROLE');
          return rows;
        },
        close: () => session.close(),
      };
    },
  };
}

interface Case {
  name: string;
  /** Steps that complete before the failing one. */
  before: StepName[];
  /** The step that fails, and how; absent for a crash between steps. */
  failing?: { step: StepName; fault: () => Fault; completes?: boolean };
  /** The stored password that logs in at the failure point. */
  works: 'AWSCURRENT' | 'AWSPENDING';
}

const cases: Case[] = [
  { name: 'a crash after createSecret', before: ['createSecret'], works: 'AWSCURRENT' },
  { name: 'a crash after setSecret', before: ['createSecret', 'setSecret'], works: 'AWSPENDING' },
  {
    name: 'a crash after testSecret',
    before: ['createSecret', 'setSecret', 'testSecret'],
    works: 'AWSPENDING',
  },
  {
    name: 'createSecret: GetRandomPassword fails',
    before: [],
    failing: {
      step: 'createSecret',
      fault: () => ({ secretsManager: injectFault(secretsManager(), 'GetRandomPasswordCommand', 'before') }),
    },
    works: 'AWSCURRENT',
  },
  {
    name: 'createSecret: PutSecretValue stored the value but its response was lost',
    before: [],
    failing: {
      step: 'createSecret',
      fault: () => ({ secretsManager: injectFault(secretsManager(), 'PutSecretValueCommand', 'after') }),
      // The step reads the version back, finds its own value and counts it as stored.
      completes: true,
    },
    works: 'AWSCURRENT',
  },
  {
    name: 'setSecret: Secrets Manager fails to read a version',
    before: ['createSecret'],
    failing: {
      step: 'setSecret',
      fault: () => ({ secretsManager: injectFault(secretsManager(), 'GetSecretValueCommand', 'before') }),
    },
    works: 'AWSCURRENT',
  },
  {
    name: 'setSecret: the database is unreachable',
    before: ['createSecret'],
    failing: { step: 'setSecret', fault: () => ({ arm: () => proxy.setAvailable(false) }) },
    works: 'AWSCURRENT',
  },
  {
    name: 'setSecret: ALTER ROLE applied but the connection dropped before its reply',
    before: ['createSecret'],
    failing: { step: 'setSecret', fault: () => ({ connector: alterThenLoseConnection() }) },
    works: 'AWSPENDING',
  },
  {
    name: 'testSecret: the database is unreachable',
    before: ['createSecret', 'setSecret'],
    failing: { step: 'testSecret', fault: () => ({ arm: () => proxy.setAvailable(false) }) },
    works: 'AWSPENDING',
  },
  {
    name: 'finishSecret: moving AWSCURRENT fails',
    before: ['createSecret', 'setSecret', 'testSecret'],
    failing: {
      step: 'finishSecret',
      fault: () => ({
        secretsManager: injectFault(secretsManager(), 'UpdateSecretVersionStageCommand', 'before'),
      }),
    },
    works: 'AWSPENDING',
  },
  {
    name: 'finishSecret: AWSCURRENT moved but the response was lost',
    before: ['createSecret', 'setSecret', 'testSecret'],
    failing: {
      step: 'finishSecret',
      fault: () => ({
        secretsManager: injectFault(secretsManager(), 'UpdateSecretVersionStageCommand', 'after'),
      }),
    },
    works: 'AWSCURRENT',
  },
  {
    name: 'finishSecret: removing AWSPENDING fails',
    before: ['createSecret', 'setSecret', 'testSecret'],
    failing: {
      step: 'finishSecret',
      fault: () => ({
        secretsManager: injectFault(secretsManager(), 'UpdateSecretVersionStageCommand', 'before', 2),
      }),
    },
    works: 'AWSCURRENT',
  },
];

/** The stored password that logs in now: AWSCURRENT's, else AWSPENDING's. */
async function workingStage(arn: string, username: string): Promise<'AWSCURRENT' | 'AWSPENDING' | 'none'> {
  const current = await valueAt(sm, arn, 'AWSCURRENT');
  const pending = await valueAt(sm, arn, 'AWSPENDING');
  for (const value of [current, pending]) if (value?.password) seen.push(value.password);
  if (current && (await canLogin(username, current.password ?? ''))) return 'AWSCURRENT';
  if (pending && (await canLogin(username, pending.password ?? ''))) return 'AWSPENDING';
  return 'none';
}

describe('rotateDatabase loses no credential when a step fails', () => {
  it.each(cases)('$name, then a retry completes', async ({ before, failing, works }) => {
    const username = uniqueName('crash_user');
    const password = hostilePassword();
    seen.push(password);
    await createRole(username, password);
    const value = seedDatabaseSecret({ username, password, port: proxy.port });
    const { arn, token } = await createRotatingSecret(sm, uniqueName('production/database/crash'), value);

    await runSteps(handler(), arn, token, before);
    if (failing) {
      const fault = failing.fault();
      fault.arm?.();
      const attempt = runSteps(handler(fault), arn, token, [failing.step]);
      if (failing.completes) await expect(attempt).resolves.toMatchObject([{ outcome: 'done' }]);
      else await expect(attempt).rejects.toThrow();
      proxy.setAvailable(true);
    }

    expect(await workingStage(arn, username)).toBe(works);

    await runSteps(handler(), arn, token, STEPS);

    expect(await workingStage(arn, username)).toBe('AWSCURRENT');
    const stages = await stagesOf(sm, arn);
    expect(stages[token]).toEqual(['AWSCURRENT']);
    expect(Object.values(stages).flat()).not.toContain('AWSPENDING');
    expect(await canLogin(username, password)).toBe(false);
    expect(findLeaks(output.text(), seen)).toEqual([]);
  });
});
