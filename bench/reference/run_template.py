#!/usr/bin/env python3
"""Run AWS's Python single-user PostgreSQL rotation template as a benchmark reference.

Usage:
    python3 run_template.py --endpoint http://127.0.0.1:PORT --region us-east-1 SECRET_ARN_OR_NAME...

For each secret this does what Secrets Manager does around a rotation Lambda:

  setup (untimed, not counted):
    RotateSecret with a fake Lambda ARN -> moto records the rotation, stages an
    empty AWSPENDING version whose VersionId is the token, then answers
    ResourceNotFoundException because it cannot invoke the Lambda (caught);
    DescribeSecret -> the AWSPENDING token from VersionIdsToStages.
  timed (time.perf_counter):
    lambda_handler(event, context) four times, createSecret, setSecret,
    testSecret, finishSecret, with {'SecretId', 'ClientRequestToken', 'Step'}.
  cleanup (untimed, not counted):
    remove the AWSPENDING label from the finished version, as the Secrets
    Manager service does after a successful rotation (moto does not, and would
    otherwise refuse the next RotateSecret of that secret).

Counted during the four timed steps only:
  * Secrets Manager API calls made by the template (botocore 'before-call'
    hook on boto3's default session, which the template's boto3.client() uses;
    the runner's own calls go through a separate session);
  * database login attempts (pgdb.connect is wrapped), successful and failed.

stdout: exactly one JSON line. Everything else goes to stderr.
"""

import argparse
import json
import os
import statistics
import sys
import time
import uuid

sys.dont_write_bytecode = True  # keep __pycache__ out of bench/reference

HERE = os.path.dirname(os.path.abspath(__file__))
DEBIAN_DIST_PACKAGES = "/usr/lib/python3/dist-packages"

FAKE_LAMBDA_ARN = "arn:aws:lambda:us-east-1:123456789012:function:reference"
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def import_pygresql():
    """Import PyGreSQL (modules pg, pgdb, _pg), the template's own driver.

    Debian's python3-pygresql installs it for /usr/bin/python3 (3.11); the
    C extension is CPython 3.11 ABI, so the pyenv 3.11 interpreter loads it
    too. Only these modules are taken from Debian's dist-packages: the path is
    appended for the import and removed again, so boto3/botocore/urllib3 keep
    coming from the interpreter's own site-packages.
    """
    try:
        import pg  # noqa: F401
        import pgdb  # noqa: F401
    except ImportError:
        if not os.path.isdir(DEBIAN_DIST_PACKAGES):
            raise
        sys.path.append(DEBIAN_DIST_PACKAGES)
        try:
            import pg  # noqa: F401
            import pgdb  # noqa: F401
        except ImportError as e:
            raise SystemExit(
                "PyGreSQL (pg/pgdb) not importable: run bench/reference/setup.sh (%s)" % e
            )
        finally:
            sys.path.remove(DEBIAN_DIST_PACKAGES)
    import pg
    import pgdb

    return pg, pgdb


class Counters:
    def __init__(self):
        self.active = False
        self.sm_calls = []  # operation names, in order
        self.sm_errors = []  # "Operation:ErrorCode"
        self.logins = []  # dicts: ok, sslmode, user, error

    def reset(self):
        self.sm_calls, self.sm_errors, self.logins = [], [], []


