#!/bin/bash
# uakey keyref: a key-reference file for an existing token key (no key
# material, no PIN); it loads through the provider as the same key; the PIN
# never appears in any output, even with --debug.
. "$(dirname "$0")/helpers.sh"

tool_ok "keyref" "$UAKEY" --pin-file "$PIN_FILE" keyref --key "$UK_RSA_URI" --out rsa.ref.pem
head -n1 rsa.ref.pem | grep -qx -- '-----BEGIN PKCS#11 PROVIDER URI-----' || fail "not a key reference"
ok "key reference written"
expect_no_msg "$UK_PIN" "no PIN in the output"
grep -q "$UK_PIN" rsa.ref.pem && fail "PIN inside the key reference"
ok "no PIN in the key reference"
run_ok "loads through the provider" ossl pkey -in rsa.ref.pem -pubout -out rsa.ref.pub
host_ossl pkey -pubin -in "$UK_RSA_PUB" -out rsa.pub || fail "reference public key"
same_bytes rsa.ref.pub rsa.pub "the same public key as the token's rsa-key"
step "PIN in the URI, --debug"
tool_ok "keyref with pin-value and --debug" "$UAKEY" --debug keyref \
    --key "$UK_EC_URI?pin-value=$UK_PIN" --out ec.ref.pem
grep -q 'opcua\|pkcs11\|provider' "$T/last.stderr" || { show "$T/last.stderr"; fail "no debug log"; }
ok "--debug writes a debug log"
expect_no_msg "$UK_PIN" "the PIN is not in stdout, stderr or the debug log"
grep -q "$UK_PIN" ec.ref.pem && fail "PIN inside the key reference"
ok "no PIN in the key reference"
step "a relative --pin-file path"
tool_ok "keyref with --pin-file pin.txt (relative)" "$UAKEY" --pin-file pin.txt keyref \
    --key "$UK_EC_URI" --out ec2.ref.pem
tool_ok "a key-reference file as --key, PIN from a relative --pin-file" "$UAKEY" \
    --pin-file pin.txt cert csr --key ec2.ref.pem --app-uri urn:uakey:test:rel --out rel.der
tool_fail "a --pin-file that does not exist" 'PIN|pin' \
    "$UAKEY" --pin-file no-such-pin.txt keyref --key "$UK_EC_URI" --out ec3.ref.pem
[ ! -e ec3.ref.pem ] || fail "ec3.ref.pem written without a PIN"
ok "nothing written"
tool_fail "keyref without --out" 'missing --out' "$UAKEY" keyref --key "$UK_EC_URI"
no_private_keys "$T"
finish
