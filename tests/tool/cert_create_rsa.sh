#!/bin/bash
# uakey cert create with an RSA-2048 token key: every OPC UA extension is
# there (checked by the host's openssl), SHA-256, the self-signature
# verifies on the host, own/private/NAME.pem is a key reference, and no file
# anywhere holds private key material.
. "$(dirname "$0")/helpers.sh"

gen_key app-rsa rsa2048
new_pki pki
step "cert create"
tool_ok "cert create" "$UAKEY" --pin-file "$PIN_FILE" cert create --pki pki --key "$KEY_URI" \
    --name server --app-uri urn:uakey:test:server --dns opcua.example.com --dns localhost \
    --ip 127.0.0.1 --ip ::1 --org 'uakey tests' --cn 'uakey test server' --days 30
expect_msg 'thumbprint: [0-9A-F]{40}' "prints the thumbprint"
[ -s pki/own/certs/server.der ] || fail "own/certs/server.der missing"
ok "own/certs/server.der written"
check_appcert pki/own/certs/server.der rsa sha256 urn:uakey:test:server \
    'DNS:opcua.example.com, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1'
expect_in pki/own/certs/server.der.txt 'Subject: .*CN ?= ?uakey test server' "subject CN from --cn"
expect_in pki/own/certs/server.der.txt 'Subject: .*O ?= ?uakey tests' "subject O from --org"
run_ok "validity" host_ossl x509 -inform der -in pki/own/certs/server.der -noout -startdate -enddate
nb=$(date -d "$(sed -n 's/^notBefore=//p' "$LAST_OUT")" +%s)
na=$(date -d "$(sed -n 's/^notAfter=//p' "$LAST_OUT")" +%s)
days=$(( (na - nb) / 86400 ))
[ "$days" = 30 ] || fail "validity $days days, want 30"
ok "validity 30 days (--days)"
check_keyref pki/own/private/server.pem pki/own/certs/server.der
no_private_keys pki "$T"
finish
