# uakey command-line tool tests: shared helpers.  Sourced (bash) by
# tests/tool/*.sh, which tests/run-test.sh runs like tests/cli/*.sh (private
# token copy, UK_TEST_DIR, UK_* from testvars).  Builds on tests/cli/helpers.sh
# (run_ok, should_fail, expect_msg, ...).
#
#   $UAKEY ...        the uakey CLI as an application runs it: no openssl.cnf
#                     (OPENSSL_CONF=/dev/null), the provider loaded by libuakey
#                     itself, the module from UAKEY_PKCS11_MODULE, the PIN from
#                     --pin-file $PIN_FILE (pass it yourself)
#   tool_fail DESC ERE CMD...   CMD must fail cleanly (exit 1 or 2, no crash)
#                     with exactly one stderr line "uakey: ..." matching ERE
#   no_private_keys DIR...      no file below DIR holds "PRIVATE KEY"
#   new_pki DIR                 uakey pki init DIR
#   host_selfsigned OUT.der CN  a throw-away self-signed application
#                     certificate with the OPC UA extensions (the software key
#                     goes to /dev/null, never to a file)
. "$(dirname "$0")/../cli/helpers.sh"

UK_BUILDDIR=${UK_BUILDDIR:-$(cd "$UK_HELPER_DIR/.." && pwd)}
UAKEY_BIN=${UK_UAKEY:-$UK_BUILDDIR/tools/uakey}
[ -x "$UAKEY_BIN" ] || fail "uakey CLI not built: $UAKEY_BIN"

# A wrapper script: capture() runs programs under timeout(1), not functions.
UAKEY=$T/uakey
{
    printf '#!/bin/sh\n'
    printf 'OPENSSL_CONF=/dev/null UAKEY_PKCS11_MODULE="%s" exec %s "%s" "$@"\n' \
        "$UK_MODULE" "${UK_CHECKER-}" "$UAKEY_BIN"
} >"$UAKEY"
chmod +x "$UAKEY"

PIN_FILE=$T/pin.txt
( umask 077; printf '%s\n' "$UK_PIN" >"$PIN_FILE" )

# Runs CMD with stdout and stderr apart: $T/last.stdout, $T/last.stderr
# (and both in $LAST_OUT for expect_msg).  Returns its exit code.
capture2() {
    printf '  $ %s\n' "$(qcmd "$@")"
    timeout -k 5 "$CMD_TIMEOUT" "$@" >"$T/last.stdout" 2>"$T/last.stderr" </dev/null
    local rc=$?
    cat "$T/last.stdout" "$T/last.stderr" >"$LAST_OUT"
    return $rc
}

# tool_ok DESC CMD...: must succeed; stdout in $T/last.stdout.
tool_ok() {
    local desc=$1 rc
    shift
    capture2 "$@"
    rc=$?
    if [ $rc != 0 ]; then
        say "  command failed (exit $rc); stdout:"
        show "$T/last.stdout"
        say "  stderr:"
        show "$T/last.stderr"
        fail "$desc"
    fi
    ok "$desc"
}

tool_fail() {
    local desc=$1 re=$2 rc lines
    shift 2
    capture2 "$@"
    rc=$?
    if [ $rc = 0 ] || [ $rc -gt 2 ]; then
        say "  expected exit 1 or 2, got $rc; stdout:"
        show "$T/last.stdout"
        say "  stderr:"
        show "$T/last.stderr"
        fail "$desc: exit $rc"
    fi
    lines=$(wc -l <"$T/last.stderr")
    if [ "$lines" != 1 ] || ! grep -Eq -- '^uakey: ' "$T/last.stderr"; then
        say "  expected exactly one stderr line 'uakey: ...', got $lines:"
        show "$T/last.stderr"
        fail "$desc: one-line message"
    fi
    if ! grep -Eq -- "$re" "$T/last.stderr"; then
        say "  expected the message to match /$re/, got:"
        show "$T/last.stderr"
        fail "$desc: message"
    fi
    ok "$desc (exit $rc: $(cat "$T/last.stderr"))"
}

