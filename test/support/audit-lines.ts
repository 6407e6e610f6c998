/** One JSON log line, as Powertools Logger writes it. */
export type LogLine = Record<string, unknown> & { level: string; message: string };

/** The JSON lines of captured output (anything else, e.g. vitest's own lines, is skipped). */
export function logLines(text: string): LogLine[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as LogLine];
      } catch {
        return [];
      }
    });
}

/** The secrets library's audit lines (`audit: "secret-access"`) of captured output. */
export function auditLines(text: string): LogLine[] {
  return logLines(text).filter((line) => line.audit === 'secret-access');
}
