import { isIPv6 } from 'node:net';
import type { SslMode } from '../postgres/secret.js';
import { InvalidSecretValueError } from './errors.js';

/**
 * libpq connection URIs (`postgresql://user:password@host:port/dbname?param=value`), read and
 * written as libpq reads them: every part is `%XX`-decoded (a `+` stays a `+`, unlike a
 * form), a `%`-encoded host is a Unix-socket directory, and the `host`, `port`, `dbname`,
 * `user` and `password` parameters override the parts before the `?`.
 */

/** The fields of a URI that say where and as whom to connect. */
export interface PostgresUrlFields {
  readonly host?: string;
  readonly port?: string;
  readonly database?: string;
  readonly username?: string;
  readonly password?: string;
  readonly sslmode?: string;
}

/** One `key=value` of a URI's query: decoded, and as written. */
interface QueryParameter {
  readonly key: string;
  readonly value: string;
  readonly raw: string;
}

/**
 * Parameters that say where, as whom and how securely to connect. A ready URI writes its own
 * and drops the base's: a stale `host=` or `hostaddr=` would send the password elsewhere.
 */
const TARGET_PARAMETERS: ReadonlySet<string> = new Set([
  'host',
  'hostaddr',
  'port',
  'dbname',
  'user',
  'password',
  'sslmode',
  'sslrootcert',
]);

/** libpq's decoding: `%XX` only; a malformed sequence is kept as written. */
function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** `%`-encoding for a query value; `/` and `:` stay readable (a path, an address), as RFC 3986 allows. */
function encodeValue(field: string, value: string): string {
  return encodePart(field, value).replace(/%2F/gi, '/').replace(/%3A/gi, ':');
}

/** The `key=value` pairs of a URI's query, in order. */
function queryOf(url: URL): QueryParameter[] {
  return url.search
    .replace(/^\?/, '')
    .split('&')
    .filter((raw) => raw !== '')
    .map((raw) => {
      const at = raw.indexOf('=');
      return at < 0
        ? { key: decode(raw), value: '', raw }
        : { key: decode(raw.slice(0, at)), value: decode(raw.slice(at + 1)), raw };
    });
}

/**
 * Parses `text` as a URL without ever exposing `new URL`'s error, which quotes the input
 * (password included).
 */
function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/**
 * The fields libpq reads from a `postgresql://` URI; undefined for a string that is not a URL.
 * Parts absent from the URI are absent here (the caller's schema names what is missing).
 */
export function readPostgresUrl(text: string): PostgresUrlFields | undefined {
  const url = parseUrl(text);
  if (!url) return undefined;
  const query = new Map(queryOf(url).map((parameter) => [parameter.key, parameter.value]));
  const part = (value: string) => (value === '' ? undefined : value);
  const fields: Record<keyof PostgresUrlFields, string | undefined> = {
    host: query.get('host') ?? part(decode(url.hostname.replace(/^\[(.*)\]$/, '$1'))),
    port: query.get('port') ?? part(url.port),
    database: query.get('dbname') ?? part(decode(url.pathname.replace(/^\//, ''))),
    username: query.get('user') ?? part(decode(url.username)),
    password: query.get('password') ?? part(decode(url.password)),
    sslmode: query.get('sslmode'),
  };
  return Object.fromEntries(
    Object.entries(fields).filter(([, value]) => value !== undefined && value !== ''),
  ) as PostgresUrlFields;
}

/** What {@link writePostgresUrl} writes. */
export interface PostgresUrlTarget {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly username: string;
  readonly password: string;
  readonly sslmode: SslMode;
}

/** Options of {@link writePostgresUrl}. */
export interface PostgresUrlOptions {
  /** A URI whose other parameters (`application_name`, `options`, …) are kept, exactly as written. */
  readonly base?: string | undefined;
  /** The CA file for `sslrootcert` (every mode but `disable`: libpq then verifies the chain, as `pg` does). */
  readonly caFile?: string | undefined;
}

/**
 * Writes a libpq URI for `target`: the host as libpq reads it (a name or address as is, IPv6
 * in brackets, a socket directory `%`-encoded, an IPv6 zone in a `host=` parameter), every
 * other part `%`-encoded, the base's other parameters kept byte for byte, then `sslmode` and
 * `sslrootcert`. The result is read back: it must name `target`'s host, port, database, user
 * and password, or nothing is returned.
 * @throws {InvalidSecretValueError} naming the field a URI cannot carry; never a value.
 */
export function writePostgresUrl(target: PostgresUrlTarget, options: PostgresUrlOptions = {}): string {
  const [address, zone] = splitZone(target.host);
  const hostPart = isIPv6(address) ? `[${address}]` : encodePart('host', target.host);
  const base = options.base === undefined ? undefined : parseUrl(options.base);
  const kept = base ? queryOf(base).filter((p) => !TARGET_PARAMETERS.has(p.key.toLowerCase())) : [];
  const query = [
    ...kept.map((parameter) => parameter.raw),
    `sslmode=${target.sslmode}`,
    ...(options.caFile && target.sslmode !== 'disable'
      ? [`sslrootcert=${encodeValue('sslrootcert', options.caFile)}`]
      : []),
    ...(zone === undefined ? [] : [`host=${encodeValue('host', target.host)}`]),
  ];
  const uri = `postgresql://${encodePart('username', target.username)}:${encodePart('password', target.password)}@${hostPart}:${target.port}/${encodePart('database', target.database)}?${query.join('&')}`;
  const back = readPostgresUrl(uri);
  const mismatch = (
    [
      ['host', back?.host === undefined ? undefined : canonicalHost(back.host), canonicalHost(target.host)],
      ['port', back?.port, String(target.port)],
      ['database', back?.database, target.database],
      ['username', back?.username, target.username],
      ['password', back?.password, target.password],
    ] as const
  ).find(([, read, wanted]) => read !== wanted);
  if (mismatch) throw unwritable(mismatch[0]);
  return uri;
}

function unwritable(field: string): InvalidSecretValueError {
  return new InvalidSecretValueError(
    `the database secret's ${field} cannot be written in a postgresql:// connection string as libpq reads it`,
    [field],
  );
}

/** `%`-encodes one part; a string UTF-8 cannot carry (a lone surrogate) is refused by field name. */
function encodePart(field: string, value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    throw unwritable(field);
  }
}

/** An IPv6 address and its zone (`fe80::1%eth0`); any other host and no zone. */
function splitZone(host: string): [address: string, zone: string | undefined] {
  const at = host.indexOf('%');
  if (at > 0 && isIPv6(host.slice(0, at))) return [host.slice(0, at), host.slice(at + 1)];
  return [host, undefined];
}

/** A host as compared after a round trip: an IPv6 address in its canonical form (the URL parser's), anything else as is. */
function canonicalHost(host: string): string {
  const [address, zone] = splitZone(host);
  if (!isIPv6(address)) return host;
  const canonical = parseUrl(`postgresql://[${address}]`)?.hostname.replace(/^\[(.*)\]$/, '$1') ?? address;
  return zone === undefined ? canonical : `${canonical}%${zone}`;
}
