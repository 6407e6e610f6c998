/**
 * Fleet benchmark: the compliance report's read of 1,000 and 10,000 secrets (`BENCH_SIZES`)
 * against a local moto server, next to a naive pass (DescribeSecret + GetSecretValue per
 * secret), with a per-call latency added in the SDK client's transport (`BENCH_LATENCY_MS`,
 * default 20 ms) to stand for a real region's round trip. Calls are counted by SDK middleware.
 * The naive pass runs on at most `BENCH_NAIVE_LIMIT` (1,000) secrets and is scaled linearly
 * beyond, as the output says.
 *
 * Then it simulates an enforcement of `BENCH_ENFORCE_SECRETS` (100,000) overdue secrets with
 * quota-limited fake clients on a virtual clock, running the real code: the enforcer's fleet
 * read, plan and queue, and `BENCH_WORKERS` workers starting the rotations at the enforcer's
 * pace (`ENFORCE_STARTS_PER_SECOND`, default 10/s, shared); it prints the plan, its expected
 * duration and why.
 *
 * The last lines are one JSON object per fleet size.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  type ListSecretsCommandOutput,
  SecretsManagerClient,
  type SecretsManagerClientConfig,
} from '@aws-sdk/client-secrets-manager';
import type { SQSClient } from '@aws-sdk/client-sqs';
import {
  loadStartsPerSecond,
  planEnforcement,
  sendWorkItems,
  startWorkerBatch,
  VERSION_WRITE_SHARE,
} from '../shared/enforcement/index.js';
import {
  boundedConcurrency,
  type Clock,
  createFleetClient,
  listSecretPages,
  readFleet,
  SECRETS_MANAGER_QUOTAS,
  SecretsManagerRateLimiter,
} from '../shared/fleet/index.js';
import { DAY_MS, defaultPolicySettings } from '../shared/policy/index.js';
import { buildReport, renderCsv, renderHtml, renderJson } from '../shared/report/index.js';
import { SecretStore, VERSION_WRITES_PER_ROTATION } from '../shared/rotation/index.js';
import { startMoto } from '../test/support/local-stack.js';

/** The worker's timeout as serverless.yml deploys it. */
const WORKER_TIMEOUT_SECONDS = Number(
  /\n {2}enforceRotationPolicyWorker:\n(?: {4}.*\n)*? {4}timeout: (\d+)/.exec(
    readFileSync(new URL('../serverless.yml', import.meta.url), 'utf8'),
  )?.[1] ?? Number.NaN,
);