# tool_rc WANT DESC CMD...: CMD must exit with WANT.
tool_rc() { # want desc CMD...
    local want=$1 desc=$2 rc
    shift 2
    capture2 "$@"
    rc=$?
    if [ "$rc" != "$want" ]; then
        say "  expected exit $want, got $rc; stdout:"
        show "$T/last.stdout"
        say "  stderr:"
        show "$T/last.stderr"
        fail "$desc: exit $rc"
    fi
    ok "$desc (exit $rc)"
}

no_private_keys() {
    local hits
    hits=$(grep -rl -- 'PRIVATE KEY' "$@" 2>/dev/null || true)
    if [ -n "$hits" ]; then
        say "  files holding 'PRIVATE KEY':"
        printf '%s\n' "$hits" | sed 's/^/    | /'
        fail "private key material written"
    fi
    ok "no file under $* holds 'PRIVATE KEY'"
}

new_pki() {
    tool_ok "pki init $1" "$UAKEY" pki init "$1"
}

host_selfsigned() { # out.der CN [extra req options]
    local out=$1 cn=$2
    shift 2
    host_ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout /dev/null -subj "/CN=$cn/O=uakey tests" -days 30 \
        -addext "subjectAltName=URI:urn:test:$cn,DNS:localhost" \
        -addext 'basicConstraints=critical,CA:FALSE' \
        -addext 'keyUsage=critical,digitalSignature,nonRepudiation,keyCertSign' \
        -addext 'extendedKeyUsage=serverAuth,clientAuth' \
        -outform der -out "$out" "$@" >/dev/null 2>&1 || fail "host self-signed certificate $cn"
}

# SHA-1 thumbprint of a DER/PEM certificate, 40 upper-case hex digits (host).
host_thumbprint() {
    local form=der
    grep -q -- '-----BEGIN' "$1" 2>/dev/null && form=pem
    host_ossl x509 -inform "$form" -in "$1" -noout -fingerprint -sha1 |
        sed 's/.*=//; s/://g' | tr 'a-f' 'A-F'
}

# A token key through uakey; prints nothing, sets KEY_URI.
KEY_URI=
gen_key() { # label type
    tool_ok "key generate $1 ($2)" "$UAKEY" --pin-file "$PIN_FILE" key generate \
        --token "$UK_BASEURI" --label "$1" --type "$2"
    KEY_URI=$(head -n1 "$T/last.stdout")
    case $KEY_URI in
    pkcs11:*) ok "key generate printed a URI: $KEY_URI" ;;
    *) fail "key generate printed '$KEY_URI', not a pkcs11: URI" ;;
    esac
}

# A JSON document must parse (python3, else node; skipped without both).
json_ok() { # file desc
    if command -v python3 >/dev/null 2>&1; then
        python3 -m json.tool "$1" >/dev/null 2>&1 || { show "$1"; fail "$2: not valid JSON"; }
    elif command -v node >/dev/null 2>&1; then
        node -e 'JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"))' "$1" ||
            { show "$1"; fail "$2: not valid JSON"; }
    else
        say "  (no python3 or node: JSON not parsed)"
        return 0
    fi
    ok "$2: valid JSON"
}

