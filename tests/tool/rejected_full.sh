#!/bin/bash
# A full rejected/ folder: with --max-rejected 3, five different rejected
# certificates leave exactly three, the newest ones.
. "$(dirname "$0")/helpers.sh"

tool_ok "pki init --max-rejected 3" "$UAKEY" pki init store --max-rejected 3
for i in 1 2 3 4 5; do
    host_selfsigned "r$i.der" "rejected-$i"
    tool_rc 1 "verify --store-rejected r$i" "$UAKEY" verify --pki store --store-rejected "r$i.der"
    expect_msg '^BadCertificateUntrusted 0x801A0000' "r$i untrusted"
    n=$(ls store/rejected/certs | wc -l)
    want=$(( i < 3 ? i : 3 ))
    [ "$n" = "$want" ] || fail "rejected/certs holds $n files after $i, want $want"
    ok "rejected/certs holds $n"
    # distinct modification times even on coarse file systems
    sleep 1
done
tool_ok "rejected list" "$UAKEY" rejected list --pki store
for i in 1 2; do
    expect_no_msg "$(host_thumbprint "r$i.der")" "r$i (old) evicted"
done
for i in 3 4 5; do
    expect_msg "$(host_thumbprint "r$i.der")" "r$i (newest) kept"
done
tool_ok "rejected clear" "$UAKEY" rejected clear --pki store
[ -z "$(ls store/rejected/certs)" ] || fail "rejected/certs not empty after clear"
ok "rejected clear empties rejected/certs"
finish
