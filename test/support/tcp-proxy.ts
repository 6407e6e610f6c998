/**
 * A loopback TCP proxy used to inject "database unreachable" failures: while unavailable, every incoming
 * connection is reset immediately and the connections already open are reset too, so the target becomes
 * unreachable for the code under test without its address changing.
 */
import { createConnection, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  host: string;
  port: number;
  setAvailable(up: boolean): void;
  /** Connections reset because the proxy was unavailable (new ones refused, open ones dropped). */
  readonly resets: number;
  /** Connections accepted so far (forwarded or reset): a test that nothing connected asserts 0. */
  readonly connections: number;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';

/** Abort a socket with a TCP RST (ECONNRESET on the other side) rather than a clean FIN. */
function reset(socket: Socket): void {
  if (socket.destroyed) return;
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let available = true;
  let resets = 0;
  let connections = 0;
  const pairs = new Set<[Socket, Socket]>();

  const server = createServer((client) => {
    connections++;
    if (!available) {
      resets++;
      client.on('error', () => undefined);
      reset(client);
      return;
    }
    const upstream = createConnection({ host: target.host, port: target.port });
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const abort = (): void => {
      pairs.delete(pair);
      reset(client);
      reset(upstream);
    };
    const closed = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', abort);
    upstream.on('error', abort);
    client.on('close', closed);
    upstream.on('close', closed);
    client.pipe(upstream);
    upstream.pipe(client);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') {
    server.close();
    throw new Error('tcp proxy: could not determine its listening port');
  }

  const dropAll = (): void => {
    for (const [client, upstream] of pairs) {
      resets++;
      reset(client);
      reset(upstream);
    }
    pairs.clear();
  };

  let closing: Promise<void> | undefined;
  return {
    host: HOST,
    port: address.port,
    setAvailable(up: boolean): void {
      available = up;
      if (!up) dropAll();
    },
    get resets() {
      return resets;
    },
    get connections() {
      return connections;
    },
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        available = false;
        server.close(() => resolve());
        dropAll();
      });
      return closing;
    },
  };
}
