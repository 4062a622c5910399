# uakey CLI tests: shared helpers.  Sourced (bash) by tests/cli/*.sh, which
# tests/run-test.sh runs with: the UK_* variables from testvars, a private
# token copy (SOFTHSM2_CONF), OPENSSL_CONF = its own openssl.cnf (default +
# uakey), UK_TEST_DIR = scratch directory, OPENSSL_MODULES from make.
#
# Three ways to run openssl:
#   ossl ...       with uakey (OPENSSL_CONF as set)              under test
#   host_ossl ...  default provider only, OPENSSL_CONF=/dev/null independent
#   p11_ossl ...   libp11's engine on the same token, no cnf     independent
# Checks print what was expected and what came out:
#   run_ok DESC CMD...      CMD must succeed
#   should_fail DESC CMD... CMD must fail (its output is kept for expect_msg)
#   expect_msg ERE [DESC]   the last command's stdout+stderr match ERE
#   expect_no_msg ERE [DESC]
#   same_bytes A B DESC     files identical
# Finish with "finish".  "skip MSG" exits 77.
set -u
set -o pipefail

T=${UK_TEST_DIR:?run through tests/run-test.sh (UK_TEST_DIR unset)}
OPENSSL=${UK_OPENSSL:-openssl}
CMD_TIMEOUT=${UK_CMD_TIMEOUT:-60}
UK_CHECKS=0
UK_NAME=$(basename "$0" .sh)
LAST_OUT=$T/last.out
cd "$T" || exit 99

say() { printf '%s\n' "$*"; }
step() { printf '\n== %s\n' "$*"; }

fail() {
    printf '\nFAIL [%s]: %s\n' "$UK_NAME" "$*"
    exit 1
}

skip() {
    printf 'SKIP [%s]: %s\n' "$UK_NAME" "$*"
    exit 77
}

finish() {
    printf '\nPASS [%s]: %d checks\n' "$UK_NAME" "$UK_CHECKS"
    exit 0
}

ok() {
    UK_CHECKS=$((UK_CHECKS + 1))
    printf '  ok %d - %s\n' "$UK_CHECKS" "$*"
}

# Show a file indented, at most 40 lines.
show() {
    sed -n '1,40s/^/    | /p' "$1"
    [ "$(wc -l <"$1")" -le 40 ] || printf '    | ... (%s lines)\n' "$(wc -l <"$1")"
}

# Quote a command line for the log.
qcmd() {
    local a out=
    for a in "$@"; do
        case $a in
        *[!A-Za-z0-9_./:=,@%+-]*|'') out="$out '${a//\'/\'\\\'\'}'" ;;
        *) out="$out $a" ;;
        esac
    done
    printf '%s' "${out# }"
}

# Runs a command with a timeout; stdout+stderr to $LAST_OUT; returns its rc.
capture() {
    printf '  $ %s\n' "$(qcmd "$@")"
    # timeout(1) cannot run shell functions: expand the openssl flavours.
    case $1 in
    ossl) shift; set -- "$OPENSSL" "$@" ;;
    host_ossl) shift; set -- env OPENSSL_CONF=/dev/null "$OPENSSL" "$@" ;;
    p11_ossl)
        shift
        set -- env OPENSSL_CONF=/dev/null PKCS11_MODULE_PATH="$UK_MODULE" \
            OPENSSL_ENGINES="$(dirname "$UK_LIBP11_ENGINE")" "$OPENSSL" "$@"
        ;;
    esac
    timeout -k 5 "$CMD_TIMEOUT" "$@" >"$LAST_OUT" 2>&1 </dev/null
    local rc=$?
    [ $rc = 124 ] && printf '  (timed out after %ss)\n' "$CMD_TIMEOUT"
    return $rc
}

run_ok() {
    local desc=$1 rc
    shift
    capture "$@"
    rc=$?
    if [ $rc != 0 ]; then
        say "  command failed (exit $rc); output:"
        show "$LAST_OUT"
        fail "$desc"
    fi
    ok "$desc"
}

should_fail() {
    local desc=$1 rc
    shift
    capture "$@"
    rc=$?
    if [ $rc = 0 ]; then
        say "  expected a failure, got exit 0; output:"
        show "$LAST_OUT"
        fail "$desc: succeeded but should have failed"
    fi
    if [ $rc -ge 124 ]; then
        say "  expected a clean failure, got exit $rc (timeout or signal/crash); output:"
        show "$LAST_OUT"
        fail "$desc: crashed or hung (exit $rc)"
    fi
    ok "$desc (failed with exit $rc as expected)"
}

