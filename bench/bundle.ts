/**
 * Bundle benchmark: builds every function declared in serverless.yml with the same esbuild
 * options as the deployment (minified CommonJS, AWS SDK bundled), then prints each bundle's size
 * (raw and gzipped) and its module load time: the median of BENCH_LOADS (default 15) fresh
 * Node processes each importing the bundle once (a cold start's module phase).
 * The last line printed is one JSON object.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const LOADS = Number(process.env.BENCH_LOADS ?? 15);
const yml = readFileSync('serverless.yml', 'utf8');
const functions = [...yml.matchAll(/^ {2}(\w+):\n(?: {4}.*\n)*? {4}handler: (\S+)\.(\w+)$/gm)].map((m) => ({
  name: m[1] ?? '',
  entry: `${m[2]}.ts`,
}));
if (functions.length === 0) throw new Error('no functions found in serverless.yml');

/** Builds one function as serverless.yml's esbuild settings do. */
async function bundle(entry: string, outfile: string, external: string[]): Promise<void> {
  await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    keepNames: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    mainFields: ['module', 'main'],
    external: ['pg-native', ...external],
    outfile,
    logLevel: 'error',
  });
}

const out = mkdtempSync(join(tmpdir(), 'bundle-bench-'));
const results: Record<
  string,
  { bytes: number; gzip_bytes: number; bytes_without_aws_sdk: number; load_median_ms: number }
> = {};
try {
  for (const fn of functions) {
    const outfile = join(out, `${fn.name}.cjs`);
    await bundle(fn.entry, outfile, []);
    // For comparison only: the same bundle if the Lambda runtime's AWS SDK were used instead.
    const withoutSdk = join(out, `${fn.name}.no-sdk.cjs`);
    await bundle(fn.entry, withoutSdk, ['@aws-sdk/*', '@smithy/*']);
    const loads: number[] = [];
    for (let i = 0; i < LOADS; i++) {
      const script = `const t=performance.now();await import(${JSON.stringify(outfile)});process.stdout.write(String(performance.now()-t))`;
      const ms = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
        env: {
          ...process.env,
          AWS_REGION: 'us-east-1',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
      }).toString();
      loads.push(Number(ms));
    }
    loads.sort((a, b) => a - b);
    results[fn.name] = {
      bytes: statSync(outfile).size,
      gzip_bytes: gzipSync(readFileSync(outfile)).length,
      bytes_without_aws_sdk: statSync(withoutSdk).size,
      load_median_ms: Math.round((loads[Math.floor(loads.length / 2)] ?? 0) * 10) / 10,
    };
    process.stderr.write(
      `${fn.name}: ${((results[fn.name]?.bytes ?? 0) / 1024) | 0} KB minified, ${((results[fn.name]?.gzip_bytes ?? 0) / 1024) | 0} KB gzipped, module load ${results[fn.name]?.load_median_ms} ms (median of ${LOADS})\n`,
    );
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify({ functions: results })}\n`);
