#!/bin/bash
# openssl dgst -sign with PSS -sigopt options (the streaming path OPC UA
# stacks use), verified by the host's dgst -verify and by libp11.
. "$(dirname "$0")/helpers.sh"

printf 'OPC UA dgst PSS\n' >msg
for c in "sha256 digest sha256" "sha256 max sha256" "sha384 digest sha384" "sha256 32 sha1"; do
    set -- $c
    md=$1 sl=$2 mgf=$3
    step "dgst -$md -sign, PSS salt $sl, MGF1 $mgf"
    opts=(-sigopt rsa_padding_mode:pss -sigopt "rsa_pss_saltlen:$sl" -sigopt "rsa_mgf1_md:$mgf")
    run_ok "uakey dgst -sign" ossl dgst -"$md" -sign "$UK_RSA_URI" "${opts[@]}" -out "sig.$md.$sl" msg
    run_ok "host dgst -verify" host_ossl dgst -"$md" -verify "$UK_RSA_PUB" "${opts[@]}" \
        -signature "sig.$md.$sl" msg
    expect_msg 'Verified OK' "host says Verified OK"
    host_digest "$md" msg "msg.$md"
    p11_verify "dgst PSS $md/$sl/$mgf" "$UK_RSA_URI" "msg.$md" "sig.$md.$sl" \
        -pkeyopt "digest:$md" -pkeyopt rsa_padding_mode:pss \
        -pkeyopt "rsa_pss_saltlen:$sl" -pkeyopt "rsa_mgf1_md:$mgf"
done
finish
