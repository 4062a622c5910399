#!/bin/bash
# Key generation in the token through uakey: genpkey writes a key-reference
# file, never key material; the new keys are sensitive and non-extractable,
# sign correctly (host + libp11 check) and libp11 sees the same public key.
. "$(dirname "$0")/helpers.sh"

gen() { # name label algorithm pkeyopts...
    local name=$1 label=$2 alg=$3
    shift 3
    step "genpkey $name in the token"
    run_ok "uakey genpkey" ossl genpkey -propquery provider=uakey -algorithm "$alg" "$@" \
        -pkeyopt "pkcs11_uri:$UK_BASEURI;object=$label" -out "$name.ref"
    capture cat "$name.ref"
    expect_msg '^-----BEGIN PKCS#11 PROVIDER URI-----$' "$name: output is a key reference"
    expect_no_msg 'PRIVATE KEY' "$name: no private key material in the output"
    run_ok "pkcs11-tool sees the new key" "$UK_PKCS11_TOOL" --module "$UK_MODULE" \
        --token-label "$UK_TOKEN_LABEL" --login --pin "$UK_PIN" -O -y privkey --label "$label"
    expect_msg "label: +$label" "$name: private key object in the token"
    expect_msg 'sensitive.*never extractable' "$name: sensitive, never extractable"
    run_ok "public key through uakey" ossl pkey -in "$UK_BASEURI;object=$label;type=private" \
        -pubout -out "$name.pub"
    if have_libp11; then
        run_ok "public key through libp11" p11_ossl pkey -engine pkcs11 -inform engine -pubin \
            -in "$UK_BASEURI;object=$label;type=public" -pubout -out "$name.p11.pub"
        same_bytes "$name.p11.pub" "$name.pub" "$name: libp11 and uakey agree on the public key"
    fi
}

printf 'signed with a fresh token key\n' >msg
host_digest sha256 msg msg.sha256

gen rsa gen-rsa RSA -pkeyopt bits:2048
run_ok "sign with the new RSA key (via the reference file)" \
    ossl pkeyutl -sign -inkey rsa.ref -in msg.sha256 -out rsa.sig -pkeyopt digest:sha256
verify_both "new RSA key" "$UK_BASEURI;object=gen-rsa;type=private" rsa.pub msg.sha256 rsa.sig -pkeyopt digest:sha256

gen ec gen-ec EC -pkeyopt ec_paramgen_curve:P-256
run_ok "sign with the new EC key (by URI)" \
    ossl pkeyutl -sign -inkey "$UK_BASEURI;object=gen-ec;type=private" -in msg.sha256 -out ec.sig
verify_both "new EC key" "$UK_BASEURI;object=gen-ec;type=private" ec.pub msg.sha256 ec.sig

step "a second key with the same label is refused, nothing is written"
count_keys() {
    "$UK_PKCS11_TOOL" --module "$UK_MODULE" --token-label "$UK_TOKEN_LABEL" --login \
        --pin "$UK_PIN" -O -y privkey 2>/dev/null | grep -c 'Private Key Object'
}
before=$(count_keys)
rm -f dup.ref
should_fail "genpkey with an existing label" ossl genpkey -propquery provider=uakey -algorithm EC \
    -pkeyopt ec_paramgen_curve:P-256 -pkeyopt "pkcs11_uri:$UK_BASEURI;object=gen-ec" -out dup.ref
[ ! -s dup.ref ] || fail "a key reference was written for a failed genpkey"
ok "no reference file written"
after=$(count_keys)
[ "$before" = "$after" ] || fail "private keys in the token: $before before, $after after"
ok "token still holds $after private keys"
finish
