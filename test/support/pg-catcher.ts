import { createServer, type Server, type Socket } from 'node:net';

/**
 * A listener that speaks just enough of PostgreSQL's protocol to play a man in the middle:
 * it answers TLS requests with "no TLS here", asks every client for its password in clear
 * text, and keeps what it receives. With `accept`, it then lets the client in (a login that
 * "works"); otherwise it refuses the password (SQLSTATE 28P01).
 */
export interface PasswordCatcher {
  readonly port: number;
  /** Passwords received, in order. */
  readonly passwords: string[];
  /** TLS requests received (each answered "N"). */
  readonly tlsRequests: () => number;
  close(): Promise<void>;
}

const SSL_REQUEST = 80877103;

function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0);
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}

const int32 = (value: number) => {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(value);
  return buffer;
};

/** Starts a {@link PasswordCatcher} on a free loopback port. */
export async function startPasswordCatcher(options: { accept: boolean }): Promise<PasswordCatcher> {
  const passwords: string[] = [];
  let tlsRequests = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffer = Buffer.alloc(0);
    let started = false;
    let authenticated = false;
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (!started) {
          if (buffer.length < 8) return;
          const length = buffer.readInt32BE(0);
          if (buffer.length < length) return;
          const code = buffer.readInt32BE(4);
          buffer = buffer.subarray(length);
          if (code === SSL_REQUEST) {
            tlsRequests++;
            socket.write('N');
            continue;
          }
          started = true;
          socket.write(message('R', int32(3))); // AuthenticationCleartextPassword
          continue;
        }
        if (buffer.length < 5) return;
        const type = String.fromCharCode(buffer[0] ?? 0);
        const length = buffer.readInt32BE(1);
        if (buffer.length < 1 + length) return;
        const body = buffer.subarray(5, 1 + length);
        buffer = buffer.subarray(1 + length);
        if (type === 'p' && !authenticated) {
          passwords.push(body.subarray(0, body.length - 1).toString('utf8'));
          if (options.accept) {
            authenticated = true;
            socket.write(Buffer.concat([message('R', int32(0)), message('Z', Buffer.from('I'))]));
          } else {
            const fields = Buffer.from('SFATAL\0C28P01\0Mpassword authentication failed\0\0', 'utf8');
            socket.end(message('E', fields));
            return;
          }
        } else if (type === 'X') {
          socket.end();
          return;
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    passwords,
    tlsRequests: () => tlsRequests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
