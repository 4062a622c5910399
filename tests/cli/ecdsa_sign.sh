#!/bin/bash
# ECDSA on P-256, P-384 and brainpoolP256r1: DER signatures as OpenSSL
# expects, verified by the default provider and by libp11.
. "$(dirname "$0")/helpers.sh"

printf 'OPC UA ECC policy message\n' >msg
for c in "ec $UK_EC_URI $UK_EC_PUB sha256" "ec384 $UK_EC384_URI $UK_EC384_PUB sha384" \
         "bp256 $UK_BP256_URI $UK_BP256_PUB sha256"; do
    set -- $c
    name=$1 uri=$2 pub=$3 md=$4
    step "$name: pkeyutl -sign of a $md digest"
    host_digest "$md" msg "msg.$md"
    run_ok "uakey signs" ossl pkeyutl -sign -inkey "$uri" -in "msg.$md" -out "$name.sig"
    run_ok "signature is DER" host_ossl asn1parse -inform DER -in "$name.sig"
    expect_msg 'SEQUENCE' "$name: DER SEQUENCE"
    expect_msg 'INTEGER.*INTEGER|INTEGER' "$name: r and s INTEGERs"
    verify_both "ECDSA $name" "$uri" "$pub" "msg.$md" "$name.sig"
    corrupt "$name.sig" "$name.bad"
    host_reject "$name corrupted" "$pub" "msg.$md" "$name.bad"

    step "$name: dgst -$md -sign"
    run_ok "uakey dgst -sign" ossl dgst -"$md" -sign "$uri" -out "$name.dgst.sig" msg
    run_ok "host dgst -verify" host_ossl dgst -"$md" -verify "$pub" -signature "$name.dgst.sig" msg
    expect_msg 'Verified OK' "host says Verified OK"
    p11_verify "ECDSA dgst $name" "$uri" "msg.$md" "$name.dgst.sig"
done
finish
