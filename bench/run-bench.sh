#!/bin/sh
# uakey: the driver of `make bench`.  Makes a throwaway SoftHSM2 token the
# way tests/setup-softhsm.sh makes its template (a softhsm2.conf of its own,
# softhsm2-util --init-token), runs bench/uk_bench on it, and removes it.
#
#   run-bench.sh UK_BENCH [-t SECONDS] [-w SECONDS] [-j THREADS]
#
# Environment (make bench passes configure's results; otherwise PATH and
# the usual places): SOFTHSM2_UTIL, SOFTHSM2_MODULE, OPENSSL_MODULES (where
# uakey.so is: the build's provider/.libs).  TMPDIR decides where the
# token directory goes; it is removed on exit, also after an error or ^C.
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 UK_BENCH [-t SECONDS] [-w SECONDS] [-j THREADS]" >&2
    exit 2
fi
bench=$1
shift

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

PIN=12345678
SO_PIN=87654321
LABEL=uakey-bench

started=$(date +%s)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/uakey-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
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
"$bench" -m "$SOFTHSM2_MODULE" -T "$LABEL" -f "$tmp/pin" "$@" || rc=$?
echo "run-bench: $(( $(date +%s) - started )) s in all (token set-up and bench);" \
     "token directory removed" >&2
exit "$rc"
