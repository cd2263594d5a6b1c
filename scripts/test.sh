#!/usr/bin/env bash
# Install healthlayer with its test dependencies into .venv and run the whole test suite.
# Extra arguments go to pytest, for example: scripts/test.sh -k stickiness
set -euo pipefail
cd "$(dirname "$0")/.."

# The PostgreSQL tests start a private server with initdb and pg_ctl. Debian and Ubuntu keep them
# in /usr/lib/postgresql/<major>/bin; install the server package where neither place has them.
if ! command -v initdb >/dev/null 2>&1 && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        # The tests need the programs only, so the package must not create and start a cluster of its own.
        if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
            mkdir -p /etc/postgresql-common
            echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
        fi
        apt-get update
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql
    else
        echo "initdb not found: install PostgreSQL's server (Debian: apt-get install postgresql)" \
             "or the PostgreSQL tests are skipped (and fail when CI=true)" >&2
    fi
fi

# The Spark tests start a local Spark driver, which needs Java 17 or newer. On a Debian machine
# without one, as root, install a headless runtime; elsewhere the Spark tests report what is missing.
if { [ -z "${JAVA_HOME:-}" ] || [ ! -x "${JAVA_HOME}/bin/java" ]; } && ! command -v java >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null \
            || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-21-jre-headless >/dev/null
    else
        echo "scripts/test.sh: no java found; the Spark tests need Java 17 or newer (openjdk-17-jre-headless)" >&2
    fi
fi

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
exec .venv/bin/python -m pytest "$@"
