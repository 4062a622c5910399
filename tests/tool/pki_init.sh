#!/bin/bash
# uakey pki init: the OPC UA PKI layout with safe permissions; --max-rejected
# is recorded; running it again leaves existing files alone.
. "$(dirname "$0")/helpers.sh"

step "pki init"
tool_ok "pki init --max-rejected 7" "$UAKEY" pki init pki --max-rejected 7
for d in own/certs own/private trusted/certs trusted/crl issuers/certs issuers/crl rejected/certs; do
    [ -d "pki/$d" ] || fail "pki/$d missing"
done
ok "every folder of the layout exists"
mode=$(stat -c %a pki/own/private)
[ "$mode" = 700 ] || fail "own/private has mode $mode, want 700"
ok "own/private is 0700"
for d in own own/certs trusted trusted/certs issuers/certs rejected/certs; do
    m=$(stat -c %a "pki/$d")
    case $m in 7[0-5][0-5]) ;; *) fail "pki/$d has mode $m (group/other may write)" ;; esac
done
ok "no other folder is group/other writable"
grep -rqs 7 pki/uakey-pki.conf || fail "max_rejected 7 not recorded in uakey-pki.conf"
ok "uakey-pki.conf records 7"

step "again: existing files untouched"
host_selfsigned c1.der keepme
cp c1.der pki/trusted/certs/keepme.der
tool_ok "pki init again" "$UAKEY" pki init pki
same_bytes c1.der pki/trusted/certs/keepme.der "existing certificate untouched"
tool_ok "trust list sees it" "$UAKEY" trust list --pki pki
expect_msg "$(host_thumbprint c1.der)" "trust list shows the thumbprint"

step "usage"
tool_fail "pki init without DIR" 'one directory' "$UAKEY" pki init
tool_fail "--max-rejected 0" 'positive' "$UAKEY" pki init pki2 --max-rejected 0
[ ! -e pki2 ] || fail "pki2 created despite the usage error"
ok "nothing created on a usage error"
finish
