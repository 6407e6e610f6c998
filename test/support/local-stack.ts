/**
 * Throwaway local stack for tests, the demo and the benchmark:
 *  - the moto server (AWS API emulator) on a free loopback port;
 *  - a real PostgreSQL 15 cluster with scram-sha-256 password authentication (optionally TLS),
 *    in a fresh temp directory, on a free loopback port.
 *
 * PostgreSQL refuses to run as root: when this process is root (as on CI), initdb/pg_ctl run as the
 * `postgres` system user through `runuser`, with a data directory owned by that user.
 *
 * The superuser password is never logged.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, rmSync } from 'node:fs';
import { access, chmod, chown, mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

export interface LocalStackOptions {
  tls?: boolean;
  log?: (line: string) => void;
}

export interface LocalPostgres {
  host: string;
  port: number;
  superuser: string;
  superuserPassword: string;
  caFile?: string;
}

export interface LocalStack {
  awsEndpoint: string;
  postgres: LocalPostgres;
  stop(): Promise<void>;
}

export class LocalStackUnavailableError extends Error {
  override name = 'LocalStackUnavailableError';
}

const HOST = '127.0.0.1';
const SUPERUSER = 'postgres';
const PG_SYSTEM_USER = 'postgres';
const PG_BIN_DIRS = ['/usr/lib/postgresql/15/bin', '/usr/local/bin'];
const PG_BINARIES = ['initdb', 'pg_ctl', 'postgres'] as const;
const OPENSSL = '/usr/bin/openssl';
const MOTO_START_TIMEOUT_MS = 20_000;
const PG_START_TIMEOUT_S = 60;
const PG_LOGIN_TIMEOUT_MS = 20_000;
const PORT_ATTEMPTS = 3;

const isRoot = (): boolean => process.getuid?.() === 0;

// ---------------------------------------------------------------------------------------------
// Process-exit safety net: whatever is still running when the process exits is killed synchronously.

const exitCleanups = new Set<() => void>();
let exitHookInstalled = false;

function registerExitCleanup(cleanup: () => void): () => void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const fn of exitCleanups) {
        try {
          fn();
        } catch {
          // best effort
        }
      }
      exitCleanups.clear();
    });
  }
  exitCleanups.add(cleanup);
  return () => exitCleanups.delete(cleanup);
}

// ---------------------------------------------------------------------------------------------
// Small helpers

interface ExecResult {
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], timeoutMs = 60_000): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        const detail = `${String(stderr).trim()}\n${String(stdout).trim()}`.trim();
        reject(
          new Error(`${[file, ...args].join(' ')} failed: ${error.message}${detail ? `\n${detail}` : ''}`),
        );
        return;
      }
      resolve({ stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Command line that runs `file args` as the postgres system user when root, directly otherwise. */
function asPgUser(file: string, args: string[]): [string, string[]] {
  return isRoot() ? ['runuser', ['-u', PG_SYSTEM_USER, '--', file, ...args]] : [file, args];
}

/** Quote for /bin/sh (pg_ctl passes -o options through the shell). */
function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function findOnPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** A port that was free a moment ago on the loopback interface. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not determine a free port'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

class OutputTail {
  private lines: string[] = [];
  private partial = '';
  constructor(private readonly max = 40) {}
  push(chunk: Buffer | string): void {
    const text = this.partial + chunk.toString();
    const parts = text.split(/\r?\n/);
    this.partial = parts.pop() ?? '';
    this.lines.push(...parts);
    if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max);
  }
  toString(): string {
    return [...this.lines, this.partial].filter((line) => line.length > 0).join('\n');
  }
}

function tailOf(text: string, lines = 30): string {
  return text.split('\n').slice(-lines).join('\n').trim();
}

// ---------------------------------------------------------------------------------------------
// Prerequisites

async function findMotoServer(): Promise<string> {
  const moto = await findOnPath('moto_server');
  if (!moto) {
    throw new LocalStackUnavailableError(
      "moto_server not found on PATH: install it with `pip install 'moto[server]'`",
    );
  }
  return moto;
}

interface PgBinaries {
  initdb: string;
  pgCtl: string;
  postgres: string;
}

let pgBinariesCache: Promise<PgBinaries> | undefined;