expect_msg() {
    local re=$1 desc=${2:-message matches /$1/}
    if ! grep -Eq -- "$re" "$LAST_OUT"; then
        say "  expected: output matching /$re/"
        say "  got:"
        show "$LAST_OUT"
        fail "$desc"
    fi
    ok "$desc"
}

expect_no_msg() {
    local re=$1 desc=${2:-output does not match /$1/}
    if grep -Eq -- "$re" "$LAST_OUT"; then
        say "  expected: nothing matching /$re/"
        say "  got:"
        grep -En -- "$re" "$LAST_OUT" | sed -n '1,10s/^/    | /p'
        fail "$desc"
    fi
    ok "$desc"
}

same_bytes() {
    if ! cmp -s "$1" "$2"; then
        say "  expected identical files:"
        say "    $1 ($(wc -c <"$1" 2>/dev/null || echo missing) bytes): $(od -An -tx1 -N16 "$1" 2>/dev/null | tr -d '\n')"
        say "    $2 ($(wc -c <"$2" 2>/dev/null || echo missing) bytes): $(od -An -tx1 -N16 "$2" 2>/dev/null | tr -d '\n')"
        fail "$3"
    fi
    ok "$3"
}

# Fails when a file is missing or empty.
nonempty() {
    [ -s "$1" ] || fail "$2: $1 is missing or empty"
    ok "$2"
}

# ---- the three openssl flavours -------------------------------------------
ossl() { "$OPENSSL" "$@"; }
host_ossl() { env OPENSSL_CONF=/dev/null "$OPENSSL" "$@"; }
p11_ossl() {
    env OPENSSL_CONF=/dev/null PKCS11_MODULE_PATH="$UK_MODULE" \
        OPENSSL_ENGINES="$(dirname "$UK_LIBP11_ENGINE")" "$OPENSSL" "$@"
}
have_libp11() { [ -n "${UK_LIBP11_ENGINE-}" ] && [ -f "$UK_LIBP11_ENGINE" ]; }
# libp11 wants the PIN in the URI.
p11_key() { printf '%s;pin-value=%s' "$1" "$UK_PIN"; }
# "pkcs11:...;type=private" -> same object, type=public (for libp11 -pubin).
pub_uri() { printf '%s' "${1%;type=private};type=public"; }
# URI of an object by label in the test token.
obj_uri() { printf '%s;object=%s;type=%s' "$UK_BASEURI" "$1" "$2"; }

# SHA-256 digest of a file, raw bytes, computed on the host.
host_digest() { # md in out
    host_ossl dgst -"$1" -binary -out "$3" "$2" || fail "host digest of $2"
}

# ---- independent checks -----------------------------------------------------
# host_verify DESC PUB IN SIG [pkeyutl options]: default provider, exported key.
host_verify() {
    local desc=$1 pub=$2 in=$3 sig=$4
    shift 4
    run_ok "$desc: default provider verifies" \
        host_ossl pkeyutl -verify -pubin -inkey "$pub" -in "$in" -sigfile "$sig" "$@"
    expect_msg 'Signature Verified Successfully' "$desc: default provider says Verified"
}

# p11_verify DESC URI IN SIG [options]: libp11 loads the public key from the
# token itself (not from uakey's export) and verifies.
p11_verify() {
    local desc=$1 uri=$2 in=$3 sig=$4
    shift 4
    have_libp11 || { say "  (libp11 engine missing: no libp11 check for $desc)"; return 0; }
    run_ok "$desc: libp11 verifies" \
        p11_ossl pkeyutl -verify -engine pkcs11 -keyform engine -pubin \
        -inkey "$(pub_uri "$uri")" -in "$in" -sigfile "$sig" "$@"
    expect_msg 'Signature Verified Successfully' "$desc: libp11 says Verified"
}

# p11_sign URI IN OUT [options]: a signature made by libp11 on the same key.
p11_sign() {
    local uri=$1 in=$2 out=$3
    shift 3
    run_ok "libp11 signs $(basename "$in")" \
        p11_ossl pkeyutl -sign -engine pkcs11 -keyform engine \
        -inkey "$(p11_key "$uri")" -in "$in" -out "$out" "$@"
}

# p11_decrypt DESC URI IN WANT [options]: libp11 decrypts the same
# ciphertext; the plaintext must be WANT.
p11_decrypt() {
    local desc=$1 uri=$2 in=$3 want=$4
    shift 4
    have_libp11 || { say "  (libp11 engine missing: no libp11 check for $desc)"; return 0; }
    run_ok "$desc: libp11 decrypts the same ciphertext" \
        p11_ossl pkeyutl -decrypt -engine pkcs11 -keyform engine \
        -inkey "$(p11_key "$uri")" -in "$in" -out "$in.p11" "$@"
    same_bytes "$want" "$in.p11" "$desc: libp11 plaintext equals the original"
}

