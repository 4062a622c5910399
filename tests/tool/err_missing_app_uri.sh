#!/bin/bash
# Missing ApplicationUri: cert create and cert csr refuse (usage error, one
# line naming --app-uri), before the token is touched; nothing is written.
. "$(dirname "$0")/helpers.sh"

new_pki pki
key="$UK_EC_URI"
tool_fail "cert create without --app-uri" 'missing --app-uri' \
    "$UAKEY" --pin-file "$PIN_FILE" cert create --pki pki --key "$key" --name app --dns h.example.com
grep -q '^uakey: missing --app-uri' "$T/last.stderr" || fail "message does not start with the cause"
ok "message starts with the cause"
tool_rc 2 "exit status 2 (usage)" "$UAKEY" cert create --pki pki --key "$key" --name app
tool_fail "cert create with an empty --app-uri" 'missing --app-uri' \
    "$UAKEY" cert create --pki pki --key "$key" --name app --app-uri ''
tool_fail "cert csr without --app-uri" 'missing --app-uri' \
    "$UAKEY" cert csr --key "$key" --out req.der
[ -z "$(find pki/own -type f)" ] || fail "files written into own/"
[ ! -e req.der ] || fail "req.der written"
ok "nothing written"
finish
