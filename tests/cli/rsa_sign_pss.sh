#!/bin/bash
# RSA-PSS through pkeyutl: salt length digest/max/auto/explicit, MGF1 digest.
# Each signature is verified with a strict salt length where one is known.
. "$(dirname "$0")/helpers.sh"

printf 'OPC UA Aes256_Sha256_RsaPss\n' >msg
# sign-md mgf1-md sign-saltlen verify-saltlen
cases="
sha256 sha256 digest digest
sha256 sha256 max max
sha256 sha256 auto auto
sha256 sha256 32 32
sha256 sha256 20 20
sha256 sha256 0 0
sha256 sha1 digest digest
sha384 sha384 digest digest
sha512 sha256 max auto
sha1 sha1 digest digest
"
while read -r md mgf sl vsl; do
    [ -n "$md" ] || continue
    step "PSS $md, MGF1 $mgf, salt $sl"
    host_digest "$md" msg "msg.$md"
    s="pss.$md.$mgf.$sl"
    run_ok "uakey signs" ossl pkeyutl -sign -inkey "$UK_RSA_URI" -in "msg.$md" -out "$s" \
        -pkeyopt "digest:$md" -pkeyopt rsa_padding_mode:pss \
        -pkeyopt "rsa_pss_saltlen:$sl" -pkeyopt "rsa_mgf1_md:$mgf"
    verify_both "PSS $md/$mgf/$sl" "$UK_RSA_URI" "$UK_RSA_PUB" "msg.$md" "$s" \
        -pkeyopt "digest:$md" -pkeyopt rsa_padding_mode:pss \
        -pkeyopt "rsa_pss_saltlen:$vsl" -pkeyopt "rsa_mgf1_md:$mgf"
    # PSS is randomised: two signatures differ, unless the salt is empty.
    if [ "$sl" != 0 ]; then
        run_ok "uakey signs again" ossl pkeyutl -sign -inkey "$UK_RSA_URI" -in "msg.$md" \
            -out "$s.2" -pkeyopt "digest:$md" -pkeyopt rsa_padding_mode:pss \
            -pkeyopt "rsa_pss_saltlen:$sl" -pkeyopt "rsa_mgf1_md:$mgf"
        if cmp -s "$s" "$s.2"; then fail "two PSS signatures are identical (no random salt?)"; fi
        ok "two PSS signatures differ (random salt)"
    fi
done <<<"$cases"

step "a salt length that does not match is rejected by the host"
host_digest sha256 msg msg.sha256
run_ok "uakey signs salt 20" ossl pkeyutl -sign -inkey "$UK_RSA_URI" -in msg.sha256 -out s20 \
    -pkeyopt digest:sha256 -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:20
host_reject "salt 20 verified as salt 32" "$UK_RSA_PUB" msg.sha256 s20 \
    -pkeyopt digest:sha256 -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:32
finish