# verify_both DESC URI PUB IN SIG [options]
verify_both() {
    local desc=$1 uri=$2 pub=$3 in=$4 sig=$5
    shift 5
    host_verify "$desc" "$pub" "$in" "$sig" "$@"
    p11_verify "$desc" "$uri" "$in" "$sig" "$@"
}

# A signature must NOT verify (the checkers are not blind).
host_reject() {
    local desc=$1 pub=$2 in=$3 sig=$4
    shift 4
    should_fail "$desc: default provider rejects it" \
        host_ossl pkeyutl -verify -pubin -inkey "$pub" -in "$in" -sigfile "$sig" "$@"
    expect_msg 'Signature Verification Failure|verify|error' "$desc: a verification failure is reported"
}

# Flip one bit in the middle of a file (copy).
corrupt() { # in out
    local n
    n=$(( $(wc -c <"$1") / 2 ))
    cp "$1" "$2"
    printf "$(printf '\\%03o' $(( $(od -An -tu1 -j$n -N1 "$1") ^ 1 )))" |
        dd of="$2" bs=1 seek=$n conv=notrunc 2>/dev/null
}

# ---- per-test openssl.cnf variants --------------------------------------------
# make_cnf OUT ORDER [key=value ...] (see tests/write-cnf.sh)
make_cnf() {
    sh "$UK_HELPER_DIR/write-cnf.sh" "$@" || fail "write-cnf.sh $*"
}

# Count traced Cryptoki calls of one function in a UAKEY_DEBUG=pkcs11 log.
# pkcs11/call.c traces every call as "calling C_Name"; UK_TEST_CALL_RE
# overrides the pattern (%s = function name) if that changes.
count_calls() { # log C_Name
    local re
    # shellcheck disable=SC2059
    re=$(printf "${UK_TEST_CALL_RE:-calling %s([^A-Za-z0-9_]|\$)}" "$2")
    grep -Ec -- "$re" "$1" || true
}

need_token_certs() {
    [ -n "${UK_RSA_CERT-}" ] || skip "no token certificates (libp11 engine missing at setup)"
}

# openssl carries on silently when a provider in openssl.cnf fails to load;
# every later message would then be a confusing "unregistered scheme".
# Stop early with the facts instead.  (env_setup.sh sets UK_NO_PROVIDER_CHECK.)
require_uakey() {
    if "$OPENSSL" list -providers 2>&1 | grep -q '^ *uakey$'; then
        return 0
    fi
    say "uakey is NOT active with OPENSSL_CONF=${OPENSSL_CONF-}:"
    "$OPENSSL" list -providers 2>&1 | sed 's/^/    | /'
    say "  the config:"
    sed 's/^/    | /' "${OPENSSL_CONF:-/dev/null}"
    say "  OPENSSL_MODULES=${OPENSSL_MODULES-} holds:"
    ls -l "${OPENSSL_MODULES:-/nonexistent}" 2>&1 | sed 's/^/    | /'
    say "  loading it by hand:"
    "$OPENSSL" list -providers -provider-path "${OPENSSL_MODULES:-.}" -provider uakey 2>&1 |
        sed -n '1,15s/^/    | /p'
    fail "uakey provider not loaded (is provider/.libs/uakey.so built?)"
}

say "test $UK_NAME in $T"
say "OPENSSL_CONF=${OPENSSL_CONF-} OPENSSL_MODULES=${OPENSSL_MODULES-} SOFTHSM2_CONF=${SOFTHSM2_CONF-}"
[ "${UK_NO_PROVIDER_CHECK:-0}" = 1 ] || require_uakey

# make_ref OUT.pem URI [version] [uri-type]: a key-reference file built by
# the host's ASN.1 generator, independent of uakey's encoder.  OUT.der too.
make_ref() {
    local out=$1 uri=$2 ver=${3:-PKCS#11 Provider URI v1.0} typ=${4:-UTF8String}
    {
        echo "asn1 = SEQUENCE:ref"
        echo "[ref]"
        echo "version = VISIBLESTRING:${ver//#/\\#}"
        echo "uri = $typ:${uri//#/\\#}"
    } >"$out.genconf"
    host_ossl asn1parse -genconf "$out.genconf" -out "${out%.pem}.der" -noout ||
        fail "asn1parse -genconf $out.genconf"
    pem_wrap "${out%.pem}.der" "PKCS#11 PROVIDER URI" >"$out"
}

# pem_wrap FILE LABEL: PEM text of FILE's bytes.
pem_wrap() {
    echo "-----BEGIN $2-----"
    host_ossl base64 -in "$1"
    echo "-----END $2-----"
}
