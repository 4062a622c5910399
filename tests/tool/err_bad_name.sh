#!/bin/bash
# --name with '/' or '..' (or empty, or other unsafe characters) is refused
# as a usage error before anything is touched; nothing is written anywhere.
. "$(dirname "$0")/helpers.sh"

new_pki pki
for name in 'a/b' '..' '../escape' 'x/../../y' '' '.hidden/..' 'sp ace' 'semi;colon'; do
    tool_fail "cert create --name '$name'" 'invalid --name' \
        "$UAKEY" --pin-file "$PIN_FILE" cert create --pki pki --key "$UK_EC_URI" --name "$name" \
        --app-uri urn:uakey:test:app
    tool_rc 2 "exit 2 for '$name'" "$UAKEY" cert create --pki pki --key "$UK_EC_URI" \
        --name "$name" --app-uri urn:uakey:test:app
done
tool_fail "cert install --name ../x" 'invalid --name' \
    "$UAKEY" cert install --pki pki --name ../x "$UK_EC_CERT"
[ -z "$(find pki/own -type f)" ] || fail "files written into own/"
[ -z "$(find "$T" -name 'escape*' -o -name 'y.der' -o -name 'y.pem')" ] || fail "a file escaped the store"
ok "nothing written, nothing escaped"
step "names that are fine"
tool_ok "cert create --name app-1_v2.0" "$UAKEY" --pin-file "$PIN_FILE" cert create --pki pki \
    --key "$UK_EC_URI" --name app-1_v2.0 --app-uri urn:uakey:test:app
[ -s pki/own/certs/app-1_v2.0.der ] || fail "own/certs/app-1_v2.0.der missing"
ok "own/certs/app-1_v2.0.der written"
finish