function findPgBinaries(): Promise<PgBinaries> {
  pgBinariesCache ??= (async () => {
    for (const dir of PG_BIN_DIRS) {
      const present = await Promise.all(PG_BINARIES.map((bin) => isExecutable(join(dir, bin))));
      if (!present.every(Boolean)) continue;
      const postgres = join(dir, 'postgres');
      try {
        const { stdout } = await run(postgres, ['--version'], 10_000);
        if (!/\(PostgreSQL\) 15\./.test(stdout)) continue;
      } catch {
        continue;
      }
      return { initdb: join(dir, 'initdb'), pgCtl: join(dir, 'pg_ctl'), postgres };
    }
    throw new LocalStackUnavailableError(
      `PostgreSQL 15 server binaries not found (looked in ${PG_BIN_DIRS.join(', ')} for ${PG_BINARIES.join(', ')}): install them with \`apt-get install postgresql-15\``,
    );
  })();
  pgBinariesCache.catch(() => {
    pgBinariesCache = undefined;
  });
  return pgBinariesCache;
}

async function pgSystemUserIds(): Promise<{ uid: number; gid: number }> {
  try {
    const uid = Number((await run('id', ['-u', PG_SYSTEM_USER])).stdout.trim());
    const gid = Number((await run('id', ['-g', PG_SYSTEM_USER])).stdout.trim());
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error('unparsable id output');
    return { uid, gid };
  } catch {
    throw new LocalStackUnavailableError(
      `running as root but there is no \`${PG_SYSTEM_USER}\` system user to run PostgreSQL as: install PostgreSQL with \`apt-get install postgresql-15\` (it creates the user) or run the tests as a non-root user`,
    );
  }
}

async function checkRootPrerequisites(): Promise<void> {
  if (!isRoot()) return;
  if (!(await findOnPath('runuser'))) {
    throw new LocalStackUnavailableError(
      'running as root but `runuser` is not on PATH (needed to run PostgreSQL as the postgres user): install it with `apt-get install util-linux`',
    );
  }
  await pgSystemUserIds();
}

async function checkOpenssl(): Promise<void> {
  if (!(await isExecutable(OPENSSL))) {
    throw new LocalStackUnavailableError(
      `openssl not found at ${OPENSSL} (needed for tls: true): install it with \`apt-get install openssl\``,
    );
  }
}

/** Throws LocalStackUnavailableError (with an install hint) when something the local stack needs is missing. */
export async function checkLocalPrerequisites(): Promise<void> {
  await findMotoServer();
  await findPgBinaries();
  await checkRootPrerequisites();
}

// ---------------------------------------------------------------------------------------------
// moto

async function waitForMoto(endpoint: string, child: ChildProcess, output: OutputTail): Promise<void> {
  const deadline = Date.now() + MOTO_START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `moto_server exited early (code ${child.exitCode}, signal ${child.signalCode}). Output:\n${output}`,
      );
    }
    try {
      const response = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer().catch(() => undefined);
      return; // any HTTP answer means it is up
    } catch {
      await sleep(100);
    }
  }
  throw new Error(
    `moto_server did not answer on ${endpoint} within ${MOTO_START_TIMEOUT_MS / 1000} s. Output:\n${output}`,
  );
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal); // the whole group: pyenv shims may sit in between
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

async function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  killGroup(child, 'SIGTERM');
  const timedOut = await Promise.race([exited.then(() => false), sleep(graceMs).then(() => true)]);
  if (timedOut) {
    killGroup(child, 'SIGKILL');
    await Promise.race([exited, sleep(2_000)]);
  }
}

export async function startMoto(): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const moto = await findMotoServer();
  let lastError: unknown;
  for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
    const port = await freePort();
    const endpoint = `http://${HOST}:${port}`;
    const output = new OutputTail();
    const child = spawn(moto, ['-H', HOST, '-p', String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // own process group, so stop() can kill the shim and python together
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
    });
    child.stdout?.on('data', (chunk: Buffer) => output.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk));
    const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
    spawnError.catch(() => undefined);
    const unregister = registerExitCleanup(() => killGroup(child, 'SIGKILL'));
    try {
      await Promise.race([waitForMoto(endpoint, child, output), spawnError]);
    } catch (error) {
      unregister();
      await stopChild(child, 1_000);
      lastError = error;
      if (/Address already in use/i.test(output.toString())) continue;
      throw error;
    }
    let stopping: Promise<void> | undefined;
    return {
      endpoint,
      stop() {
        stopping ??= stopChild(child).finally(unregister);
        return stopping;
      },
    };
  }
  throw lastError;
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

interface TlsFiles {
  caFile: string;
  serverCert: string;
  serverKey: string;
}

