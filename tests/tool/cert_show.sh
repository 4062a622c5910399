#!/bin/bash
# uakey cert show: openssl-like text plus ApplicationUri, thumbprint and the
# OPC UA checklist; a host-made certificate lacking OPC UA fields shows
# MISSING; --json parses.
. "$(dirname "$0")/helpers.sh"

gen_key app-ec ec-p256
new_pki pki
tool_ok "cert create" "$UAKEY" --pin-file "$PIN_FILE" cert create --pki pki --key "$KEY_URI" \
    --name app --app-uri 'urn:uakey:test:show' --dns show.example.com --org 'uakey tests'
der=pki/own/certs/app.der
tp=$(host_thumbprint "$der")

step "text"
tool_ok "cert show" "$UAKEY" cert show "$der"
expect_msg '^Certificate:' "openssl-style header"
expect_msg 'Subject Public Key Info' "public key section"
expect_msg 'X509v3 Subject Alternative Name' "extensions printed"
expect_msg '^ *ApplicationUri: urn:uakey:test:show$' "ApplicationUri"
expect_msg "Thumbprint \\(SHA-1\\): $tp\$" "thumbprint equals the host's SHA-1 fingerprint"
expect_no_msg 'MISSING' "every check ok for a uakey certificate"
expect_msg '^ +ok +subjectAltName URI \(ApplicationUri\) first' "URI-first check listed"
expect_msg '^ +ok +keyUsage keyCertSign \(self-signed\)' "keyCertSign check listed"

step "PEM input works too"
host_ossl x509 -inform der -in "$der" -out app.pem || fail "PEM copy"
tool_ok "cert show PEM" "$UAKEY" cert show app.pem
expect_msg "$tp" "same thumbprint from PEM"

step "a certificate without OPC UA fields"
host_ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
    -subj '/CN=plain' -days 3 -outform der -out plain.der >/dev/null 2>&1 || fail "plain cert"
tool_ok "cert show plain" "$UAKEY" cert show plain.der
expect_msg '^ *ApplicationUri: \(none\)$' "no ApplicationUri"
expect_msg 'MISSING +subject O present' "O missing"
expect_msg 'MISSING +subjectAltName URI' "URI missing"
expect_msg 'MISSING +extendedKeyUsage' "EKU missing"

step "--json"
tool_ok "cert show --json" "$UAKEY" cert show --json "$der"
cp "$T/last.stdout" show.json
json_ok show.json "cert show --json"
expect_msg "\"thumbprint\": \"$tp\"" "JSON thumbprint"
expect_msg '"application_uri": "urn:uakey:test:show"' "JSON ApplicationUri"

step "bad input"
tool_fail "cert show of a missing file" 'cannot read|No such file' "$UAKEY" cert show nope.der
head -c 300 /dev/urandom >junk.der
tool_fail "cert show of garbage" 'certificate|decode|parse|invalid' "$UAKEY" cert show junk.der
finish
