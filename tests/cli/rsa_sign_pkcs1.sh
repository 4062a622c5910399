#!/bin/bash
# RSA PKCS#1 v1.5 signatures through uakey (pkeyutl of a host digest, and
# dgst -sign), each verified by the default provider with the exported key
# and by libp11; PKCS#1 v1.5 is deterministic, so libp11's signature on the
# same key must be byte-identical.
. "$(dirname "$0")/helpers.sh"

printf 'OPC UA message to sign\n' >msg
for md in sha1 sha224 sha256 sha384 sha512; do
    step "pkeyutl -sign, $md"
    host_digest "$md" msg "msg.$md"
    run_ok "uakey signs ($md)" ossl pkeyutl -sign -inkey "$UK_RSA_URI" -in "msg.$md" \
        -out "sig.$md" -pkeyopt "digest:$md"
    verify_both "PKCS#1 $md" "$UK_RSA_URI" "$UK_RSA_PUB" "msg.$md" "sig.$md" -pkeyopt "digest:$md"
    if have_libp11; then
        p11_sign "$UK_RSA_URI" "msg.$md" "sig.$md.p11" -pkeyopt "digest:$md"
        same_bytes "sig.$md.p11" "sig.$md" "PKCS#1 $md: identical to libp11's signature"
    fi
done
corrupt sig.sha256 sig.bad
host_reject "corrupted signature" "$UK_RSA_PUB" msg.sha256 sig.bad -pkeyopt digest:sha256

step "dgst -sha256 -sign (streaming EVP_DigestSign)"
run_ok "uakey dgst -sign" ossl dgst -sha256 -sign "$UK_RSA_URI" -out dgst.sig msg
run_ok "host dgst -verify" host_ossl dgst -sha256 -verify "$UK_RSA_PUB" -signature dgst.sig msg
expect_msg 'Verified OK' "host says Verified OK"
same_bytes sig.sha256 dgst.sig "dgst -sign equals pkeyutl -sign of the digest"

step "a large input through dgst (several update calls)"
head -c 1000000 /dev/urandom >big
run_ok "uakey dgst -sign of 1 MB" ossl dgst -sha256 -sign "$UK_RSA_URI" -out big.sig big
run_ok "host verifies" host_ossl dgst -sha256 -verify "$UK_RSA_PUB" -signature big.sig big
expect_msg 'Verified OK' "host says Verified OK"
finish