/** Throwaway CA ("Local Test CA") and a localhost/127.0.0.1 server certificate signed by it. */
async function generateTls(tlsDir: string, dataDir: string): Promise<TlsFiles> {
  await checkOpenssl();
  const caKey = join(tlsDir, 'ca.key');
  const caFile = join(tlsDir, 'ca.crt');
  const csr = join(tlsDir, 'server.csr');
  const extFile = join(tlsDir, 'server.ext');
  const serverCert = join(dataDir, 'server.crt');
  const serverKey = join(dataDir, 'server.key');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

  await run(OPENSSL, [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    caKey,
    '-out',
    caFile,
    '-days',
    '2',
    '-subj',
    '/CN=Local Test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await run(OPENSSL, ['req', '-new', ...ec, '-keyout', serverKey, '-out', csr, '-subj', '/CN=localhost']);
  await writeFile(
    extFile,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '',
    ].join('\n'),
  );
  await run(OPENSSL, [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    caFile,
    '-CAkey',
    caKey,
    '-set_serial',
    `0x${randomBytes(16).toString('hex')}`,
    '-days',
    '2',
    '-sha256',
    '-extfile',
    extFile,
    '-out',
    serverCert,
  ]);
  // The CA key is only needed to sign: drop it, together with the CSR.
  await Promise.all([rm(caKey, { force: true }), rm(csr, { force: true }), rm(extFile, { force: true })]);

  await chmod(caFile, 0o644);
  await chmod(serverCert, 0o600);
  await chmod(serverKey, 0o600);
  if (isRoot()) {
    const { uid, gid } = await pgSystemUserIds();
    await chown(serverCert, uid, gid);
    await chown(serverKey, uid, gid);
  }
  return { caFile, serverCert, serverKey };
}

async function waitForLogin(port: number, password: string, caFile: string | undefined): Promise<void> {
  const deadline = Date.now() + PG_LOGIN_TIMEOUT_MS;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const client = new pg.Client({
      host: HOST,
      port,
      user: SUPERUSER,
      password,
      database: 'postgres',
      connectionTimeoutMillis: 2_000,
      ssl: caFile ? { ca: await readFile(caFile, 'utf8'), rejectUnauthorized: true } : false,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('select 1');
      await client.end();
      return;
    } catch (error) {
      lastError = error;
      await client.end().catch(() => undefined);
      await sleep(100);
    }
  }
  throw new Error(
    `PostgreSQL on ${HOST}:${port} did not accept a superuser login within ${PG_LOGIN_TIMEOUT_MS / 1000} s: ${
      lastError instanceof Error ? lastError.message : String(lastError)
    }`,
  );
}

export async function startPostgres(
  options: { tls?: boolean } = {},
): Promise<LocalPostgres & { stop(): Promise<void> }> {
  const bins = await findPgBinaries();
  await checkRootPrerequisites();
  if (options.tls) await checkOpenssl();
  const ids = isRoot() ? await pgSystemUserIds() : undefined;

  // Layout: <base> (0755)/pg (owned by the postgres user: data/, postgres.log, socket) and <base>/tls (0755).
  const baseDir = await mkdtemp(join(tmpdir(), 'rotation-stack-'));
  await chmod(baseDir, 0o755);
  const pgDir = join(baseDir, 'pg');
  const dataDir = join(pgDir, 'data');
  const logFile = join(pgDir, 'postgres.log');
  let started = false;
  let port = 0;

  const stopSync = (): void => {
    if (started) {
      const [file, args] = asPgUser(bins.pgCtl, ['-D', dataDir, 'stop', '-m', 'immediate', '-w', '-t', '10']);
      spawnSync(file, args, { stdio: 'ignore', timeout: 15_000 });
    }
    rmSync(baseDir, { recursive: true, force: true });
  };
  const unregister = registerExitCleanup(stopSync);

  const pgCtlStop = async (mode: 'fast' | 'immediate'): Promise<void> => {
    const [file, args] = asPgUser(bins.pgCtl, ['-D', dataDir, 'stop', '-m', mode, '-w', '-t', '20']);
    await run(file, args, 30_000);
  };

  const cleanup = async (): Promise<void> => {
    const errors: unknown[] = [];
    if (started) {
      try {
        await pgCtlStop('fast');
      } catch (error) {
        try {
          await pgCtlStop('immediate');
        } catch {
          errors.push(error);
        }
      }
      started = false;
    }
    try {
      await rm(baseDir, { recursive: true, force: true });
    } catch (error) {
      errors.push(error);
    }
    unregister();
    if (errors.length > 0) throw errors[0];
  };

  try {
    await mkdir(pgDir, { mode: 0o700 });
    if (ids) await chown(pgDir, ids.uid, ids.gid);

    const password = randomBytes(24).toString('base64url');
    const pwFile = join(pgDir, 'pwfile');
    await writeFile(pwFile, `${password}\n`, { mode: 0o600 });
    if (ids) await chown(pwFile, ids.uid, ids.gid);
    try {
      const [file, args] = asPgUser(bins.initdb, [
        '-D',
        dataDir,
        '-U',
        SUPERUSER,
        '--auth=scram-sha-256',
        `--pwfile=${pwFile}`,
        '-E',
        'UTF8',
        '--no-locale',
        '--no-sync',
      ]);
      await run(file, args, 120_000);
    } finally {
      await unlink(pwFile).catch(() => undefined);
    }

    let caFile: string | undefined;
    const settings: Record<string, string> = {
      listen_addresses: HOST,
      unix_socket_directories: pgDir,
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      max_connections: '200',
      password_encryption: 'scram-sha-256',
    };
    if (options.tls) {
      const tlsDir = join(baseDir, 'tls');
      await mkdir(tlsDir, { mode: 0o755 });
      await chmod(tlsDir, 0o755);
      const tls = await generateTls(tlsDir, dataDir);
      caFile = tls.caFile;
      settings.ssl = 'on';
      settings.ssl_cert_file = tls.serverCert;
      settings.ssl_key_file = tls.serverKey;
    }

    let lastError: unknown;
    for (let attempt = 1; attempt <= PORT_ATTEMPTS && !started; attempt++) {
      port = await freePort();
      const serverOptions = Object.entries({ ...settings, port: String(port) })
        .map(([key, value]) => `-c ${key}=${shQuote(value)}`)
        .join(' ');
      const [file, args] = asPgUser(bins.pgCtl, [
        '-D',
        dataDir,
        '-l',
        logFile,
        '-o',
        serverOptions,
        '-w',
        '-t',
        String(PG_START_TIMEOUT_S),
        'start',
      ]);
      started = true; // from here on, stop attempts are meaningful (pg_ctl may have launched the server)
      try {
        await run(file, args, (PG_START_TIMEOUT_S + 10) * 1000);
      } catch (error) {
        const log = await readFile(logFile, 'utf8').catch(() => '');
        await pgCtlStop('immediate').catch(() => undefined);
        started = false;
        lastError = new Error(
          `${error instanceof Error ? error.message : String(error)}\npostgres log tail:\n${tailOf(log)}`,
        );
        if (/could not bind|address already in use/i.test(log)) continue;
        throw lastError;
      }
    }
    if (!started) throw lastError;

    await waitForLogin(port, password, caFile);

    let stopping: Promise<void> | undefined;
    return {
      host: HOST,
      port,
      superuser: SUPERUSER,
      superuserPassword: password,
      ...(caFile ? { caFile } : {}),
      stop() {
        stopping ??= cleanup();
        return stopping;
      },
    };
  } catch (error) {
    await cleanup().catch(() => undefined);
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Both

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const log = options.log ?? (() => undefined);
  await checkLocalPrerequisites();
  const startedAt = Date.now();
  const [motoResult, pgResult] = await Promise.allSettled([
    startMoto(),
    startPostgres(options.tls ? { tls: true } : {}),
  ]);
  if (motoResult.status === 'rejected' || pgResult.status === 'rejected') {
    await Promise.allSettled([
      motoResult.status === 'fulfilled' ? motoResult.value.stop() : undefined,
      pgResult.status === 'fulfilled' ? pgResult.value.stop() : undefined,
    ]);
    throw motoResult.status === 'rejected' ? motoResult.reason : (pgResult as PromiseRejectedResult).reason;
  }
  const moto = motoResult.value;
  const { stop: stopPostgres, ...postgres } = pgResult.value;
  log(`moto server listening on ${moto.endpoint}`);
  log(
    `PostgreSQL 15 listening on ${postgres.host}:${postgres.port} (superuser ${postgres.superuser}${
      postgres.caFile ? `, TLS with CA ${postgres.caFile}` : ', no TLS'
    })`,
  );
  log(`local stack ready in ${Date.now() - startedAt} ms`);

  let stopping: Promise<void> | undefined;
  return {
    awsEndpoint: moto.endpoint,
    postgres,
    stop() {
      stopping ??= (async () => {
        const results = await Promise.allSettled([stopPostgres(), moto.stop()]);
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
        log('local stack stopped');
      })();
      return stopping;
    },
  };
}