const SIZES = (process.env.BENCH_SIZES ?? '1000,10000').split(',').map(Number);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 20);
const NAIVE_LIMIT = Number(process.env.BENCH_NAIVE_LIMIT ?? 1000);
const SETUP_CONCURRENCY = 8;
const ENFORCE_SECRETS = Number(process.env.BENCH_ENFORCE_SECRETS ?? 100_000);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 5);
/** The deployed default (or `ENFORCE_STARTS_PER_SECOND`, read as the functions read it). */
const STARTS_PER_SECOND = loadStartsPerSecond(process.env);
const log = (line: string) => process.stderr.write(`${line}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** SDK client settings for moto, with `latencyMs` added to every request at the transport. */
function motoConfig(endpoint: string, latencyMs: number): SecretsManagerClientConfig {
  const base = {
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  };
  if (latencyMs <= 0) return base;
  type Handler = { handle(request: unknown, options?: unknown): Promise<unknown> };
  const real = new SecretsManagerClient(base).config.requestHandler as unknown as Handler;
  const delayed = {
    handle: async (request: unknown, options?: unknown) => {
      await sleep(latencyMs);
      return real.handle(request, options);
    },
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
  };
  return { ...base, requestHandler: delayed as unknown as SecretsManagerClientConfig['requestHandler'] };
}

/** Counts the API calls a client sends (one per command, retries not counted). */
function countCalls(client: SecretsManagerClient): Record<string, number> {
  const counts: Record<string, number> = {};
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = (context.commandName ?? '').replace(/Command$/, '');
      counts[name] = (counts[name] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'countCalls' },
  );
  return counts;
}
const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** Creates `n` secrets in the seed's shapes under `environment`, `rotated_at` 0–200 days ago. */
async function createFleet(endpoint: string, environment: string, n: number) {
  const client = new SecretsManagerClient(motoConfig(endpoint, 0));
  const run = boundedConcurrency(SETUP_CONCURRENCY);
  const started = performance.now();
  let retried = 0;
  const kinds = ['database/primary', 'api-keys/resend', 'api-keys/aws', 'api-keys/google', 'api-keys/clerk'];
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      run(async () => {
        const rotatedAt = new Date(Date.now() - ((i * 7919) % 200) * DAY_MS).toISOString();
        const create = new CreateSecretCommand({
          Name: `${environment}/${kinds[i % kinds.length]}-${String(i).padStart(6, '0')}`,
          SecretString: JSON.stringify({
            api_key: `re_${randomBytes(12).toString('hex')}`,
            rotated_at: rotatedAt,
          }),
        });
        // moto's threaded server now and then answers 500 under concurrent writes: try again
        // (a retry that finds the secret already made counts as done).
        for (let attempt = 1; ; attempt++) {
          try {
            await client.send(create);
            return;
          } catch (error) {
            if ((error as Error).name === 'ResourceExistsException' && attempt > 1) return;
            if (attempt === 5) throw error;
            retried++;
          }
        }
      }),
    ),
  );
  return { ms: performance.now() - started, retried };
}

/** The report as the function makes it: read the fleet, evaluate, render JSON, CSV and HTML. */
async function reportPass(endpoint: string, environment: string) {
  const client = createFleetClient({ config: motoConfig(endpoint, LATENCY_MS) });
  const counts = countCalls(client);
  const settings = defaultPolicySettings(environment);
  const started = performance.now();
  const now = new Date();
  const fleet = await readFleet(client, settings, { now });
  const report = buildReport(fleet.entries, settings, now);
  const bytes = renderJson(report).length + renderCsv(report.secrets).length + renderHtml(report).length;
  return { ms: performance.now() - started, counts, secrets: fleet.entries.length, bytes };
}

/** The naive pass: list, then DescribeSecret and GetSecretValue for each secret, one after another. */
async function naivePass(endpoint: string, environment: string, limit: number) {
  const client = new SecretsManagerClient(motoConfig(endpoint, LATENCY_MS));
  const counts = countCalls(client);
  const started = performance.now();
  let done = 0;
  for await (const page of listSecretPages(client, defaultPolicySettings(environment).managedPrefixes)) {
    for (const secret of page) {
      if (done >= limit) break;
      await client.send(new DescribeSecretCommand({ SecretId: secret.arn }));
      const value = await client.send(
        new GetSecretValueCommand({ SecretId: secret.arn, VersionStage: 'AWSCURRENT' }),
      );
      JSON.parse(value.SecretString ?? '{}');
      done++;
    }
    if (done >= limit) break;
  }
  return { ms: performance.now() - started, counts, secrets: done };
}

/** A clock that moves only when every task waits on it: a discrete-event simulation. */
class VirtualClock implements Clock {
  #now = 0;
  #timers: { at: number; wake: () => void }[] = [];

  now(): number {
    return this.#now;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((wake) => {
      const at = this.#now + Math.max(0, ms);
      let i = this.#timers.length;
      while (i > 0 && (this.#timers[i - 1]?.at ?? 0) > at) i--;
      this.#timers.splice(i, 0, { at, wake });
    });
  }

  /** Runs `task` to completion, advancing time whenever nothing else can progress. */
  async run<T>(task: Promise<T>): Promise<T> {
    let settled = false;
    task.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    while (!settled) {
      await new Promise((resolve) => setImmediate(resolve));
      if (settled) break;
      const next = this.#timers[0]?.at;
      if (next === undefined) throw new Error('simulation stalled: no task is waiting on the clock');
      this.#now = next;
      while (this.#timers[0]?.at === next) this.#timers.shift()?.wake();
    }
    return task;
  }
}

/**
 * A Secrets Manager stand-in for `n` synthetic secrets: every call waits for its quota's
 * token (the same limiter the functions use, on the virtual clock) and the round trip.
 */
function fakeSecretsManager(n: number, clock: VirtualClock, limiter: SecretsManagerRateLimiter) {
  const counts: Record<string, number> = {};
  const created = new Date(Date.UTC(2026, 0, 1));
  const rotatedAt = JSON.stringify({ rotated_at: '2026-01-01T00:00:00Z' });
  const send = async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
    const name = command.constructor.name.replace(/Command$/, '');
    counts[name] = (counts[name] ?? 0) + 1;
    await limiter.acquire(name);
    await clock.sleep(LATENCY_MS);
    if (name === 'ListSecrets') {
      const start = Number(command.input.NextToken ?? 0);
      const end = Math.min(n, start + 100);
      const out: Partial<ListSecretsCommandOutput> = {
        SecretList: Array.from({ length: end - start }, (_, k) => ({
          ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:production/database/s${start + k}-AbCdEf`,
          Name: `production/database/s${start + k}`,
          CreatedDate: created,
          RotationEnabled: false,
          SecretVersionsToStages: { v1: ['AWSCURRENT'] },
        })),
        ...(end < n ? { NextToken: String(end) } : {}),
      };
      return out;
    }
    if (name === 'BatchGetSecretValue')
      return {
        SecretValues: (command.input.SecretIdList as string[]).map((arn) => ({
          ARN: arn,
          SecretString: rotatedAt,
          VersionStages: ['AWSCURRENT'],
        })),
      };
    if (name === 'DescribeSecret') {
      const arn = String(command.input.SecretId);
      return {
        ARN: arn,
        Name: /:secret:(.*)-AbCdEf$/.exec(arn)?.[1],
        CreatedDate: created,
        RotationEnabled: false,
        VersionIdsToStages: { v1: ['AWSCURRENT'] },
      };
    }
    if (name === 'ListSecretVersionIds')
      return { Versions: [{ VersionId: 'v1', VersionStages: ['AWSCURRENT'] }] };
    if (name === 'RotateSecret') return { ARN: command.input.SecretId };
    throw new Error(`the simulation does not fake ${name}`);
  };
  return { client: { send } as unknown as SecretsManagerClient, counts };
}

