#!/bin/sh
# uakey: the driver of `make bench`.  Makes a throwaway SoftHSM2 token the
# way tests/setup-softhsm.sh makes its template (a softhsm2.conf of its own,
# softhsm2-util --init-token), runs the two parts on it, and removes it:
#   1. bench/uk_bench: the policy adapter's rates (token / memory / raw)
#   2. bench/uk_bench_connect: one full OPC UA connect, token key vs memory
#      key, against the node-opcua test server (tests/interop/ua_server.mjs)
#      that this script starts on 127.0.0.1 with its own PKI under the
#      token directory and stops by its PID.  Skipped, with a line saying
#      so, when node or tests/interop/node_modules/node-opcua is missing.
#
#   run-bench.sh UK_BENCH [-t SECONDS] [-w SECONDS] [-r ROUNDS] [-j THREADS]
#
# Environment (make bench passes configure's results; otherwise PATH and
# the usual places): SOFTHSM2_UTIL, SOFTHSM2_MODULE, OPENSSL_MODULES (where
# uakey.so is: the build's provider/.libs); UK_BENCH_CONNECT (the
# uk_bench_connect program; unset: part 2 is skipped),
# UK_BENCH_CONNECT_ARGS (its options, e.g. "-n 30"), UK_BENCH_ONLY
# (adapter or connect: one part only), UK_INTEROP_DIR (tests/interop, with
# node_modules), NODE (node).  TMPDIR decides where the token directory
# goes; it is removed on exit, also after an error or ^C.
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 UK_BENCH [-t SECONDS] [-w SECONDS] [-r ROUNDS] [-j THREADS]" >&2
    exit 2
fi
bench=$1
shift

case ${UK_BENCH_ONLY-} in
'' | adapter | connect) ;;
*) echo "run-bench: UK_BENCH_ONLY is adapter or connect, not '$UK_BENCH_ONLY'" >&2; exit 2 ;;
esac

