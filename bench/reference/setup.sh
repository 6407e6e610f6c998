#!/usr/bin/env bash
# Make sure a Python can run bench/reference/run_template.py: it needs boto3 and
# PyGreSQL (modules pg + pgdb, the template's own driver). Idempotent: apt-get runs
# only when an import check fails. Prints what it did; the last line is
#   python: /path/to/interpreter
# to be used as "$PYTHON run_template.py ...".
#
# Preferred: the project's python3 (pyenv 3.11, has boto3 + moto) with Debian's
# python3-pygresql (a CPython 3.11 C extension in /usr/lib/python3/dist-packages,
# which run_template.py appends to sys.path for pg/pgdb only).
# Fallback when that python3 has no boto3 (PyPI is not reachable here): Debian's
# /usr/bin/python3 with apt's python3-boto3 and python3-pygresql.
set -euo pipefail

DIST=/usr/lib/python3/dist-packages
apt_updated=0

say() { echo "setup.sh: $*"; }

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    say "need root to apt-get install $*"; exit 1
  fi
  if [ "$apt_updated" = 0 ] && ! apt-cache show "$@" >/dev/null 2>&1; then
    say "apt-get update"
    apt-get update -qq
    apt_updated=1
  fi
  say "apt-get install -y $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

has_boto3()     { "$1" -c 'import boto3' >/dev/null 2>&1; }
has_pygresql()  { "$1" - >/dev/null 2>&1 <<EOF
import sys
sys.path.append("$DIST")
import pg, pgdb
EOF
}

PY=""
if command -v python3 >/dev/null 2>&1 && has_boto3 "$(command -v python3)"; then
  PY="$(python3 -c 'import sys; print(sys.executable)')"
  say "using $PY ($("$PY" -c 'import sys, boto3; print("Python", sys.version.split()[0], "boto3", boto3.__version__)'))"
else
  PY=/usr/bin/python3
  if [ ! -x "$PY" ]; then apt_install python3; fi
  if has_boto3 "$PY"; then
    say "python3 on PATH has no boto3; using $PY, which has it"
  else
    say "python3 on PATH has no boto3; using $PY with Debian's python3-boto3"
    apt_install python3-boto3
  fi
fi

if has_pygresql "$PY"; then
  say "PyGreSQL already importable: $("$PY" -c "import sys; sys.path.append('$DIST'); import pg; print('PyGreSQL', pg.version, 'at', pg.__file__)")"
else
  apt_install python3-pygresql
  if ! has_pygresql "$PY"; then
    say "python3-pygresql installed but $PY cannot import pg/pgdb (ABI mismatch?)."
    say "use /usr/bin/python3 instead (apt-get install python3-boto3 python3-pygresql)"
    exit 1
  fi
  say "installed: $("$PY" -c "import sys; sys.path.append('$DIST'); import pg; print('PyGreSQL', pg.version, 'at', pg.__file__)")"
fi

# moto_server is what the benchmark runs against; report, do not install.
if command -v moto_server >/dev/null 2>&1; then
  say "moto_server: $(command -v moto_server)"
else
  say "note: no moto_server on PATH (the benchmark has to start one)"
fi

echo "python: $PY"
