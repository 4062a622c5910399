#!/bin/bash
# Independent check of libuakey's security-policy adapter with node-opcua:
# node-opcua-crypto (tests/interop, installed by "npm ci" from its lockfile)
# against uakey_policy_* (tests/tools/uk_policy) with the test token's keys.
#
# Every RSA policy (the token's RSA key and its certificate):
#   uakey signs (key-reference file)        -> node verifies with the cert
#   node encrypts 1000 bytes, multi-block    -> uakey decrypts through the token
#   uakey encrypts for a node-side key pair  -> node decrypts
#   node signs with its key pair             -> uakey verifies
#   P_SHA1 / P_SHA256 and the derived keys agree on shared random inputs
#   negative: a tampered signature is rejected by node; a tampered
#   ciphertext block is refused by uakey (non-zero exit, no output file)
# ECC_nistP256 and ECC_nistP384: ECDSA raw r||s verifies both ways.
#
# What node-opcua-crypto 6.0.0 cannot do is done with node:crypto and said
# so in the log ("impl: node:crypto ..."): RSA-PSS verification and OAEP-
# SHA256 encryption (Aes256_Sha256_RsaPss).  Skipped (77) without node/npm
# or tests/interop/node_modules, except under UK_REQUIRE_NODE=1 (then a
# hard error, 99).
. "$(dirname "$0")/helpers.sh"

interop=${UK_INTEROP_DIR:-${UK_SRCDIR:-$UK_HELPER_DIR/..}/tests/interop}
missing=
command -v node >/dev/null 2>&1 || missing="$missing node"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -d "$interop/node_modules/node-opcua-crypto" ] ||
    missing="$missing $interop/node_modules (run: cd tests/interop && npm ci)"
if [ -n "$missing" ]; then
    if [ "${UK_REQUIRE_NODE:-0}" = 1 ]; then
        say "UK_REQUIRE_NODE=1 but missing:$missing"
        exit 99
    fi
    skip "missing:$missing"
fi
say "node $(node --version), node-opcua-crypto $(sed -n 's/^ *"version": "\(.*\)",*$/\1/p' \
    "$interop/node_modules/node-opcua-crypto/package.json" | head -n1)"

UKP_BIN=${UK_POLICY_TOOL:-$UK_BUILDDIR/tests/tools/uk_policy}
[ -x "$UKP_BIN" ] || fail "uk_policy not built: $UKP_BIN"
# Wrappers: capture() runs programs under timeout(1), not functions.  uk_policy
# keeps run-test.sh's OPENSSL_CONF (the provider, the token PIN).
UKP=$T/uk_policy
printf '#!/bin/sh\nexec %s "%s" "$@"\n' "${UK_CHECKER-}" "$UKP_BIN" >"$UKP"
NODE=$T/node_check
printf '#!/bin/sh\nexec node "%s" "$@"\n' "$interop/policy_check.js" >"$NODE"
chmod +x "$UKP" "$NODE"

size() { wc -c <"$1" | tr -d ' '; }

