/**
 * Secrets library benchmark: the time of one `secrets.database()` read (validated with the
 * PostgreSQL schema, ready connection settings built) from Secrets Manager on a local moto
 * server, from Powertools' cache, and from environment variables; BENCH_N (default 200)
 * reads each, audit log on. The last line printed is one JSON object.
 */
import { Writable } from 'node:stream';
import { Logger } from '@aws-lambda-powertools/logger';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createSecrets, type Secrets } from '../shared/secrets/index.js';
import { startMoto } from '../test/support/local-stack.js';

const N = Number(process.env.BENCH_N ?? 200);
const log = (line: string) => process.stderr.write(`${line}\n`);

/** A logger that formats every audit line, as in production (stdout is discarded while timing). */
const sink = () => new Logger({ serviceName: 'bench' });

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const value = sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  return Math.round(value * 1000) / 1000;
}

async function time(secrets: Secrets, refresh: boolean): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < N; i++) {
    const start = performance.now();
    await secrets.database({ refresh });
    times.push(performance.now() - start);
  }
  return times;
}

const moto = await startMoto();
const stdoutWrite = process.stdout.write.bind(process.stdout);
try {
  const client = new SecretsManagerClient({
    region: 'us-east-1',
    endpoint: moto.endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const value = {
    connection_string: 'postgresql://muejam_user:pw@db.example.com:5432/muejam',
    host: 'db.example.com',
    port: '5432',
    database: 'muejam',
    username: 'muejam_user',
    password: 'a-long-enough-password-for-the-bench',
    rotated_at: '2024-01-01T00:00:00Z',
  };
  await client.send(
    new CreateSecretCommand({ Name: 'bench/database/primary', SecretString: JSON.stringify(value) }),
  );
  // Audit lines go to stdout; the benchmark's own output is the JSON line at the end.
  const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });
  process.stdout.write = quiet.write.bind(quiet) as typeof process.stdout.write;
  const fromSecretsManager = createSecrets({ client, env: { ENVIRONMENT: 'bench' }, logger: sink() });
  const fetched = await time(fromSecretsManager, true);
  const cached = await time(fromSecretsManager, false);
  const fromEnvironment = createSecrets({
    client,
    env: {
      USE_SECRETS_MANAGER: 'False',
      DATABASE_URL: 'postgresql://muejam_user:pw@db.example.com:5432/muejam?sslmode=verify-full',
    },
    logger: sink(),
  });
  const environment = await time(fromEnvironment, false);
  process.stdout.write = stdoutWrite;
  log(`secrets.database(), ${N} reads each (median ms):`);
  log(`  Secrets Manager (moto, refresh): ${median(fetched)}`);
  log(`  Powertools cache:                ${median(cached)}`);
  log(`  environment variables:           ${median(environment)}`);
  process.stdout.write(
    `${JSON.stringify({
      reads: N,
      secrets_manager_median_ms: median(fetched),
      cache_median_ms: median(cached),
      environment_median_ms: median(environment),
    })}\n`,
  );
} finally {
  process.stdout.write = stdoutWrite;
  await moto.stop();
}
