#!/bin/bash
# Unknown key URIs: a missing object, an absent token, a malformed URI, a
# missing key-reference file: one line naming the cause, exit 1, nothing
# written into the store.
. "$(dirname "$0")/helpers.sh"

new_pki pki
create() { # desc key ERE
    tool_fail "$1" "$3" "$UAKEY" --pin-file "$PIN_FILE" cert create --pki pki --key "$2" \
        --name app --app-uri urn:uakey:test:app --dns h.example.com
    [ -z "$(find pki/own -type f)" ] || fail "$1: files written into own/"
    ok "$1: nothing written"
}
create "no such object" "$UK_BASEURI;object=no-such-key;type=private" \
    'no matching object|no private key|no-such-key'
create "no such token" "pkcs11:token=no-such-token;object=rsa-key;type=private" \
    'token|no private key|no matching'
create "malformed URI" "pkcs11:token=uakey-test;object=%zz" 'URI|uri|no private key'
create "missing key-reference file" "$T/nope.pem" 'nope.pem'
tool_fail "keyref for a missing key" 'no matching object|no private key|no-such-key' \
    "$UAKEY" --pin-file "$PIN_FILE" keyref --key "$UK_BASEURI;object=no-such-key;type=private" --out k.pem
[ ! -e k.pem ] || fail "k.pem written"
ok "no key reference written"
tool_fail "cert csr with a missing key" 'no matching object|no private key|no-such-key' \
    "$UAKEY" --pin-file "$PIN_FILE" cert csr --key "$UK_BASEURI;object=no-such-key" \
    --app-uri urn:x --out req.der
[ ! -e req.der ] || fail "req.der written"
ok "no request written"
tool_fail "key list on an absent token" 'token|no matching' \
    "$UAKEY" --pin-file "$PIN_FILE" key list --token 'pkcs11:token=no-such-token'
finish