class FakeLambdaContext:
    function_name = "reference"
    function_version = "$LATEST"
    invoked_function_arn = FAKE_LAMBDA_ARN
    memory_limit_in_mb = 128
    log_group_name = "/aws/lambda/reference"
    log_stream_name = "local"

    def __init__(self):
        self.aws_request_id = str(uuid.uuid4())

    @staticmethod
    def get_remaining_time_in_millis():
        return 30000


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--endpoint", required=True, help="Secrets Manager (moto) endpoint URL")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--rounds", type=int, default=1, help="rotate every secret this many times (default 1)")
    ap.add_argument("--verify", action="store_true",
                    help="after each rotation (untimed, uncounted) log in with the new AWSCURRENT password "
                         "and check the previous password is refused")
    ap.add_argument("--verbose", action="store_true", help="show the template's INFO log lines on stderr")
    ap.add_argument("secrets", nargs="+", metavar="SECRET_ARN_OR_NAME")
    args = ap.parse_args()

    # Environment the template (and boto3) expect. Set before any client exists.
    os.environ["SECRETS_MANAGER_ENDPOINT"] = args.endpoint
    os.environ["AWS_ENDPOINT_URL"] = args.endpoint
    os.environ["AWS_ACCESS_KEY_ID"] = "test"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "test"
    os.environ["AWS_DEFAULT_REGION"] = args.region
    os.environ["AWS_REGION"] = args.region
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)

    import logging

    import boto3
    import botocore.exceptions

    pg, pgdb = import_pygresql()

    logging.basicConfig(stream=sys.stderr, format="  [template %(levelname)s] %(message)s")
    sys.path.insert(0, HERE)
    import lambda_function as template  # the verbatim upstream file

    if not args.verbose:
        logging.getLogger().setLevel(logging.WARNING)  # the template sets INFO at import
        template.logger.setLevel(logging.WARNING)

    counters = Counters()

    # --- count the template's Secrets Manager calls --------------------------------
    # The template calls boto3.client(...), i.e. boto3's default session. Clients copy
    # the session's event handlers when created, and the template creates a new
    # client on every invocation, so a handler registered here sees all its calls.
    boto3.setup_default_session(region_name=args.region)

    def on_before_call(model=None, **_):
        if counters.active:
            counters.sm_calls.append(model.name)

    def on_after_call(model=None, http_response=None, parsed=None, **_):
        if counters.active and http_response is not None and http_response.status_code >= 300:
            code = (parsed or {}).get("Error", {}).get("Code", str(http_response.status_code))
            counters.sm_errors.append("%s:%s" % (model.name, code))

    boto3.DEFAULT_SESSION.events.register("before-call.secrets-manager", on_before_call)
    boto3.DEFAULT_SESSION.events.register("after-call.secrets-manager", on_after_call)

    # --- count database login attempts ---------------------------------------------
    real_connect = pgdb.connect

    def counting_connect(*a, **kw):
        rec = {"user": kw.get("user"), "sslmode": kw.get("sslmode"), "ok": False, "error": None}
        if counters.active:
            counters.logins.append(rec)
        try:
            conn = real_connect(*a, **kw)
        except Exception as e:  # the template catches pg.InternalError itself
            rec["error"] = "%s: %s" % (type(e).__name__, str(e).strip().splitlines()[0] if str(e).strip() else "")
            raise
        rec["ok"] = True
        return conn

    pgdb.connect = counting_connect  # the template looks up pgdb.connect at call time

    # --- the runner's own client: separate session, never counted -------------------
    setup_sm = boto3.session.Session(region_name=args.region).client(
        "secretsmanager", endpoint_url=args.endpoint
    )

    def stages(arn):
        return setup_sm.describe_secret(SecretId=arn).get("VersionIdsToStages", {})

    def verify(arn, old_dict):
        new_dict = json.loads(setup_sm.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"])
        if new_dict["password"] == old_dict["password"]:
            return "FAIL: AWSCURRENT password unchanged"
        kw = dict(host=new_dict["host"], database=new_dict.get("dbname", "postgres"),
                  port=int(new_dict.get("port", 5432)), connect_timeout=5, sslmode="disable")
        try:
            real_connect(user=new_dict["username"], password=new_dict["password"], **kw).close()
        except Exception as e:
            return "FAIL: new AWSCURRENT password refused: %s" % e
        try:
            real_connect(user=old_dict["username"], password=old_dict["password"], **kw).close()
            return "FAIL: old password still accepted"
        except pg.InternalError:
            pass
        return "ok"

    results = []
    failures = 0
    verified_ok = 0
    for rnd in range(args.rounds):
        for secret in args.secrets:
            # ---------------- setup: untimed, not counted ----------------
            meta = setup_sm.describe_secret(SecretId=secret)
            arn = meta["ARN"]
            for vid, st in meta.get("VersionIdsToStages", {}).items():
                if "AWSPENDING" in st and "AWSCURRENT" in st:
                    # leftover of a finished rotation: moto would refuse RotateSecret
                    setup_sm.update_secret_version_stage(SecretId=arn, VersionStage="AWSPENDING",
                                                         RemoveFromVersionId=vid)
            old_dict = json.loads(setup_sm.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"])
            try:
                setup_sm.rotate_secret(SecretId=arn, RotationLambdaARN=FAKE_LAMBDA_ARN,
                                       RotationRules={"AutomaticallyAfterDays": 90})
                log("warning: RotateSecret succeeded: something did invoke a Lambda")
            except botocore.exceptions.ClientError as e:
                if e.response["Error"]["Code"] != "ResourceNotFoundException":
                    raise
            pending = [v for v, st in stages(arn).items() if "AWSPENDING" in st and "AWSCURRENT" not in st]
            if len(pending) != 1:
                raise SystemExit("%s: expected one AWSPENDING version after RotateSecret, got %r" % (arn, pending))
            token = pending[0]

            # ---------------- the template: timed and counted ----------------
            counters.reset()
            counters.active = True
            error = None
            t0 = time.perf_counter()
            try:
                for step in STEPS:
                    event = {"SecretId": arn, "ClientRequestToken": token, "Step": step}
                    template.lambda_handler(event, FakeLambdaContext())
            except Exception as e:
                error = "%s in %s: %s" % (type(e).__name__, step, e)
            elapsed_ms = (time.perf_counter() - t0) * 1000.0
            counters.active = False

            # ---------------- cleanup / verification: untimed ----------------
            if error is None:
                # Secrets Manager removes AWSPENDING once rotation has succeeded
                st = stages(arn).get(token, [])
                if "AWSPENDING" in st:
                    setup_sm.update_secret_version_stage(SecretId=arn, VersionStage="AWSPENDING",
                                                         RemoveFromVersionId=token)
            rec = {
                "secret": arn.split(":")[-1],
                "round": rnd + 1,
                "ms": round(elapsed_ms, 3),
                "sm_calls": list(counters.sm_calls),
                "sm_errors": list(counters.sm_errors),
                "logins_ok": sum(1 for x in counters.logins if x["ok"]),
                "logins_failed": sum(1 for x in counters.logins if not x["ok"]),
                "logins": [dict(x) for x in counters.logins],
            }
            if error:
                failures += 1
                rec["error"] = error
                log("FAILED %s round %d after %.1f ms: %s" % (rec["secret"], rnd + 1, elapsed_ms, error))
            else:
                results.append(rec)
                v = ""
                if args.verify:
                    v = verify(arn, old_dict)
                    verified_ok += v == "ok"
                    v = "  verify=" + v
                log("rotated %s round %d in %.1f ms: %d SM calls %s; logins ok=%d failed=%d%s"
                    % (rec["secret"], rnd + 1, elapsed_ms, len(rec["sm_calls"]), rec["sm_calls"],
                       rec["logins_ok"], rec["logins_failed"], v))
            if rec["logins_failed"]:
                for x in rec["logins"]:
                    if not x["ok"]:
                        log("    failed login user=%s sslmode=%s: %s" % (x["user"], x["sslmode"], x["error"]))
            if rec["sm_errors"]:
                log("    SM error responses (expected, caught by the template): %s" % rec["sm_errors"])

    out = {"rotations": len(results)}
    if results:
        ms = [r["ms"] for r in results]
        calls = [len(r["sm_calls"]) for r in results]
        logins = [r["logins_ok"] + r["logins_failed"] for r in results]
        out.update({
            "median_ms": round(statistics.median(ms), 3),
            "min_ms": round(min(ms), 3),
            "max_ms": round(max(ms), 3),
            "secretsmanager_calls_per_rotation": round(statistics.mean(calls), 3),
            "db_logins_per_rotation": round(statistics.mean(logins), 3),
            "db_logins_ok_per_rotation": round(statistics.mean(r["logins_ok"] for r in results), 3),
            "db_logins_failed_per_rotation": round(statistics.mean(r["logins_failed"] for r in results), 3),
        })
        sequences = {tuple(r["sm_calls"]) for r in results}
        if len(sequences) == 1:
            out["secretsmanager_call_sequence"] = list(next(iter(sequences)))
        else:
            out["secretsmanager_calls_vary"] = {"min": min(calls), "max": max(calls),
                                                "sequences": sorted(list(s) for s in sequences)}
        if len(set(logins)) > 1:
            out["db_logins_vary"] = {"min": min(logins), "max": max(logins)}
    if failures:
        out["failed_rotations"] = failures
    if args.verify:
        out["verified"] = verified_ok
    out["template_commit"] = "76d92360dd8c489dc2eeb4a1d0640d4d9b1dccfe"
    out["driver"] = "PyGreSQL %s (pgdb) from %s" % (getattr(pg, "version", "?"), os.path.dirname(pg.__file__))
    out["python"] = "%s %s" % (sys.executable, sys.version.split()[0])
    print(json.dumps(out), flush=True)
    return 1 if failures or (args.verify and verified_ok != len(results)) else 0


if __name__ == "__main__":
    sys.exit(main())
