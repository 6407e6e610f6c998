/** Whether anyone still reads a secret (`secretsmanager-secret-unused`). */
import { DAY_MS, FindingKind, Severity } from './constants.js';
import type { Finding } from './finding.js';
import { day } from './format.js';
import type { SecretMetadata } from './secret.js';
import type { PolicySettings } from './settings.js';

/**
 * An `unused` finding, or undefined. `LastAccessedDate` is a date without a time, so a read
 * that day may have come at its last moment: the secret is unused only once `unusedDays` full
 * days have passed since the end of that day. Never read at all: counted from `CreatedDate`.
 */
export function checkUsage(secret: SecretMetadata, settings: PolicySettings, now: Date): Finding | undefined {
  const limit = settings.unusedDays;
  const advice = `: delete it if nothing uses it (aws secretsmanager delete-secret --secret-id ${secret.name} --recovery-window-in-days 30), or find out who should read it`;
  const unused = (reason: string): Finding => ({
    kind: FindingKind.UNUSED,
    severity: Severity.WARNING,
    reason,
  });
  if (secret.lastAccessedDate) {
    const lastMoment = Math.floor(secret.lastAccessedDate.getTime() / DAY_MS) * DAY_MS + DAY_MS;
    if (now.getTime() - lastMoment < limit * DAY_MS) return undefined;
    const ago = Math.floor((now.getTime() - lastMoment) / DAY_MS) + 1;
    return unused(
      `not read since ${day(secret.lastAccessedDate)} (${ago} days; the limit is ${limit})${advice}`,
    );
  }
  if (!secret.createdDate || now.getTime() - secret.createdDate.getTime() < limit * DAY_MS) return undefined;
  const ago = Math.floor((now.getTime() - secret.createdDate.getTime()) / DAY_MS);
  return unused(`never read since it was created ${ago} days ago (the limit is ${limit})${advice}`);
}
