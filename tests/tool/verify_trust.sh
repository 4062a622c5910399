#!/bin/bash
# uakey verify on a self-signed application certificate: untrusted ->
# BadCertificateUntrusted 0x801A0000 and a non-zero exit; --store-rejected
# puts it into rejected/; rejected trust makes it Good; URI and host checks;
# trust remove makes it untrusted again; --json.
. "$(dirname "$0")/helpers.sh"

gen_key peer-ec ec-p256
new_pki app
tool_ok "peer certificate" "$UAKEY" --pin-file "$PIN_FILE" cert create --pki app --key "$KEY_URI" \
    --name peer --app-uri urn:uakey:test:peer --dns peer.example.com --ip 192.0.2.10
peer=app/own/certs/peer.der
tp=$(host_thumbprint "$peer")
new_pki store

step "untrusted"
tool_rc 1 "verify an unknown certificate" "$UAKEY" verify --pki store "$peer"
head -n1 "$T/last.stdout" | grep -qx 'BadCertificateUntrusted 0x801A0000' ||
    { show "$T/last.stdout"; fail "first line is not 'BadCertificateUntrusted 0x801A0000'"; }
ok "prints BadCertificateUntrusted 0x801A0000"
if [ "$(wc -l <"$T/last.stderr")" != 1 ] || ! grep -q '^uakey: .*BadCertificateUntrusted' "$T/last.stderr"; then
    show "$T/last.stderr"
    fail "stderr is not one 'uakey: ...' line"
fi
ok "one-line cause on stderr"
[ -z "$(ls store/rejected/certs)" ] || fail "stored in rejected/ without --store-rejected"
ok "rejected/ still empty"

step "--store-rejected, then rejected trust"
tool_rc 1 "verify --store-rejected" "$UAKEY" verify --pki store --store-rejected "$peer"
[ "$(ls store/rejected/certs | wc -l)" = 1 ] || fail "rejected/certs does not hold one file"
ok "rejected/certs holds the certificate"
tool_ok "rejected list" "$UAKEY" rejected list --pki store
expect_msg "^$tp " "rejected list shows its thumbprint"
expect_msg 'urn:uakey:test:peer' "rejected list shows its ApplicationUri"
tool_ok "rejected list --json" "$UAKEY" rejected list --pki store --json
cp "$T/last.stdout" rejected.json
json_ok rejected.json "rejected list --json"
tool_ok "rejected trust" "$UAKEY" rejected trust --pki store "$(printf %s "$tp" | tr A-F a-f)"
[ -z "$(ls store/rejected/certs)" ] || fail "still in rejected/ after rejected trust"
ls store/trusted/certs/*"$tp"*.der >/dev/null 2>&1 || fail "not in trusted/certs after rejected trust"
ok "moved from rejected/ to trusted/ (lower-case thumbprint accepted)"

step "trusted: Good"
tool_rc 0 "verify a trusted certificate" "$UAKEY" verify --pki store "$peer"
head -n1 "$T/last.stdout" | grep -qx 'Good 0x00000000' || { show "$T/last.stdout"; fail "not Good"; }
ok "prints Good 0x00000000"
[ ! -s "$T/last.stderr" ] || { show "$T/last.stderr"; fail "stderr not empty for Good"; }
ok "nothing on stderr"
tool_rc 0 "right --app-uri and --host" "$UAKEY" verify --pki store --app-uri urn:uakey:test:peer \
    --host peer.example.com "$peer"
tool_rc 0 "--host by IP address" "$UAKEY" verify --pki store --host 192.0.2.10 "$peer"
tool_rc 1 "wrong --app-uri" "$UAKEY" verify --pki store --app-uri urn:uakey:test:other "$peer"
expect_msg '^BadCertificateUriInvalid 0x80170000' "BadCertificateUriInvalid 0x80170000"
tool_rc 1 "wrong --host" "$UAKEY" verify --pki store --host other.example.com "$peer"
expect_msg '^BadCertificateHostNameInvalid 0x80160000' "BadCertificateHostNameInvalid 0x80160000"
tool_rc 0 "wrong --host suppressed" "$UAKEY" verify --pki store --host other.example.com \
    --suppress host-name-invalid "$peer"
tool_rc 0 "verify --json" "$UAKEY" verify --pki store --json "$peer"
cp "$T/last.stdout" verify.json
json_ok verify.json "verify --json"
expect_msg '"status": "Good"' "JSON status Good"
tool_ok "trust list" "$UAKEY" trust list --pki store
expect_msg "^$tp " "trust list shows it"

step "trust remove"
tool_ok "trust remove by thumbprint" "$UAKEY" trust remove --pki store "$tp"
tool_rc 1 "untrusted again" "$UAKEY" verify --pki store "$peer"
expect_msg '^BadCertificateUntrusted 0x801A0000' "BadCertificateUntrusted again"
tool_ok "trust add by file" "$UAKEY" trust add --pki store "$peer"
tool_rc 0 "Good again" "$UAKEY" verify --pki store "$peer"
tool_ok "trust remove by file" "$UAKEY" trust remove --pki store "$peer"
tool_fail "trust remove of a certificate that is not there" 'no matching object|not found|not in' \
    "$UAKEY" trust remove --pki store "$tp"
tool_ok "rejected clear" "$UAKEY" rejected clear --pki store

step "usage"
tool_fail "unknown --suppress name" "unknown --suppress name 'everything'" \
    "$UAKEY" verify --pki store --suppress everything "$peer"
tool_fail "unknown --policy" 'polic' "$UAKEY" verify --pki store --policy '#NoSuchPolicy' "$peer"
tool_fail "unknown option" "unknown option '--frobnicate'" "$UAKEY" verify --pki store --frobnicate "$peer"
finish