# flip_byte FILE OFFSET: XOR one byte with 0x01 in place.
flip_byte() {
    local b
    b=$(od -An -tu1 -j"$2" -N1 "$1" | tr -d ' ')
    printf "$(printf '\\%03o' $(( b ^ 1 )))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# ff_block FILE OFFSET LEN: overwrite LEN bytes with 0xff (a value above any
# modulus of that length: no padding scheme can accept it).
ff_block() {
    head -c "$3" /dev/zero | tr '\0' '\377' | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# impl_line DESC: the last policy_check.js run printed which implementation
# did the work ("impl: ..."); copy it into the log.
impl_line() {
    local line
    line=$(grep -m1 '^impl: ' "$LAST_OUT" || true)
    [ -n "$line" ] || { show "$LAST_OUT"; fail "$1: no impl: line from policy_check.js"; }
    say "    ($line)"
}

# Decryption must fail cleanly and release nothing.
refused() { # desc cipher
    rm -f "$2.out"
    should_fail "$1" "$UKP" decrypt "$pol" "$UK_RSA_URI" "$2" "$2.out"
    [ "$(size "$LAST_OUT")" -gt 0 ] || fail "$1: no error message"
    if [ -s "$2.out" ]; then
        fail "$1: plaintext written to $2.out ($(size "$2.out") bytes)"
    fi
    ok "$1: no plaintext file (error: $(head -n1 "$LAST_OUT"))"
}

step "set-up"
tool_ok "key reference for the token RSA key" "$UAKEY" --pin-file "$PIN_FILE" keyref \
    --key "$UK_RSA_URI" --out rsa.ref.pem
tool_ok "key reference for the token P-256 key" "$UAKEY" --pin-file "$PIN_FILE" keyref \
    --key "$UK_EC_URI" --out ec.ref.pem
run_ok "node-side RSA key pair and certificate (host openssl)" host_ossl req -x509 \
    -newkey rsa:2048 -nodes -keyout node-rsa.key.pem -subj '/CN=node-rsa/O=uakey tests' \
    -days 2 -outform der -out node-rsa.der
run_ok "node-side P-256 key pair and certificate (host openssl)" host_ossl req -x509 \
    -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout node-ec256.key.pem \
    -subj '/CN=node-ec256/O=uakey tests' -days 2 -outform der -out node-ec256.der
run_ok "node-side P-384 key pair and certificate (host openssl)" host_ossl req -x509 \
    -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout node-ec384.key.pem \
    -subj '/CN=node-ec384/O=uakey tests' -days 2 -outform der -out node-ec384.der
head -c 1000 /dev/urandom >data.bin
printf 'OpenSecureChannel request body, signed by uakey, checked by node-opcua\n' >msg.bin
run_ok "modulus of the token key is 2048 bits" host_ossl x509 -in "$UK_RSA_CERT" -noout -text
expect_msg 'Public-Key: \(2048 bit\)' "token certificate holds a 2048-bit RSA key"
K=256

# ---- RSA policies ----------------------------------------------------------------
for pol in Basic128Rsa15 Basic256 Basic256Sha256 Aes128_Sha256_RsaOaep Aes256_Sha256_RsaPss; do
    step "$pol"
    case $pol in
    Basic128Rsa15) oh=11; kdf=SHA1; nonce=16 ;;
    Basic256) oh=42; kdf=SHA1; nonce=32 ;;
    Aes256_Sha256_RsaPss) oh=66; kdf=SHA256; nonce=32 ;;
    *) oh=42; kdf=SHA256; nonce=32 ;;
    esac
    blocks=$(( (1000 + K - oh - 1) / (K - oh) ))
    run_ok "$pol: uk_policy info" "$UKP" info "$pol"
    say "    ($(tr '\n' ';' <"$LAST_OUT"))"

    # uakey signs with the token key (key-reference file), node verifies.
    run_ok "$pol: uakey signs through the token" "$UKP" sign "$pol" rsa.ref.pem msg.bin "$pol.sig"
    [ "$(size "$pol.sig")" = $K ] || fail "$pol: signature is $(size "$pol.sig") bytes, want $K"
    run_ok "$pol: node verifies uakey's signature with the certificate" \
        "$NODE" verify "$pol" "$UK_RSA_CERT" msg.bin "$pol.sig"
    impl_line "$pol verify"
    expect_msg '^signature valid$' "$pol: node says the token signature is valid"
    cp "$pol.sig" "$pol.sig.bad"
    flip_byte "$pol.sig.bad" 100
    should_fail "$pol: node rejects a tampered signature" \
        "$NODE" verify "$pol" "$UK_RSA_CERT" msg.bin "$pol.sig.bad"
    expect_msg '^signature INVALID' "$pol: node says INVALID"
    cp msg.bin msg.bad
    flip_byte msg.bad 3
    should_fail "$pol: node rejects uakey's signature over other data" \
        "$NODE" verify "$pol" "$UK_RSA_CERT" msg.bad "$pol.sig"

    # node signs with its key pair, uakey verifies with node's certificate.
    run_ok "$pol: node signs with the node-side key" \
        "$NODE" sign "$pol" node-rsa.key.pem msg.bin "$pol.nsig"
    impl_line "$pol sign"
    run_ok "$pol: uakey verifies node's signature" "$UKP" verify "$pol" node-rsa.der msg.bin "$pol.nsig"
    cp "$pol.nsig" "$pol.nsig.bad"
    flip_byte "$pol.nsig.bad" 7
    capture "$UKP" verify "$pol" node-rsa.der msg.bin "$pol.nsig.bad"
    rc=$?
    [ $rc = 1 ] || { show "$LAST_OUT"; fail "$pol: uakey verify of a tampered signature exit $rc, want 1"; }
    ok "$pol: uakey rejects node's tampered signature (exit 1)"

    # node encrypts 1000 bytes to the certificate, uakey decrypts in the token.
    run_ok "$pol: node encrypts 1000 bytes to the token certificate" \
        "$NODE" encrypt "$pol" "$UK_RSA_CERT" data.bin "$pol.ct"
    impl_line "$pol encrypt"
    [ "$(size "$pol.ct")" = $((blocks * K)) ] ||
        fail "$pol: node ciphertext is $(size "$pol.ct") bytes, want $blocks x $K"
    rm -f "$pol.pt"
    run_ok "$pol: uakey decrypts $blocks blocks through the token (URI)" \
        "$UKP" decrypt "$pol" "$UK_RSA_URI" "$pol.ct" "$pol.pt"
    same_bytes data.bin "$pol.pt" "$pol: token plaintext equals node's input"

    # uakey encrypts for the node-side certificate, node decrypts.
    run_ok "$pol: uakey encrypts 1000 bytes for node's certificate" \
        "$UKP" encrypt "$pol" node-rsa.der data.bin "$pol.ct2"
    [ "$(size "$pol.ct2")" = $((blocks * K)) ] ||
        fail "$pol: uakey ciphertext is $(size "$pol.ct2") bytes, want $blocks x $K (plain block $((K - oh)))"
    ok "$pol: uakey ciphertext is $blocks blocks of $K (plain block $((K - oh)))"
    run_ok "$pol: node decrypts uakey's ciphertext" \
        "$NODE" decrypt "$pol" node-rsa.key.pem "$pol.ct2" "$pol.pt2"
    impl_line "$pol decrypt"
    same_bytes data.bin "$pol.pt2" "$pol: node plaintext equals uakey's input"

    # Tampered ciphertext: uakey must refuse it and release nothing.
    cp "$pol.ct" "$pol.ct.bad"
    if [ $oh = 11 ]; then
        # A flipped byte in a PKCS#1 v1.5 block still decodes now and then
        # (about 1 in 2^16): a block above the modulus never does.
        ff_block "$pol.ct.bad" $K $K
        refused "$pol: uakey refuses a ciphertext block above the modulus" "$pol.ct.bad"
    else
        flip_byte "$pol.ct.bad" $((K + 17))
        refused "$pol: uakey refuses a tampered OAEP block (block 2 of $blocks)" "$pol.ct.bad"
    fi
    head -c $(( blocks * K - 1 )) "$pol.ct" >"$pol.ct.short"
    refused "$pol: uakey refuses a ciphertext that is not whole blocks" "$pol.ct.short"

    # P_SHA on shared random inputs: the raw stream and the policy's keys.
    head -c $nonce /dev/urandom >"$pol.secret"
    head -c $nonce /dev/urandom >"$pol.seed"
    for len in 1 20 100 333; do
        run_ok "$pol: node P_$kdf, $len bytes" "$NODE" psha $kdf "$pol.secret" "$pol.seed" $len "$pol.n$len"
        run_ok "$pol: uakey derive, $len bytes" "$UKP" derive "$pol" "$pol.secret" "$pol.seed" $len "$pol.u$len"
        same_bytes "$pol.n$len" "$pol.u$len" "$pol: P_$kdf ($len bytes) equal"
    done
    run_ok "$pol: node computeDerivedKeys" "$NODE" derivekeys "$pol" "$pol.seed" "$pol.secret" "$pol.nk"
    want=$(sed -n 's/^derived: //p' "$LAST_OUT")
    total=$(size "$pol.nk")
    run_ok "$pol: uakey's derived key lengths" "$UKP" info "$pol"
    expect_msg "^derived: $want\$" "$pol: uakey derives the same key lengths ($want)"
    expect_msg "^kdf: P_$kdf\$" "$pol: uakey's KDF is P_$kdf"
    run_ok "$pol: uakey derive, keys + IV ($total bytes, secret/seed swapped)" \
        "$UKP" derive "$pol" "$pol.seed" "$pol.secret" "$total" "$pol.uk"
    same_bytes "$pol.nk" "$pol.uk" "$pol: signing key, encrypting key and IV equal"
