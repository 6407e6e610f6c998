#!/usr/bin/env python3
"""Create login roles in PostgreSQL and matching RDS-shaped secrets in moto for run_template.py.

Usage:
    python3 seed_fixtures.py --endpoint http://127.0.0.1:5999 --region us-east-1 \
        --pg-host 127.0.0.1 --pg-port 5998 --admin-user postgres --admin-password ... \
        [--count 5] [--prefix refbench] [--ssl-key false|true|absent]

Idempotent: existing roles get a fresh password (ALTER ROLE), existing secrets a new
AWSCURRENT value (PutSecretValue). Prints the secret ARNs, one per line, on stdout.

--ssl-key false (default) writes "ssl": false into each secret, which makes the template
connect with sslmode=disable only (see README.md for what it does without that key).
"""

import argparse
import json
import os
import secrets
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_template import import_pygresql  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--pg-host", default="127.0.0.1")
    ap.add_argument("--pg-port", type=int, required=True)
    ap.add_argument("--dbname", default="postgres")
    ap.add_argument("--admin-user", default="postgres")
    ap.add_argument("--admin-password", required=True)
    ap.add_argument("--count", type=int, default=5)
    ap.add_argument("--prefix", default="refbench")
    ap.add_argument("--ssl-key", choices=["false", "true", "absent"], default="false")
    args = ap.parse_args()

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    import boto3

    pg, pgdb = import_pygresql()
    sm = boto3.session.Session(region_name=args.region).client("secretsmanager", endpoint_url=args.endpoint)
    admin = pgdb.connect(host=args.pg_host, port=args.pg_port, user=args.admin_user,
                         password=args.admin_password, database=args.dbname, sslmode="disable")
    try:
        cur = admin.cursor()
        for i in range(1, args.count + 1):
            role = "%s_r%d" % (args.prefix, i)
            password = secrets.token_urlsafe(24)
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
            verb = "ALTER" if cur.fetchall() else "CREATE"
            cur.execute("SELECT quote_ident(%s)", (role,))
            ident = cur.fetchone()[0]
            cur.execute("%s ROLE %s LOGIN PASSWORD %%s" % (verb, ident), (password,))
            admin.commit()

            value = {"engine": "postgres", "host": args.pg_host, "port": args.pg_port,
                     "username": role, "password": password, "dbname": args.dbname}
            if args.ssl_key != "absent":
                value["ssl"] = args.ssl_key == "true"
            name = "%s/%s" % (args.prefix, role)
            try:
                arn = sm.create_secret(Name=name, SecretString=json.dumps(value))["ARN"]
            except sm.exceptions.ResourceExistsException:
                arn = sm.put_secret_value(SecretId=name, SecretString=json.dumps(value))["ARN"]
            print(arn, flush=True)
    finally:
        admin.close()


if __name__ == "__main__":
    main()
