import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../shared/report/index.js';
import { findLeaks, secretsManager, stack } from '../support/bed.js';
import { createSeedSecret, seedName, uniqueEnvironment } from '../support/fleet.js';

/** `npm run report` as a person runs it: a child process against the test's moto server. */

const root = new URL('../..', import.meta.url).pathname;

async function report(
  environment: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      'node_modules/.bin/tsx',
      ['scripts/report.ts', ...args],
      {
        cwd: root,
        timeout: 60_000,
        env: {
          PATH: process.env.PATH,
          ENVIRONMENT: environment,
          AWS_ENDPOINT_URL: stack().awsEndpoint,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('npm run report', () => {
  it('prints the table of the managed secrets and writes the JSON, CSV and HTML files, with no value', async () => {
    // Prepare
    const environment = uniqueEnvironment();
    const made = await Promise.all([
      createSeedSecret(secretsManager(), seedName(environment, 'database'), 'database', {
        rotatedDaysAgo: 200,
      }),
      createSeedSecret(secretsManager(), seedName(environment, 'resend'), 'resend', { rotatedDaysAgo: 10 }),
    ]);
    const out = await mkdtemp(join(tmpdir(), 'report-script-'));

    try {
      // Act
      const run = await report(environment, '--out', out);

      // Assess: the table, worst first, and the totals
      expect(run.code, run.stderr).toBe(0);
      const lines = run.stdout.split('\n');
      expect(lines[0]).toMatch(new RegExp(`^Secrets rotation compliance: ${environment}, `));
      expect(run.stdout).toMatch(
        new RegExp(`\\noverdue\\s+200d\\s+\\S+\\s+${seedName(environment, 'database')}\\s+off\\s+SM\\.1`),
      );
      expect(run.stdout).toMatch(
        new RegExp(`\\ncompliant\\s+10d\\s+\\S+\\s+${seedName(environment, 'resend')}\\s`),
      );
      expect(run.stdout).toContain('2 secrets, 2 need attention: overdue 1, never-rotated 0, unknown 0');

      // Assess: the three files, the CSV reading back to the JSON rows
      const files = (await readdir(out)).sort();
      expect(files.map((file) => file.replace(/^.*\./, ''))).toEqual(['csv', 'html', 'json']);
      const text = async (extension: string) =>
        readFile(join(out, files.find((file) => file.endsWith(`.${extension}`)) ?? ''), 'utf8');
      const [json, csv, html] = [await text('json'), await text('csv'), await text('html')];
      expect(parseCsv(csv)).toEqual(JSON.parse(json).secrets);
      expect(html).toContain(`<svg id="age-chart"`);
      expect(run.stderr).toContain(`wrote ${join(out, files[0]?.replace(/\.csv$/, '') ?? '')}.json`);

      // Assess: no value anywhere
      const everything = [run.stdout, run.stderr, json, csv, html].join('\n');
      expect(
        findLeaks(
          everything,
          made.flatMap((m) => m.secrets),
        ),
      ).toEqual([]);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it('prints its usage and exits 2 on a bad option, reading nothing', async () => {
    // Act
    const run = await report(uniqueEnvironment(), '--outdir', '/tmp/x');

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('usage: npm run report [-- --out DIR]');
    expect(run.stdout).toBe('');
  });
});
