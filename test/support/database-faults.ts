/**
 * Faults for the database rotation's failure specs: a Secrets Manager call that fails, the
 * database going away, a statement whose reply is lost. Each says how often it fired, so a
 * test asserts that its fault did.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  createPostgresConnector,
  DatabaseUnavailableError,
  type PostgresConnector,
  type PostgresConnectorOptions,
} from '../../shared/postgres/index.js';
import { injectFault, secretsManager } from './bed.js';
import type { TcpProxy } from './tcp-proxy.js';

/** What a failing attempt is built with, and how many times its fault fired. */
export interface DatabaseFault {
  /** Secrets Manager client for the failing attempt. */
  readonly secretsManager?: SecretsManagerClient;
  readonly connector?: PostgresConnector;
  /** Run before the failing step. */
  readonly arm?: () => void;
  /** How many times the fault fired: the test asserts it did, so an injection that does nothing fails. */
  readonly fired: () => number;
}

/** A Secrets Manager client whose `nth` call of `command` (matching `match`) fails `when`. */
export function secretsManagerFault(
  command: string,
  when: 'before' | 'after',
  nth = 1,
  match?: (input: Record<string, unknown>) => boolean,
): DatabaseFault {
  const client = injectFault(secretsManager(), command, when, nth, match);
  return { secretsManager: client, fired: () => client.faultsFired };
}

/** The database behind `proxy` becomes unreachable (every connection reset) when armed. */
export function databaseDown(proxy: TcpProxy): DatabaseFault {
  let before = 0;
  return {
    arm: () => {
      before = proxy.resets;
      proxy.setAvailable(false);
    },
    fired: () => proxy.resets - before,
  };
}

/** A connector whose statement matching `failOn` fails: before it runs, or after it took effect (its reply lost). */
export function statementFault(
  options: PostgresConnectorOptions,
  failOn: RegExp,
  when: 'before' | 'after',
): DatabaseFault {
  const real = createPostgresConnector(options);
  let fired = 0;
  const connector: PostgresConnector = {
    verification: (target) => real.verification?.(target) ?? 'full',
    async connect(target, password) {
      const session = await real.connect(target, password);
      return {
        async query(statement) {
          if (!failOn.test(statement)) return session.query(statement);
          fired++;
          if (when === 'after') await session.query(statement);
          throw new DatabaseUnavailableError(`injected: connection lost ${when} ${statement.split(' ')[0]}`);
        },
        close: () => session.close(),
      };
    },
  };
  return { connector, fired: () => fired };
}
