import { type PasswordPolicyOverride, passwordPolicyOverrideSchema } from '../password/policy.js';
import * as z from '../zod.js';

/** libpq's TLS modes this product accepts. `prefer` and `allow` may fall back to plaintext, so they are refused. */
export const SslModes = ['disable', 'require', 'verify-ca', 'verify-full'] as const;

/** How a connection to the database uses TLS. */
export type SslMode = (typeof SslModes)[number];

/**
 * Which field of the secret decided its TLS mode; `default` when none did;
 * `rds-managed-master` for the login of an RDS-managed master secret, which is always
 * `verify-full` against the RDS bundle, whatever the user secret says.
 */
export type SslModeSource = 'sslmode' | 'connection_string' | 'ssl' | 'default' | 'rds-managed-master';

/** An RDS database a secret names (`dbInstanceIdentifier` or `dbClusterIdentifier`). */
export interface RdsDatabaseRef {
  readonly kind: 'instance' | 'cluster';
  readonly identifier: string;
}

/** The typed view of a PostgreSQL secret: the seed's shape, the RDS shape or AWS's templates' shape. */
export interface PostgresSecret {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly username: string;
  readonly password: string;
  readonly sslmode: SslMode;
  /** The field `sslmode` comes from, named in messages about TLS. */
  readonly sslmodeFrom?: SslModeSource;
  /** The secret's `connection_string`, when it has one (rewritten at each rotation). */
  readonly connectionString?: string;
  /** `masterarn`: the secret holding the master credentials (alternating users). */
  readonly masterArn?: string;
  /** `dbInstanceIdentifier` or `dbClusterIdentifier`: the RDS database the secret is for. */
  readonly rds?: RdsDatabaseRef;
  /** `password_policy`: this secret's password settings over the function's. */
  readonly passwordPolicy?: PasswordPolicyOverride;
}

/** TLS mode used when neither the secret nor its connection string names one. */
export const DEFAULT_SSL_MODE: SslMode = 'verify-full';

const MAX_IDENTIFIER_BYTES = 63;

const noNul = (value: string) => !value.includes('\0');

const sslmodeSchema = z.pipe(
  z.string().check(
    z.refine((value) => (SslModes as readonly string[]).includes(value), {
      error: `must be one of ${SslModes.join(', ')} (prefer and allow are refused: they can fall back to plaintext)`,
    }),
  ),
  z.transform((value: string) => value as SslMode),
);

const connectionStringSchema = z.string().check(
  z.refine(
    (value) => {
      try {
        const url = new URL(value);
        return url.protocol === 'postgresql:' || url.protocol === 'postgres:';
      } catch {
        return false;
      }
    },
    { error: 'must be a postgresql:// URL' },
  ),
);

/**
 * The `sslmode` query parameter of a connection string, or null. An unparsable string is
 * reported by its own field check; `new URL` must not throw here, as its error quotes the
 * input (password included).
 */
function urlSslmode(connectionString: string | undefined): string | null {
  if (!connectionString) return null;
  try {
    return new URL(connectionString).searchParams.get('sslmode');
  } catch {
    return null;
  }
}

/** AWS's templates' `ssl`: true or false, or the strings "true" or "false" in any case. */
const sslSchema = z.pipe(
  z.union(
    [
      z.boolean(),
      z.string().check(z.regex(/^(true|false)$/i, { error: 'must be true or false (or "true" or "false")' })),
    ],
    { error: 'must be true or false (or "true" or "false")' },
  ),
  z.transform((value: boolean | string) =>
    typeof value === 'boolean' ? value : value.toLowerCase() === 'true',
  ),
);

/** RDS's rule for instance and cluster identifiers. */
const rdsIdentifierSchema = z.string({ error: z.fieldTypeError('string') }).check(
  z.regex(/^[A-Za-z](?!.*--)[A-Za-z0-9-]{0,62}$/, {
    error: 'must be an RDS identifier (1 to 63 letters, digits or hyphens, starting with a letter)',
  }),
  z.refine((id) => !id.endsWith('-'), { error: 'must not end with a hyphen' }),
);

const portSchema = z
  .union([z.number(), z.pipe(z.string().check(z.regex(/^\d+$/)), z.transform(Number))], {
    error: 'must be a port number',
  })
  .check(
    z.refine((port) => Number.isInteger(port) && port >= 1 && port <= 65535, {
      error: 'must be a port number',
    }),
  );

/**
 * Validates a PostgreSQL secret. Accepts the seed's shape (`database`, string `port`,
 * `connection_string`) and the RDS shape (`engine`, `dbname`, numeric `port`).
 * Every issue message names the field, never the value.
 */