/** An SQS stand-in: `SendMessageBatch` waits the round trip and keeps each message with the time it becomes visible. */
function fakeQueue(clock: VirtualClock) {
  const messages: { id: string; body: string; visibleAt: number }[] = [];
  let calls = 0;
  const send = async (command: {
    input: { Entries?: { MessageBody?: string; DelaySeconds?: number }[] };
  }) => {
    calls++;
    await clock.sleep(LATENCY_MS);
    for (const entry of command.input.Entries ?? [])
      messages.push({
        id: String(messages.length),
        body: entry.MessageBody ?? '',
        visibleAt: clock.now() + (entry.DelaySeconds ?? 0) * 1000,
      });
    return { Successful: [], Failed: [] };
  };
  return { client: { send } as unknown as SQSClient, messages, calls: () => calls };
}

/**
 * Simulates an enforcement of `n` overdue secrets with the real code on fake clients: the
 * enforcer reads the fleet, plans and queues one work item per start (`planEnforcement`,
 * `sendWorkItems`); `WORKERS` workers take batches of ten as they become visible and carry them
 * out (`startWorkerBatch`: a fresh DescribeSecret, the version check, RotateSecret), each within
 * its share of the quotas. Returns the plan's lines.
 */
async function simulateEnforcement(n: number): Promise<string[]> {
  const clock = new VirtualClock();
  const settings = defaultPolicySettings('production', {
    rotationFunctions: { 'production/database/': 'rotateDatabase' },
  });
  const at = new Date(Date.UTC(2026, 6, 1));
  const logger = new Logger({ serviceName: 'bench', logLevel: 'SILENT' });
  const unused = {
    steps: { description: 'none', invoke: async () => Promise.reject(new Error('no repairs here')) },
    revoker: { description: 'none', revoke: async () => Promise.reject(new Error('no revocations here')) },
  };

  // One run of the enforcer: read, plan, queue.
  const reader = fakeSecretsManager(
    n,
    clock,
    new SecretsManagerRateLimiter({ clock, rotationPerSecond: STARTS_PER_SECOND }),
  );
  const fleet = await clock.run(readFleet(reader.client, settings, { now: at }));
  const readMs = clock.now();
  const plan = planEnforcement(fleet.entries, settings, {
    run: { id: 'bench', at, ignoreWindows: false },
    repairMinAgeMs: 3_600_000,
    gracePeriodMs: 900_000,
    spreadSeconds: 900,
  });
  const queue = fakeQueue(clock);
  await clock.run(sendWorkItems(queue.client, 'enforce', plan.starts));
  const runMs = clock.now();

  // Workers drain the queue: batches of ten visible messages, within their share of the quotas.
  let next = 0;
  let longest = 0;
  let invocations = 0;
  const workers = await clock.run(
    Promise.all(
      Array.from({ length: WORKERS }, async () => {
        const worker = fakeSecretsManager(
          n,
          clock,
          new SecretsManagerRateLimiter({ clock, share: 1 / WORKERS, rotationPerSecond: STARTS_PER_SECOND }),
        );
        let outcomes = 0;
        while (next < queue.messages.length) {
          const batch = queue.messages.slice(next, next + 10).filter((m) => m.visibleAt <= clock.now());
          if (batch.length === 0) {
            await clock.sleep((queue.messages[next]?.visibleAt ?? 0) - clock.now());
            continue;
          }
          next += batch.length;
          invocations++;
          const started = clock.now();
          const work = startWorkerBatch({
            secretsManager: worker.client,
            store: new SecretStore(worker.client),
            ...unused,
            settings,
            repairMinAgeMs: 3_600_000,
            logger,
            now: () => new Date(at.getTime() + clock.now()),
            publisher: async () => undefined,
          });
          outcomes += (await Promise.all(batch.map((m) => work.handle(m.body, m.id)))).flat().length;
          await work.finish();
          longest = Math.max(longest, clock.now() - started);
        }
        return { counts: worker.counts, outcomes };
      }),
    ),
  );
  const rotateMs = clock.now() - runMs;
  const writeQuota = SECRETS_MANAGER_QUOTAS.versionWrites.perSecond;
  const rotationQuota = SECRETS_MANAGER_QUOTAS.rotation.perSecond;
  const sum = (name: string) => workers.reduce((a, w) => a + (w.counts[name] ?? 0), 0);
  return [
    `simulated enforcement of ${n.toLocaleString('en')} overdue secrets, rotation off (the real planner, queue and worker code on a virtual clock; fake clients held to the quotas, ${LATENCY_MS} ms a call):`,
    `  enforcer: ${reader.counts.ListSecrets} ListSecrets + ${reader.counts.BatchGetSecretValue} BatchGetSecretValue in ${seconds(readMs)}; ` +
      `${plan.starts.length.toLocaleString('en')} starts planned -> ${queue.messages.length.toLocaleString('en')} SQS messages (${queue.calls().toLocaleString('en')} SendMessageBatch calls, ${seconds(runMs - readMs)}), spread over 900 s; one run of ${seconds(runMs)}`,
    `  workers:  ${WORKERS} at once, each with 1/${WORKERS} of the quotas (RotateSecret: ${STARTS_PER_SECOND / WORKERS}/s each), ${invocations.toLocaleString('en')} invocations of up to 10 messages: ` +
      `${sum('DescribeSecret').toLocaleString('en')} DescribeSecret, ${sum('ListSecretVersionIds').toLocaleString('en')} ListSecretVersionIds, ${sum('RotateSecret').toLocaleString('en')} RotateSecret (settings set in the same call) ` +
      `in ${seconds(rotateMs)} (${(rotateMs / 60_000).toFixed(1)} min); longest invocation ${seconds(longest)} (the worker's timeout is ${WORKER_TIMEOUT_SECONDS} s)`,
    `  total:    ${seconds(runMs + rotateMs)} (${(rotateMs / 3_600_000).toFixed(1)} h of starts); expected: ${n.toLocaleString('en')} starts at ${STARTS_PER_SECOND}/s need ${seconds((n / STARTS_PER_SECOND) * 1000)}` +
      (n / STARTS_PER_SECOND > 900
        ? ", past one Lambda run's 900 s: hence the queue"
        : ', within one Lambda run'),
    `  why:      each started rotation makes ${VERSION_WRITES_PER_ROTATION} writes (createSecret's PutSecretValue, finishSecret's 2 UpdateSecretVersionStage) against the account's ${writeQuota}/s ` +
      `PutSecretValue/UpdateSecretVersionStage quota; ${STARTS_PER_SECOND}/s keeps them at ${STARTS_PER_SECOND * VERSION_WRITES_PER_ROTATION}/s ` +
      `(${Math.round((100 * STARTS_PER_SECOND * VERSION_WRITES_PER_ROTATION) / writeQuota)}% of it; the default is ⌊${writeQuota} × ${VERSION_WRITE_SHARE} ÷ ${VERSION_WRITES_PER_ROTATION}⌋, ENFORCE_STARTS_PER_SECOND). ` +
      `Starting at the RotateSecret quota's ${rotationQuota}/s (${seconds((n / rotationQuota) * 1000)}) would drive ${rotationQuota * VERSION_WRITES_PER_ROTATION} writes/s and throttle every writer of secrets in the account`,
  ];
}

