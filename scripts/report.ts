/**
 * `npm run report [-- --out DIR]`: the compliance report of the managed secrets, printed as a
 * table, against whatever the SDK is pointed at (AWS, or a local moto server through
 * `AWS_ENDPOINT_URL`). With `--out DIR`, also writes the JSON, CSV and HTML files there.
 * The policy comes from the same variables as the function's (`ENVIRONMENT`, `POLICY_*`, …).
 * Reads only: it changes no secret, and prints no value.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadPolicySettings } from '../shared/config/policy.js';
import { createFleetClient, readFleet } from '../shared/fleet/index.js';
import { buildReport, renderCsv, renderHtml, renderJson, renderTable } from '../shared/report/index.js';

const USAGE = `usage: npm run report [-- --out DIR]

Prints the compliance report of the secrets under the managed prefixes as a table.
  --out DIR   also write <environment>-<time>.json, .csv and .html to DIR
Settings: ENVIRONMENT (production), MANAGED_PREFIXES, POLICY_MAX_AGE_DAYS, POLICY_WARNING_DAYS,
POLICY_SCHEDULE_DAYS, POLICY_UNUSED_DAYS, POLICY_STUCK_AFTER_HOURS, ROTATION_FUNCTION_DATABASE,
ROTATION_FUNCTION_API_KEYS; the AWS SDK's AWS_REGION, AWS_ENDPOINT_URL, credentials.
`;

async function main(): Promise<number> {
  let out: string | undefined;
  try {
    const { values } = parseArgs({
      options: { out: { type: 'string' }, help: { type: 'boolean' } },
      strict: true,
    });
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    out = values.out;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const settings = loadPolicySettings();
  const now = new Date();
  const fleet = await readFleet(createFleetClient(), settings, { now });
  const report = buildReport(fleet.entries, settings, now);
  process.stdout.write(renderTable(report));
  process.stderr.write(
    `(${fleet.calls.listSecrets} ListSecrets, ${fleet.calls.batchGetSecretValue} BatchGetSecretValue, ` +
      `${fleet.calls.listSecretVersionIds} ListSecretVersionIds calls)\n`,
  );
  if (out) {
    const dir = resolve(out);
    await mkdir(dir, { recursive: true });
    const base = join(
      dir,
      `${report.environment}-${report.generatedAt.replaceAll(':', '').replace(/\.\d+Z$/, 'Z')}`,
    );
    await Promise.all([
      writeFile(`${base}.json`, renderJson(report)),
      writeFile(`${base}.csv`, renderCsv(report.secrets)),
      writeFile(`${base}.html`, renderHtml(report)),
    ]);
    process.stderr.write(`wrote ${base}.json, ${base}.csv and ${base}.html\n`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    const hint =
      error.name === 'CredentialsProviderError'
        ? ' (set AWS credentials; for a local moto server any values do)'
        : /region/i.test(error.message)
          ? ' (set AWS_REGION)'
          : '';
    process.stderr.write(`report failed: ${error.name}: ${error.message}${hint}\n`);
    process.exit(1);
  },
);
