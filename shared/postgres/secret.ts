import * as z from '../zod.js';

/** libpq's TLS modes this product accepts. `prefer` and `allow` may fall back to plaintext, so they are refused. */
export const SslModes = ['disable', 'require', 'verify-ca', 'verify-full'] as const;

/** How a connection to the database uses TLS. */
export type SslMode = (typeof SslModes)[number];

/** The typed view of a PostgreSQL secret: the seed's shape or the RDS shape. */
export interface PostgresSecret {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly username: string;
  readonly password: string;
  readonly sslmode: SslMode;
  /** The secret's `connection_string`, when it has one (rewritten at each rotation). */
  readonly connectionString?: string;
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
      }),
    ),
  z.transform(
    (secret): PostgresSecret => ({
      host: secret.host,
      port: secret.port ?? 5432,
      database: secret.database ?? secret.dbname ?? 'postgres',
      username: secret.username,
      password: secret.password,
      sslmode: secret.sslmode ?? (urlSslmode(secret.connection_string) as SslMode | null) ?? DEFAULT_SSL_MODE,
      ...(secret.connection_string ? { connectionString: secret.connection_string } : {}),
    }),
  ),
);

/** Returns `connectionString` with its password replaced by `password`, percent-encoded. */
export function withPassword(connectionString: string, password: string): string {
  const url = new URL(connectionString);
  url.password = encodeURIComponent(password);
  return url.toString();
}
