/**
 * Finding: the USER secret decides how the RDS-managed MASTER password travels.
 *
 * For an RDS-managed master secret (`rds!db-…`), MasterSecrets.resolve
 * (shared/postgres/master.ts, the returned target) connects with the user secret's
 * `sslmode`. A user secret with `"ssl": false` (the templates' shape, written by the
 * application team) sends the database's master credentials over a connection without TLS;
 * whoever answers at the endpoint's address may ask for a cleartext password and node-postgres
 * sends it. Nobody who holds the master secret relaxed anything, and the log's TLS warning
 * speaks of the user's connection only.
 *
 * Here the endpoint resolves (as DNS would, or as a spoofed answer would) to a listener that
 * asks for the password in clear text, as a man in the middle does.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { CreateDBInstanceCommand } from '@aws-sdk/client-rds';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadDatabaseRotationConfig } from '../../shared/config/index.js';
import {
  captureOutput,
  createRotatingSecret,
  findLeaks,
  hostilePassword,
  runSteps,
  uniqueName,
} from '../support/bed.js';
import { createMasterRole, rdsClient, roleName, routedConnector } from '../support/databases.js';
import { handler, sm } from './helpers.js';

let output: ReturnType<typeof captureOutput>;
let seen: string[];
beforeEach(() => {
  seen = [];
  output = captureOutput();
});
afterEach(() => {
  output.stop();
  expect(findLeaks(output.text(), seen)).toEqual([]);
});

/** A listener speaking just enough PostgreSQL to ask for a cleartext password and keep it. */
async function cleartextCatcher(): Promise<{ port: number; passwords: string[]; server: Server }> {
  const passwords: string[] = [];
  const server = createServer((socket: Socket) => {
    let buffer = Buffer.alloc(0);
    let started = false;
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!started) {
        if (buffer.length < 8) return;
        const length = buffer.readInt32BE(0);
        if (buffer.length < length) return;
        const code = buffer.readInt32BE(4);
        buffer = buffer.subarray(length);
        if (code === 80877103) {
          socket.write('N'); // SSLRequest: no TLS here.
          return;
        }
        started = true;
        const ask = Buffer.alloc(9);
        ask.write('R', 0);
        ask.writeInt32BE(8, 1);
        ask.writeInt32BE(3, 5); // AuthenticationCleartextPassword
        socket.write(ask);
        return;
      }
      if (buffer.length < 5 || buffer[0] !== 0x70) return;
      const length = buffer.readInt32BE(1);
      if (buffer.length < 1 + length) return;
      passwords.push(buffer.subarray(5, 1 + length - 1).toString('utf8'));
      const fields = Buffer.from('SFATAL\0C28P01\0Mpassword authentication failed\0\0', 'utf8');
      const error = Buffer.alloc(5);
      error.write('E', 0);
      error.writeInt32BE(4 + fields.length, 1);
      socket.end(Buffer.concat([error, fields]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, passwords, server };
}

describe('alternating users with an RDS-managed master secret, TLS of the master login', () => {
  it("never sends the managed master's password without TLS because the user secret says ssl: false", async () => {
    // Prepare: an instance whose master password RDS manages, and an application secret in the templates' shape.
    const catcher = await cleartextCatcher();
    const rds = rdsClient();
    const master = await createMasterRole();
    seen.push(master.password);
    const created = await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: uniqueName('production-db'),
        Engine: 'postgres',
        DBInstanceClass: 'db.t3.micro',
        MasterUsername: master.username,
        ManageMasterUserPassword: true,
        AllocatedStorage: 20,
        Port: catcher.port,
      }),
    );
    const endpoint = created.DBInstance?.Endpoint?.Address ?? '';
    const managed = await sm.send(
      new CreateSecretCommand({
        Name: `rds!db-${uniqueName('x')}`,
        SecretString: JSON.stringify(master),
        Tags: [{ Key: 'aws:rds:primaryDBInstanceArn', Value: created.DBInstance?.DBInstanceArn ?? '' }],
      }),
    );
    const password = hostilePassword();
    seen.push(password);
    const { arn, token } = await createRotatingSecret(sm, uniqueName('production/database/app'), {
      engine: 'postgres',
      host: endpoint,
      port: catcher.port,
      username: roleName('app'),
      password,
      dbname: 'postgres',
      ssl: false,
      masterarn: managed.ARN,
    });
    const connector = routedConnector(
      { [endpoint.toLowerCase()]: { host: '127.0.0.1', port: catcher.port } },
      loadDatabaseRotationConfig({}).database,
    );

    // Act
    await runSteps(handler({ rds, connector }), arn, token, ['createSecret', 'setSecret']).catch(
      () => undefined,
    );
    catcher.server.close();

    // Assess: whatever was sent in clear text, the master's password was not.
    expect(catcher.passwords.length, 'the catcher was asked for passwords').toBeGreaterThan(0);
    expect(
      catcher.passwords.includes(master.password),
      "the RDS master's password went out in clear text",
    ).toBe(false);
  });
});
