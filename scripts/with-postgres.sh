#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster:
#
#   scripts/with-postgres.sh cargo test --test api
#
# creates a cluster in a temporary directory (trust auth, 127.0.0.1 on a
# free port), exports LATCHKEY_TEST_DATABASE_URL pointing at it (the test
# helpers give every test server a database of its own on it), runs the
# command, and stops and deletes the cluster however the command ends.
# When no PostgreSQL is installed it installs Debian's (apt-get install
# postgresql). As root, the cluster runs as the user `postgres` (PostgreSQL
# refuses to run as root).
#
# LK_PG_LOCALE sets the cluster's locale (default: C.UTF-8 when the
# system has it). latchkey's tables collate "C" whatever it is.
set -euo pipefail

pg_bin() {
    local name=$1 dir
    if command -v "$name" >/dev/null 2>&1; then
        command -v "$name"
        return
    fi
    # Debian keeps the binaries per major version; take the newest.
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -n $dir && -x $dir/$name ]]; then
        echo "$dir/$name"
    fi
}

if [[ -z $(pg_bin initdb) || -z $(pg_bin pg_ctl) ]]; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        echo "with-postgres: installing postgresql (apt-get)" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2 \
            || { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2; }
    else
        echo "with-postgres: initdb and pg_ctl not found; install PostgreSQL (apt-get install postgresql)" >&2
        exit 1
    fi
fi
INITDB=$(pg_bin initdb)
PG_CTL=$(pg_bin pg_ctl)

# A free port: bind port 0 and read what the kernel chose.
free_port() {
    if command -v python3 >/dev/null; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
        return
    fi
    local port
    while :; do
        port=$((20000 + RANDOM % 30000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
}

as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

locale=${LK_PG_LOCALE:-}
if [[ -z $locale ]]; then
    if locale -a 2>/dev/null | grep -qi '^c\.utf-\?8$'; then
        locale=C.UTF-8
    else
        locale=C
    fi
fi

work=$(mktemp -d -t latchkey-pg.XXXXXX)
chmod 0755 "$work"
if [[ $(id -u) -eq 0 ]]; then
    chown postgres "$work"
fi
port=$(free_port)

stop() {
    as_owner "$PG_CTL" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap stop EXIT

as_owner "$INITDB" -D "$work/data" -U postgres --auth=trust -E UTF8 --locale="$locale" >"$work/initdb.log" 2>&1 \
    || { cat "$work/initdb.log" >&2; exit 1; }
# Test servers come and go by the hundred, each with a pool of up to 8
# connections; durability is not the point of a throwaway cluster.
as_owner "$PG_CTL" -D "$work/data" -l "$work/postgres.log" -w -t 60 \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $work -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null \
    || { cat "$work/postgres.log" >&2; exit 1; }

export LATCHKEY_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
echo "with-postgres: PostgreSQL on 127.0.0.1:$port ($($PG_CTL --version)), LATCHKEY_TEST_DATABASE_URL=$LATCHKEY_TEST_DATABASE_URL" >&2
"$@"
