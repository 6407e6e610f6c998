import * as z from 'zod';
import type {
  DiscardContext,
  RotationLogger,
  RotationStrategy,
  SecretFields,
} from '../../shared/rotation/index.js';

/** A logger that records every line, for assertions and leak scans. */
export class RecordingLogger implements RotationLogger {
  readonly lines: { level: string; message: string; attributes: Record<string, unknown>[] }[] = [];
  keys: Record<string, unknown> = {};
  debug(message: string, ...attributes: Record<string, unknown>[]) {
    this.#record('debug', message, attributes);
  }
  info(message: string, ...attributes: Record<string, unknown>[]) {
    this.#record('info', message, attributes);
  }
  warn(message: string, ...attributes: Record<string, unknown>[]) {
    this.#record('warn', message, attributes);
  }
  error(message: string, ...attributes: Record<string, unknown>[]) {
    this.#record('error', message, attributes);
  }
  appendKeys(keys: Record<string, unknown>) {
    this.keys = { ...this.keys, ...keys };
  }
  removeKeys(keys: string[]) {
    for (const key of keys) delete this.keys[key];
  }
  /** Everything logged, as one string. */
  text(): string {
    return JSON.stringify(this.lines);
  }
  #record(level: string, message: string, attributes: Record<string, unknown>[]) {
    this.lines.push({ level, message, attributes: [{ ...this.keys }, ...attributes] });
  }
}

/** A strategy for an `api_key` secret that records what the engine asks of it. */
export class FakeKeyStrategy implements RotationStrategy<{ api_key: string }> {
  readonly kind = 'fake-key';
  readonly schema = z.looseObject({ api_key: z.string({ error: 'is required' }).min(1) });
  readonly calls: string[] = [];
  /** What each discardPending call was given: the created fields and the stored value's fields. */
  readonly discarded: { created: SecretFields; stored: SecretFields }[] = [];
  nextKey = 'key-new';
  async createPending(): Promise<SecretFields> {
    this.calls.push('createPending');
    return { api_key: this.nextKey };
  }
  async setPending() {
    this.calls.push('setPending');
    return 'applied' as const;
  }
  async testPending() {
    this.calls.push('testPending');
  }
  async afterFinish() {
    this.calls.push('afterFinish');
  }
  async discardPending(context: DiscardContext<{ api_key: string }>) {
    this.calls.push('discardPending');
    this.discarded.push({ created: context.created, stored: context.stored.fields });
  }
}
