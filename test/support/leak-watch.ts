import { captureOutput, findLeaks } from './bed.js';
import { errorTexts } from './provider-tests.js';

/**
 * What one test could leak a secret through: everything written to stdout and stderr while
 * it runs, and every error it caught with {@link LeakWatch.rejectionOf} (message, stack,
 * JSON, causes). `values` collects the secret values the test made; {@link LeakWatch.stop}
 * returns those found anywhere (raw, URL-encoded or JSON-escaped).
 */
export class LeakWatch {
  /** The secret values to look for. */
  readonly values: string[] = [];
  readonly #output = captureOutput();
  readonly #errors: string[] = [];

  /** The output captured so far. */
  text(): string {
    return this.#output.text();
  }

  /** The rejection of `promise`, recorded for the scan; fails the test when it resolves. */
  async rejectionOf(promise: Promise<unknown>): Promise<Error> {
    try {
      await promise;
    } catch (error) {
      this.#errors.push(...errorTexts(error));
      return error as Error;
    }
    throw new Error('expected a rejection');
  }

  /** Stops capturing; returns the values that leaked (none, when all is well). */
  stop(): string[] {
    this.#output.stop();
    return findLeaks([this.#output.text(), ...this.#errors].join('\n'), this.values);
  }
}