export const postgresSecretSchema = z.pipe(
  z
    .looseObject({
      engine: z.optional(
        z.string().check(
          z.refine((engine) => ['postgres', 'aurora-postgresql'].includes(engine), {
            error: 'must be postgres or aurora-postgresql',
          }),
        ),
      ),
      host: z.requiredString().check(z.trim(), z.minLength(1, { error: 'is required' })),
      port: z.optional(portSchema),
      database: z.optional(z.string().check(z.minLength(1))),
      dbname: z.optional(z.string().check(z.minLength(1))),
      username: z.requiredString().check(
        z.minLength(1, { error: 'is required' }),
        z.refine(noNul, { error: 'must not contain a NUL character' }),
        z.refine((name) => Buffer.byteLength(name) <= MAX_IDENTIFIER_BYTES, {
          error: `must be at most ${MAX_IDENTIFIER_BYTES} bytes (PostgreSQL would truncate it)`,
        }),
      ),
      password: z
        .requiredString()
        .check(
          z.minLength(1, { error: 'is required' }),
          z.refine(noNul, { error: 'must not contain a NUL character' }),
        ),
      connection_string: z.optional(connectionStringSchema),
      sslmode: z.optional(sslmodeSchema),
      ssl: z.optional(sslSchema),
      masterarn: z.optional(
        z
          .string({ error: z.fieldTypeError('string') })
          .check(
            z.trim(),
            z.minLength(1, { error: 'must name the master secret (its ARN)' }),
            z.maxLength(2048),
          ),
      ),
      dbInstanceIdentifier: z.optional(rdsIdentifierSchema),
      dbClusterIdentifier: z.optional(rdsIdentifierSchema),
      password_policy: z.optional(passwordPolicyOverrideSchema),
    })
    .check(
      z.superRefine((secret, ctx) => {
        const fromUrl = urlSslmode(secret.connection_string);
        if (fromUrl !== null && !(SslModes as readonly string[]).includes(fromUrl)) {
          ctx.addIssue({
            code: 'custom',
            path: ['connection_string'],
            message: `sslmode in the URL must be one of ${SslModes.join(', ')} (prefer and allow are refused: they can fall back to plaintext)`,
          });
        }
        const mode = secret.sslmode ?? fromUrl;
        if (secret.ssl !== undefined && mode && (mode === 'disable') === secret.ssl) {
          ctx.addIssue({
            code: 'custom',
            path: ['ssl'],
            message: `is ${secret.ssl} but sslmode${secret.sslmode ? '' : ' in connection_string'} is ${mode}: remove one, or make them agree`,
          });
        }
        if (secret.dbInstanceIdentifier && secret.dbClusterIdentifier) {
          ctx.addIssue({
            code: 'custom',
            path: ['dbClusterIdentifier'],
            message:
              'a secret names an RDS instance or a cluster, not both (dbInstanceIdentifier is set too)',
          });
        }
      }),
    ),
  z.transform((secret): PostgresSecret => {
    const fromUrl = urlSslmode(secret.connection_string) as SslMode | null;
    const [sslmode, sslmodeFrom]: [SslMode, SslModeSource] = secret.sslmode
      ? [secret.sslmode, 'sslmode']
      : fromUrl
        ? [fromUrl, 'connection_string']
        : secret.ssl !== undefined
          ? [secret.ssl ? DEFAULT_SSL_MODE : 'disable', 'ssl']
          : [DEFAULT_SSL_MODE, 'default'];
    const rds: RdsDatabaseRef | undefined = secret.dbInstanceIdentifier
      ? { kind: 'instance', identifier: secret.dbInstanceIdentifier }
      : secret.dbClusterIdentifier
        ? { kind: 'cluster', identifier: secret.dbClusterIdentifier }
        : undefined;
    return {
      host: secret.host,
      port: secret.port ?? 5432,
      database: secret.database ?? secret.dbname ?? 'postgres',
      username: secret.username,
      password: secret.password,
      sslmode,
      sslmodeFrom,
      ...(secret.connection_string ? { connectionString: secret.connection_string } : {}),
      ...(secret.masterarn ? { masterArn: secret.masterarn } : {}),
      ...(rds ? { rds } : {}),
      ...(secret.password_policy ? { passwordPolicy: secret.password_policy } : {}),
    };
  }),
);

/** How to turn TLS off in a secret's own words: the field that decides it. */
export function tlsOffHint(secret: Pick<PostgresSecret, 'sslmodeFrom'>): string {
  const from = secret.sslmodeFrom ?? 'default';
  switch (from) {
    case 'ssl':
      return 'the secret\'s "ssl" field asks for TLS; set "ssl": false to connect without it';
    case 'sslmode':
      return 'the secret\'s "sslmode" field asks for TLS; set "sslmode": "disable" to connect without it';
    case 'connection_string':
      return 'the sslmode in the secret\'s "connection_string" asks for TLS; set ?sslmode=disable there to connect without it';
    case 'default':
      return 'the secret names neither "sslmode" nor "ssl", so TLS is required (verify-full); set "ssl": false (as AWS\'s templates write it) or "sslmode": "disable" to connect without it';
    case 'rds-managed-master':
      return "the master secret is RDS-managed: its password is sent only over TLS verified against the RDS bundle (verify-full), whatever the user secret says, so the database's writer endpoint must offer TLS";
    default: {
      const unknown: never = from;
      throw new TypeError(`unknown sslmode source ${String(unknown)}`);
    }
  }
}

/** Returns `connectionString` with its user name replaced by `username`, percent-encoded. */
export function withUsername(connectionString: string, username: string): string {
  const url = new URL(connectionString);
  url.username = encodeURIComponent(username);
  return url.toString();
}

/** Returns `connectionString` with its password replaced by `password`, percent-encoded. */
export function withPassword(connectionString: string, password: string): string {
  const url = new URL(connectionString);
  url.password = encodeURIComponent(password);
  return url.toString();
}
