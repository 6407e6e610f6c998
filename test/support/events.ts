import { readFileSync } from 'node:fs';

/** A sample event from `functions/events/<name>.json` (shared with `serverless invoke local --path`). */
export function sampleEvent(name: string): Record<string, unknown> & { detail: Record<string, unknown> } {
  return JSON.parse(readFileSync(new URL(`../../functions/events/${name}.json`, import.meta.url), 'utf8'));
}
