import { createHash } from 'node:crypto';

/** The UTC day of `at`: `2026-06-15`. */
export const dayOf = (at: Date) => at.toISOString().slice(0, 10);

/**
 * The `ClientRequestToken` of the rotation the enforcer starts for a secret on a day: a UUID
 * (RFC 9562 version 8, from SHA-256) of the secret's ARN and the UTC day. It becomes the new
 * version's id, so a version with this id shows that the rotation was already started that day
 * (even when it failed, or its placeholder was removed): a second run or a repeated queue
 * message starts nothing twice. Each secret gets its own token, so providers' markers, derived
 * from the secret and the token, stay apart.
 */
export function rotationToken(secretArn: string, day: string): string {
  const hex = createHash('sha256').update(`enforceRotationPolicy\n${secretArn}\n${day}`).digest('hex');
  const variant = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