done

# ---- ECDSA policies ---------------------------------------------------------------
ecdsa() { # policy key-ref cert node-key node-cert raw-size
    local pol=$1 key=$2 cert=$3 nkey=$4 ncert=$5 raw=$6 rc
    step "$pol"
    run_ok "$pol: uk_policy info" "$UKP" info "$pol"
    say "    ($(tr '\n' ';' <"$LAST_OUT"))"
    run_ok "$pol: uakey signs through the token" "$UKP" sign "$pol" "$key" msg.bin "$pol.sig"
    [ "$(size "$pol.sig")" = "$raw" ] || fail "$pol: signature is $(size "$pol.sig") bytes, want raw r||s $raw"
    ok "$pol: signature is raw r||s, $raw bytes"
    run_ok "$pol: node verifies uakey's signature with the certificate" \
        "$NODE" verify "$pol" "$cert" msg.bin "$pol.sig"
    impl_line "$pol verify"
    expect_msg '^signature valid$' "$pol: node says the token signature is valid"
    cp "$pol.sig" "$pol.sig.bad"
    flip_byte "$pol.sig.bad" 5
    should_fail "$pol: node rejects a tampered signature" \
        "$NODE" verify "$pol" "$cert" msg.bin "$pol.sig.bad"
    expect_msg '^signature INVALID' "$pol: node says INVALID"

    run_ok "$pol: node signs with the node-side key" "$NODE" sign "$pol" "$nkey" msg.bin "$pol.nsig"
    impl_line "$pol sign"
    [ "$(size "$pol.nsig")" = "$raw" ] || fail "$pol: node signature is $(size "$pol.nsig") bytes, want $raw"
    run_ok "$pol: uakey verifies node's signature (raw r||s)" "$UKP" verify "$pol" "$ncert" msg.bin "$pol.nsig"
    cp "$pol.nsig" "$pol.nsig.bad"
    flip_byte "$pol.nsig.bad" $((raw - 1))
    capture "$UKP" verify "$pol" "$ncert" msg.bin "$pol.nsig.bad"
    rc=$?
    [ $rc = 1 ] || { show "$LAST_OUT"; fail "$pol: uakey verify of a tampered signature exit $rc, want 1"; }
    ok "$pol: uakey rejects node's tampered signature (exit 1)"
}

ecdsa ECC_nistP256 ec.ref.pem "$UK_EC_CERT" node-ec256.key.pem node-ec256.der 64

# No certificate for the P-384 token key in testvars: uakey makes one.
new_pki pki
tool_ok "cert create for the P-384 token key" "$UAKEY" --pin-file "$PIN_FILE" cert create \
    --pki pki --key "$UK_EC384_URI" --name ec384 --app-uri 'urn:uakey:interop:ec384' \
    --dns opcua.example.com
ecdsa ECC_nistP384 "$UK_EC384_URI" pki/own/certs/ec384.der node-ec384.key.pem node-ec384.der 96

step "bad input"
capture "$UKP" info NoSuchPolicy
rc=$?
[ $rc = 2 ] || { show "$LAST_OUT"; fail "unknown policy: exit $rc, want 2"; }
ok "uk_policy refuses an unknown policy (exit 2: $(head -n1 "$LAST_OUT"))"
should_fail "an ECC policy has no asymmetric encryption" \
    "$UKP" encrypt ECC_nistP256 node-rsa.der data.bin ecc.ct
finish
