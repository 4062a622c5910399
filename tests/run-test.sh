#!/bin/sh
# uakey tests: LOG_COMPILER for every test (make check runs
# "sh tests/run-test.sh TEST [ARGS]").
#
# - Sources $UK_TESTVARS (written by tests/setup-softhsm.sh).
# - Unit tests (tests/unit/*) need no token and always run.
# - Token tests: exit 77 (skip) when UK_TOKEN=none, 99 (hard error) when
#   UK_REQUIRE_SOFTHSM=1 as well.
# - Each token test gets a private directory under the build tree holding
#   its own copy of the token directory, softhsm2.conf and openssl.cnf
#   variants (SoftHSM2 misbehaves when parallel processes share a tokendir).
#   Exported: UK_TEST_DIR (scratch space), SOFTHSM2_CONF, OPENSSL_CONF,
#   UK_OPENSSL_CNF, UK_CNF_UAKEY_FIRST, UK_CNF_UAKEY_LAST, UK_TOKEN_DIR.
# - Compiled tests run as "$UK_CHECKER TEST"; scripts get UK_CHECKER in the
#   environment to prefix their own compiled helpers.
# - Every test runs under timeout(1): UK_TEST_TIMEOUT seconds (default 300,
#   x10 with a checker).
# - The private directory is removed on success or skip and kept on failure
#   (or always with UK_KEEP_TMP=1); its path is printed to the test log.
set -u