async function main() {
  log(
    `fleet benchmark: sizes ${SIZES.join(', ')}, ${LATENCY_MS} ms added per call, naive pass on at most ${NAIVE_LIMIT} secrets, a fresh moto server per size`,
  );
  const results: object[] = [];
  for (const n of SIZES) {
    const moto = await startMoto();
    try {
      const environment = `bench${n}`;
      const setup = await createFleet(moto.endpoint, environment, n);
      log(
        `\n${n} secrets: setup created them in ${seconds(setup.ms)} (${SETUP_CONCURRENCY} at a time, no added latency` +
          `${setup.retried > 0 ? `; ${setup.retried} creates retried after a moto 500` : ''})`,
      );

      const report = await reportPass(moto.endpoint, environment);
      if (report.secrets !== n) throw new Error(`the report read ${report.secrets} secrets, expected ${n}`);
      const floor = Math.ceil(n / 100) + Math.ceil(n / 20);
      const reportCalls = total(report.counts);
      log(
        `  report: ${reportCalls} calls (${JSON.stringify(report.counts)}), floor ${floor} (x${(reportCalls / floor).toFixed(2)}), ` +
          `${seconds(report.ms)}, ${(report.bytes / 1024).toFixed(0)} KB rendered`,
      );

      const measured = Math.min(n, NAIVE_LIMIT);
      const naive = await naivePass(moto.endpoint, environment, measured);
      const scale = n / naive.secrets;
      const naiveCalls = Math.ceil(n / 100) + 2 * n;
      const naiveMs = naive.ms * scale;
      log(
        `  naive:  ${total(naive.counts)} calls measured on ${naive.secrets} secrets in ${seconds(naive.ms)}` +
          (scale > 1
            ? `; scaled linearly x${scale.toFixed(0)} to ${naiveCalls} calls, ${seconds(naiveMs)}`
            : '') +
          `; the report is ${(naiveMs / report.ms).toFixed(0)}x faster`,
      );
      results.push({
        secrets: n,
        latency_ms: LATENCY_MS,
        report_calls: reportCalls,
        report_ms: Math.round(report.ms),
        naive_calls: scale > 1 ? naiveCalls : total(naive.counts),
        naive_ms: Math.round(naiveMs),
      });
    } finally {
      await moto.stop();
    }
  }
  log('');
  for (const line of await simulateEnforcement(ENFORCE_SECRETS)) log(line);
  for (const result of results) process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
