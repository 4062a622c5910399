#!/bin/bash
# Ed25519 in the token (second token, see setup-softhsm.sh), if SoftHSM and
# pkcs11-tool made the key.  libp11 0.4.12 has no EdDSA: the default
# provider with the exported key is the only checker here.
. "$(dirname "$0")/helpers.sh"
[ -n "${UK_ED_URI-}" ] || skip "Ed25519 unsupported here: ${UK_ED_NOTE-}"

printf 'Ed25519 message\n' >msg
run_ok "uakey signs (pkeyutl -rawin)" ossl pkeyutl -sign -rawin -inkey "$UK_ED_URI" -in msg -out ed.sig
[ "$(wc -c <ed.sig)" = 64 ] || fail "Ed25519 signature is $(wc -c <ed.sig) bytes, want 64"
ok "signature is 64 bytes"
run_ok "host verifies" host_ossl pkeyutl -verify -rawin -pubin -inkey "$UK_ED_PUB" -in msg -sigfile ed.sig
expect_msg 'Signature Verified Successfully' "host says Verified"
run_ok "uakey signs again" ossl pkeyutl -sign -rawin -inkey "$UK_ED_URI" -in msg -out ed2.sig
same_bytes ed.sig ed2.sig "Ed25519 is deterministic"
corrupt ed.sig ed.bad
should_fail "corrupted signature rejected by the host" \
    host_ossl pkeyutl -verify -rawin -pubin -inkey "$UK_ED_PUB" -in msg -sigfile ed.bad
finish
