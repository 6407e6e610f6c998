/**
 * Review 9, finding: the audit log is the application's own log, at the application's level.
 * Successful reads and cache hits are written at INFO, so a deployment that logs at WARN
 * (`POWERTOOLS_LOG_LEVEL=WARN`, a common production setting) records no successful access at
 * all; the issue asks that every retrieval attempt, success or failure, reach the audit log.
 *
 * Production wiring: `createSecrets()` with its default logger.
 */
import { describe, expect, it, vi } from 'vitest';
import { createSecrets } from '../../shared/secrets/index.js';
import { auditLines } from '../support/audit-lines.js';
import { LeakWatch } from '../support/leak-watch.js';

describe('the audit log under an application logging at WARN (review 9)', () => {
  it('still records each successful read', async () => {
    // Prepare
    const watch = new LeakWatch();
    const key = 're_review9_level_key';
    watch.values.push(key);
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'WARN');
    vi.stubEnv('USE_SECRETS_MANAGER', 'False');
    vi.stubEnv('ENVIRONMENT', 'production');
    vi.stubEnv('RESEND_API_KEY', key);
    const secrets = createSecrets();

    // Act
    await secrets.resend();
    await secrets.resend();
    const lines = auditLines(watch.text());
    const leaks = watch.stop();
    vi.unstubAllEnvs();

    // Assess
    expect(leaks).toEqual([]);
    expect(lines.map((line) => [line.source, line.outcome])).toEqual([
      ['environment', 'success'],
      ['environment', 'success'],
    ]);
  });
});
