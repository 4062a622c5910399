#!/bin/bash
# A corrupt DER file and a foreign file in trusted/certs: listing warns and
# still lists the good certificate; verification still works.
. "$(dirname "$0")/helpers.sh"

new_pki store
host_selfsigned good.der good-peer
tool_ok "trust add" "$UAKEY" trust add --pki store good.der
head -c 200 /dev/urandom >store/trusted/certs/corrupt.der
printf 'not a certificate\n' >store/trusted/certs/README.txt
cp good.der cut.der
truncate -s 100 cut.der
cp cut.der store/trusted/certs/truncated.der

tool_ok "trust list with corrupt files" "$UAKEY" trust list --pki store
grep -q "$(host_thumbprint good.der)" "$T/last.stdout" || fail "good certificate not listed"
ok "the good certificate is listed"
grep -q '^uakey: warning: .*corrupt.der' "$T/last.stderr" ||
    { show "$T/last.stderr"; fail "no warning naming corrupt.der"; }
ok "a warning names corrupt.der"
grep -q '^uakey: warning: .*truncated.der' "$T/last.stderr" ||
    { show "$T/last.stderr"; fail "no warning naming truncated.der"; }
ok "a warning names truncated.der"
tool_ok "trust list --json with corrupt files" "$UAKEY" trust list --pki store --json
cp "$T/last.stdout" list.json
json_ok list.json "JSON stays valid (warnings go to stderr)"
tool_rc 0 "verify still Good for the trusted certificate" "$UAKEY" verify --pki store good.der
host_selfsigned other.der other-peer
tool_rc 1 "verify still untrusted for another" "$UAKEY" verify --pki store other.der
expect_msg '^BadCertificateUntrusted 0x801A0000' "BadCertificateUntrusted"
tool_fail "trust add of a corrupt file" 'certificate|DER|PEM' \
    "$UAKEY" trust add --pki store store/trusted/certs/corrupt.der
finish
