/**
 * Typed readers for environment variables. Every reader trims, applies the default,
 * and fails with a {@link ConfigurationError} that names the variable, never its value.
 * Handlers read their configuration once, at cold start.
 */

/** Thrown when an environment variable is set to something the reader cannot accept. */
export class ConfigurationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigurationError';
  }
}

type Env = Record<string, string | undefined>;

interface ReadOptions<T> {
  /** Value used when the variable is unset or blank. Without it the variable is required. */
  defaultValue?: T;
  env?: Env;
}

function raw(name: string, env: Env): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function missing(name: string): ConfigurationError {
  return new ConfigurationError(`environment variable ${name} is required but not set`);
}

/** Reads a string variable. */
export function getStringFromEnv(name: string, options: ReadOptions<string> = {}): string {
  const value = raw(name, options.env ?? process.env);
  if (value !== undefined) return value;
  if (options.defaultValue !== undefined) return options.defaultValue;
  throw missing(name);
}

/** Reads an optional string variable: `undefined` when unset or blank. */
export function getOptionalStringFromEnv(name: string, env: Env = process.env): string | undefined {
  return raw(name, env);
}

/** Reads an integer variable within `[min, max]`. */
export function getIntegerFromEnv(
  name: string,
  options: ReadOptions<number> & { min?: number; max?: number } = {},
): number {
  const value = raw(name, options.env ?? process.env);
  if (value === undefined) {
    if (options.defaultValue !== undefined) return options.defaultValue;
    throw missing(name);
  }
  const min = options.min ?? Number.MIN_SAFE_INTEGER;
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  if (!/^-?\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new ConfigurationError(`environment variable ${name} must be an integer from ${min} to ${max}`);
  }
  return Number(value);
}

/** Reads a boolean variable: true/false, 1/0, yes/no (any case). */
export function getBooleanFromEnv(name: string, options: ReadOptions<boolean> = {}): boolean {
  const value = raw(name, options.env ?? process.env)?.toLowerCase();
  if (value === undefined) {
    if (options.defaultValue !== undefined) return options.defaultValue;
    throw missing(name);
  }
  if (['true', '1', 'yes'].includes(value)) return true;
  if (['false', '0', 'no'].includes(value)) return false;
  throw new ConfigurationError(`environment variable ${name} must be true or false`);
}

/** True when `hostname` (as `URL` gives it) is this machine: `localhost`, 127.0.0.0/8 or `[::1]`. */
function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

/**
 * Reads an HTTPS endpoint URL (a provider API's). Plain `http://` is accepted only for a
 * loopback host (a local fake or emulator): keys travel in these requests' headers. The
 * message names the variable and the rule, never the value (a URL may carry credentials).
 */
export function getHttpsUrlFromEnv(name: string, options: ReadOptions<string> = {}): string {
  const value = getStringFromEnv(name, options);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigurationError(`environment variable ${name} must be an absolute URL (https://…)`);
  }
  const local = url.protocol === 'http:' && isLoopback(url.hostname);
  if (url.protocol !== 'https:' && !local) {
    throw new ConfigurationError(
      `environment variable ${name} must be an https:// URL (http:// only for a loopback host such as 127.0.0.1)`,
    );
  }
  if (url.username || url.password) {
    throw new ConfigurationError(`environment variable ${name} must not carry a user name or password`);
  }
  return value;
}