# check_appcert DER rsa|ec sha256|sha384 APP_URI "DNS:a, DNS:b, IP Address:x":
# every OPC 10000-6 6.2.2 field, read by the host's openssl (not uakey), and
# the self-signature verified on the host.
check_appcert() {
    local der=$1 kind=$2 md=$3 uri=$4 alt=$5 ku sigalg
    case $kind in
    rsa) ku='Digital Signature, Non Repudiation, Key Encipherment, Data Encipherment, Certificate Sign'
         sigalg="${md}WithRSAEncryption" ;;
    ec) ku='Digital Signature, Non Repudiation, Certificate Sign'
        sigalg="ecdsa-with-$(printf %s "$md" | tr a-z A-Z)" ;;
    esac
    run_ok "host openssl parses $der" host_ossl x509 -inform der -in "$der" -noout -text
    cp "$LAST_OUT" "$der.txt"
    expect_msg 'Version: 3 \(0x2\)' "X.509 v3"
    expect_msg "Signature Algorithm: $sigalg" "signature algorithm $sigalg"
    expect_msg "^ *URI:${uri}, ${alt}\$" "subjectAltName: URI first, then $alt"
    grep -A1 'X509v3 Basic Constraints: critical' "$der.txt" | grep -q '^ *CA:FALSE$' ||
        fail "basicConstraints not 'critical CA:FALSE'"
    ok "basicConstraints critical, CA:FALSE"
    grep -A1 'X509v3 Key Usage: critical' "$der.txt" | grep -q "^ *$ku\$" ||
        { grep -A1 'Key Usage' "$der.txt"; fail "keyUsage not 'critical $ku'"; }
    ok "keyUsage critical: $ku"
    grep -A1 'X509v3 Extended Key Usage' "$der.txt" |
        grep -q 'TLS Web Server Authentication, TLS Web Client Authentication' ||
        fail "extendedKeyUsage lacks serverAuth + clientAuth"
    ok "extendedKeyUsage serverAuth, clientAuth"
    expect_msg 'X509v3 Subject Key Identifier' "subjectKeyIdentifier present"
    expect_msg 'X509v3 Authority Key Identifier' "authorityKeyIdentifier present"
    run_ok "serial" host_ossl x509 -inform der -in "$der" -noout -serial
    local serial
    serial=$(sed -n 's/^serial=//p' "$LAST_OUT")
    case $serial in
    -*|'') fail "serial '$serial' is negative or missing" ;;
    esac
    [ ${#serial} -ge 30 ] || fail "serial $serial has fewer than 15 bytes"
    [ "$serial" != "$(printf '%0*d' ${#serial} 0)" ] || fail "serial is zero"
    ok "serial positive, ${#serial} hex digits"
    host_ossl x509 -inform der -in "$der" -out "$der.pem" || fail "PEM copy"
    run_ok "host verifies the self-signature" host_ossl verify -x509_strict -check_ss_sig \
        -partial_chain -CAfile "$der.pem" "$der.pem"
    expect_msg ': OK$' "host verify says OK"
    # the checker is not blind: a flipped bit in the signature fails
    cp "$der" "$der.bad"
    local n last
    n=$(( $(wc -c <"$der") - 1 ))
    last=$(od -An -tu1 -j"$n" -N1 "$der" | tr -d ' ')
    printf "$(printf '\\%03o' $(( last ^ 1 )))" | dd of="$der.bad" bs=1 seek="$n" conv=notrunc 2>/dev/null
    host_ossl x509 -inform der -in "$der.bad" -out "$der.bad.pem" 2>/dev/null || fail "PEM copy (bad)"
    should_fail "host rejects a flipped signature bit" host_ossl verify -check_ss_sig \
        -partial_chain -CAfile "$der.bad.pem" "$der.bad.pem"
}

# check_keyref FILE CERT.der: a key reference (no key material), mode 0600,
# and it loads through the provider as the certificate's key.
check_keyref() {
    local ref=$1 der=$2 mode
    head -n1 "$ref" | grep -qx -- '-----BEGIN PKCS#11 PROVIDER URI-----' ||
        { show "$ref"; fail "$ref is not a key reference"; }
    ok "$ref is a key reference (BEGIN PKCS#11 PROVIDER URI)"
    mode=$(stat -c %a "$ref")
    [ "$mode" = 600 ] || fail "$ref has mode $mode, want 600"
    ok "$ref is 0600"
    run_ok "openssl pkey -in $ref (through the provider)" ossl pkey -in "$ref" -pubout -out "$ref.pub"
    run_ok "public key of the certificate (host)" host_ossl x509 -inform der -in "$der" \
        -noout -pubkey -out "$der.pub"
    same_bytes "$ref.pub" "$der.pub" "key reference and certificate hold the same public key"
}

# expect_in FILE ERE DESC: FILE has a line matching ERE.
expect_in() {
    if ! grep -Eq -- "$2" "$1"; then
        say "  expected /$2/ in $1:"
        show "$1"
        fail "$3"
    fi
    ok "$3"
}