if [ $# -lt 1 ]; then
    echo "usage: $0 TEST [ARGS...]" >&2
    exit 99
fi
test_prog=$1
shift
name=$(basename "$test_prog")
name=${name%.sh}

here=$(cd "$(dirname "$0")" && pwd)
testvars=${UK_TESTVARS:-$here/softhsm/testvars}
if [ ! -f "$testvars" ]; then
    echo "run-test: $testvars not found (run 'make check', or tests/setup-softhsm.sh DIR" \
         "and set UK_TESTVARS=DIR/testvars)" >&2
    exit 99
fi
# shellcheck disable=SC1090
. "$testvars"

case $test_prog in
*/unit/*) needs_token=no ;;
*) needs_token=yes ;;
esac

if [ "$needs_token" = yes ] && [ "${UK_TOKEN:-none}" = none ]; then
    if [ "${UK_REQUIRE_SOFTHSM:-0}" = 1 ]; then
        echo "run-test: UK_REQUIRE_SOFTHSM=1 but no SoftHSM2 token (missing:${UK_TOKEN_MISSING-})" >&2
        exit 99
    fi
    echo "run-test: SKIP $name: no SoftHSM2 token (missing:${UK_TOKEN_MISSING-})"
    exit 77
fi

checker=${UK_CHECKER-}
limit=${UK_TEST_TIMEOUT:-300}
[ -n "$checker" ] && limit=$((limit * 10))

tmproot=${UK_TMPROOT:-$(pwd)/tests/tmp}
mkdir -p "$tmproot" || exit 99
UK_TEST_DIR=$(mktemp -d "$tmproot/$name.XXXXXX") || exit 99
export UK_TEST_DIR

cleanup() {
    rc=$1
    if [ "${UK_KEEP_TMP:-0}" = 1 ] || { [ "$rc" != 0 ] && [ "$rc" != 77 ]; }; then
        echo "run-test: kept $UK_TEST_DIR (token copy, configs, scratch files)"
        echo "run-test: to rerun by hand: UK_KEEP_TMP=1 UK_TESTVARS=$testvars sh $0 $test_prog"
    else
        rm -rf "$UK_TEST_DIR"
    fi
}

if [ "$needs_token" = yes ]; then
    UK_TOKEN_DIR=$UK_TEST_DIR/tokens
    cp -R "$UK_TEMPLATE_TOKENS" "$UK_TOKEN_DIR" || { cleanup 99; exit 99; }
    SOFTHSM2_CONF=$UK_TEST_DIR/softhsm2.conf
    cat >"$SOFTHSM2_CONF" <<EOF
directories.tokendir = $UK_TOKEN_DIR
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOF
    cp "$UK_OPENSSL_CNF" "$UK_TEST_DIR/openssl.cnf"
    cp "$UK_CNF_UAKEY_FIRST" "$UK_TEST_DIR/openssl-uakey-first.cnf"
    cp "$UK_CNF_UAKEY_LAST" "$UK_TEST_DIR/openssl-uakey-last.cnf"
    UK_OPENSSL_CNF=$UK_TEST_DIR/openssl.cnf
    UK_CNF_UAKEY_FIRST=$UK_TEST_DIR/openssl-uakey-first.cnf
    UK_CNF_UAKEY_LAST=$UK_TEST_DIR/openssl-uakey-last.cnf
    OPENSSL_CONF=$UK_OPENSSL_CNF
    export UK_TOKEN_DIR SOFTHSM2_CONF UK_OPENSSL_CNF UK_CNF_UAKEY_FIRST \
        UK_CNF_UAKEY_LAST OPENSSL_CONF
else
    # Unit tests must not depend on any token or provider configuration.
    OPENSSL_CONF=/dev/null
    export OPENSSL_CONF
    unset SOFTHSM2_CONF
fi
UK_CHECKER=$checker
UK_HELPER_DIR=$here
export UK_CHECKER UK_HELPER_DIR

# pkcs11-tool is an independent checker: it must never load uakey through
# the test's openssl.cnf (it links libcrypto, which reads OPENSSL_CONF).
if [ -n "${UK_TEST_DIR:-}" ] && [ -n "${UK_PKCS11_TOOL:-}" ]; then
    printf '#!/bin/sh\nOPENSSL_CONF=/dev/null exec "%s" "$@"\n' "$UK_PKCS11_TOOL" \
        >"$UK_TEST_DIR/pkcs11-tool"
    chmod +x "$UK_TEST_DIR/pkcs11-tool"
    UK_PKCS11_TOOL=$UK_TEST_DIR/pkcs11-tool
    export UK_PKCS11_TOOL
fi

# An --enable-asan build: the openssl CLI is not instrumented but loads the
# instrumented uakey.so, so it runs through a wrapper that preloads the
# sanitizer runtime (only openssl: coreutils such as dd abort under it).
# Memory errors abort; leaks are checked in our compiled tests (C programs
# we wrote, linked with ASan), not in the openssl CLI, whose own exit-time
# allocations are not ours to judge.
if [ -n "${UK_ASAN_RUNTIME:-}" ] && [ -f "$UK_ASAN_RUNTIME" ] && [ -n "${UK_TEST_DIR:-}" ]; then
    real_openssl=${UK_OPENSSL:-$(command -v openssl)}
    printf '#!/bin/sh\nLD_PRELOAD="%s" ASAN_OPTIONS="exitcode=86:detect_leaks=0:detect_odr_violation=0" exec "%s" "$@"\n' \
        "$UK_ASAN_RUNTIME" "$real_openssl" >"$UK_TEST_DIR/openssl-asan"
    chmod +x "$UK_TEST_DIR/openssl-asan"
    UK_OPENSSL=$UK_TEST_DIR/openssl-asan
    export UK_OPENSSL
    export ASAN_OPTIONS="exitcode=86:detect_odr_violation=0"
    # fast_unwind_on_malloc=0: libcrypto and SoftHSM have no frame
    # pointers, so the fast unwinder stops inside libcrypto and a
    # suppression naming the caller (lsan.supp) could never match.
    export LSAN_OPTIONS="suppressions=$here/lsan.supp:print_suppressions=0:fast_unwind_on_malloc=0"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
fi

echo "run-test: $name (dir $UK_TEST_DIR, timeout ${limit}s${checker:+, checker: $checker})"
case $test_prog in
*.sh)
    timeout -k 10 "$limit" bash "$test_prog" "$@"
    rc=$?
    ;;
*)
    # shellcheck disable=SC2086
    timeout -k 10 "$limit" $checker "$test_prog" "$@"
    rc=$?
    ;;
esac
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    echo "run-test: $name TIMED OUT after ${limit}s (exit $rc)" >&2
    rc=99
fi
cleanup "$rc"
exit "$rc"