SOFTHSM2_UTIL=${SOFTHSM2_UTIL:-$(command -v softhsm2-util || true)}
if [ -z "${SOFTHSM2_MODULE-}" ]; then
    for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/*/softhsm/libsofthsm2.so \
             /usr/local/lib/softhsm/libsofthsm2.so; do
        if [ -f "$m" ]; then SOFTHSM2_MODULE=$m; break; fi
    done
fi
SOFTHSM2_MODULE=${SOFTHSM2_MODULE-}
missing=
[ -n "$SOFTHSM2_UTIL" ] && [ -x "$SOFTHSM2_UTIL" ] || missing="$missing softhsm2-util"
[ -n "$SOFTHSM2_MODULE" ] && [ -f "$SOFTHSM2_MODULE" ] || missing="$missing libsofthsm2.so"
if [ -n "$missing" ]; then
    echo "run-bench: missing:$missing (Debian: apt-get install softhsm2)" >&2
    exit 1
fi
if [ ! -x "$bench" ]; then
    echo "run-bench: $bench is not built (make bench builds it)" >&2
    exit 1
fi
connect=${UK_BENCH_CONNECT-}
if [ -n "$connect" ] && [ ! -x "$connect" ]; then
    echo "run-bench: $connect is not built (make bench builds it)" >&2
    exit 1
fi
interop=${UK_INTEROP_DIR:-$(dirname "$0")/../tests/interop}
NODE=${NODE:-$(command -v node || true)}

PIN=12345678
SO_PIN=87654321
LABEL=uakey-bench

started=$(date +%s)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/uakey-bench.XXXXXX")
server_pid=
connect_pid=

# stop_pid PID: SIGTERM, up to 5 s, then SIGKILL (never fails).
stop_pid() {
    kill "$1" 2>/dev/null || return 0
    stop_n=0
    while kill -0 "$1" 2>/dev/null && [ "$stop_n" -lt 50 ]; do
        sleep 0.1
        stop_n=$((stop_n + 1))
    done
    if kill -0 "$1" 2>/dev/null; then
        echo "run-bench: pid $1 still there after 5 s: SIGKILL" >&2
        kill -9 "$1" 2>/dev/null || true
    fi
    wait "$1" 2>/dev/null || true
}

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
    [ -z "$connect_pid" ] || stop_pid "$connect_pid"
    [ -z "$server_pid" ] || stop_pid "$server_pid"
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir "$tmp/tokens"
cat >"$tmp/softhsm2.conf" <<EOC
# uakey bench: throwaway token (removed when the bench ends)
directories.tokendir = $tmp/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOC
SOFTHSM2_CONF=$tmp/softhsm2.conf
export SOFTHSM2_CONF
(umask 077 && printf '%s\n' "$PIN" >"$tmp/pin")

if ! "$SOFTHSM2_UTIL" --init-token --free --label "$LABEL" --pin "$PIN" \
        --so-pin "$SO_PIN" >"$tmp/init.log" 2>&1; then
    echo "run-bench: softhsm2-util --init-token failed:" >&2
    cat "$tmp/init.log" >&2
    exit 1
fi

# libuakey brings the provider in by itself: no openssl.cnf at all.
OPENSSL_CONF=/dev/null
export OPENSSL_CONF

rc=0

# ---- part 1: the policy adapter ------------------------------------------------
if [ "${UK_BENCH_ONLY-}" != connect ]; then
    "$bench" -m "$SOFTHSM2_MODULE" -T "$LABEL" -f "$tmp/pin" "$@" || rc=$?
fi

# ---- part 2: one full OPC UA connect against node-opcua -------------------------
# server_log_tail: what the server said, when something went wrong.
server_log_tail() {
    for f in "$tmp/ua/server.log" "$tmp/ua/server.out"; do
        [ -s "$f" ] || continue
        echo "run-bench: $f (last 30 lines):" >&2
        tail -n 30 "$f" | sed 's/^/    | /' >&2
    done
}

# (called in an || list, where set -e does not act: every step checks itself)
connect_part() {
    ua=$tmp/ua
    nodeopcua=$interop/node_modules/node-opcua
    why=
    [ -n "$connect" ] || why="no uk_bench_connect program given (UK_BENCH_CONNECT)"
    [ -n "$why" ] || [ -n "$NODE" ] || why="node is not installed"
    [ -n "$why" ] || [ -f "$interop/ua_server.mjs" ] || why="$interop/ua_server.mjs is missing"
    [ -n "$why" ] || [ -d "$nodeopcua" ] ||
        why="$nodeopcua is missing (cd tests/interop && npm ci)"
    if [ -n "$why" ]; then
        echo
        echo "uk_bench_connect: SKIPPED, the connect part needs node-opcua: $why"
        return 0
    fi
    ver=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$nodeopcua/package.json" | head -n1)
    desc="node-opcua ${ver:-?} (node $("$NODE" --version 2>/dev/null || echo '?'))"

    # Our certificate goes into the server's trusted/certs before the server
    # starts: its trust list is read at start, no watcher lag to wait for.
    mkdir -p "$ua/pki/trusted/certs" || return 1
    # shellcheck disable=SC2086 # UK_BENCH_CONNECT_ARGS: options, split on purpose
    "$connect" -m "$SOFTHSM2_MODULE" -T "$LABEL" -f "$tmp/pin" -c "$ua/client.der" \
        -r "$ua/ready" -d "$ua/client-pki" -D "$desc" ${UK_BENCH_CONNECT_ARGS-} &
    connect_pid=$!
    t=0
    while [ ! -f "$ua/client.der" ]; do
        if ! kill -0 "$connect_pid" 2>/dev/null; then
            crc=0
            wait "$connect_pid" || crc=$?
            connect_pid=
            echo "run-bench: uk_bench_connect ended (status $crc) before making its" \
                 "certificate" >&2
            return "$(( crc == 0 ? 1 : crc ))"
        fi
        t=$((t + 1))
        if [ "$t" -gt 600 ]; then
            echo "run-bench: uk_bench_connect made no certificate within 60 s" >&2
            return 1
        fi
        sleep 0.1
    done
    cp "$ua/client.der" "$ua/pki/trusted/certs/uakey-bench-client.der" || return 1

    # the server: 127.0.0.1, a port the OS picks; it leaves by itself when
    # this shell is gone (--watch-pid) and after 10 minutes at most
    "$NODE" "$interop/ua_server.mjs" --port 0 --pki "$ua/pki" --ready "$ua/ready" \
        --log "$ua/server.log" --watch-pid $$ --max-runtime 600 \
        >>"$ua/server.out" 2>&1 </dev/null &
    server_pid=$!
    t=0
    while [ ! -f "$ua/ready" ]; do
        if ! kill -0 "$server_pid" 2>/dev/null; then
            wait "$server_pid" || true
            server_pid=
            echo "run-bench: the node-opcua server exited before it was ready" >&2
            server_log_tail
            return 1
        fi
        if ! kill -0 "$connect_pid" 2>/dev/null; then
            break
        fi
        t=$((t + 1))
        if [ "$t" -gt 600 ]; then
            echo "run-bench: the node-opcua server was not ready within 60 s" >&2
            server_log_tail
            return 1
        fi
        sleep 0.1
    done

    crc=0
    wait "$connect_pid" || crc=$?
    connect_pid=
    stop_pid "$server_pid"
    server_pid=
    if [ "$crc" != 0 ]; then
        server_log_tail
        return "$crc"
    fi
    return 0
}

if [ "${UK_BENCH_ONLY-}" != adapter ]; then
    crc=0
    connect_part || crc=$?
    [ "$crc" = 0 ] || [ "$rc" != 0 ] || rc=$crc
fi

echo "run-bench: $(( $(date +%s) - started )) s in all (token set-up and bench);" \
     "token directory removed" >&2
exit "$rc"
