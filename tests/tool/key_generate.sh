#!/bin/bash
# uakey key generate / key list: keys made in the token (RSA-2048, P-256),
# their URIs printed, sensitive and never extractable (pkcs11-tool's view),
# listed by key list (text and JSON); a second key with the same label is
# refused.
. "$(dirname "$0")/helpers.sh"

check_key() { # label type-regex
    run_ok "pkcs11-tool sees $1" "$UK_PKCS11_TOOL" --module "$UK_MODULE" \
        --token-label "$UK_TOKEN_LABEL" --login --pin "$UK_PIN" -O -y privkey --label "$1"
    expect_msg "label: +$1" "$1: private key object in the token"
    expect_msg "$2" "$1: key type"
    expect_msg 'sensitive.*never extractable' "$1: sensitive, never extractable"
}

step "key generate rsa2048"
gen_key app-rsa rsa2048
rsa_uri=$KEY_URI
case $rsa_uri in *object=app-rsa*type=private*) ok "URI names the label and type=private" ;;
*) fail "URI $rsa_uri lacks object=app-rsa / type=private" ;; esac
grep -q "pin-" "$T/last.stdout" && fail "the printed URI carries a PIN attribute"
ok "no PIN in the printed URI"
check_key app-rsa 'RSA.*2048|2048.*RSA|RSA'

step "key generate ec-p256"
gen_key app-ec ec-p256
ec_uri=$KEY_URI
check_key app-ec 'EC'

step "the printed URI loads through uakey (public key)"
run_ok "openssl pkey by the printed URI" ossl pkey -in "$rsa_uri" -pubout -out rsa.pub
run_ok "openssl pkey by the printed EC URI" ossl pkey -in "$ec_uri" -pubout -out ec.pub

step "key list"
tool_ok "key list" "$UAKEY" --pin-file "$PIN_FILE" key list --token "$UK_BASEURI"
expect_msg 'app-rsa' "key list shows app-rsa"
expect_msg 'app-ec' "key list shows app-ec"
expect_msg 'RSA 2048' "key list shows RSA 2048"
expect_msg 'EC 256' "key list shows EC 256"
tool_ok "key list --json" "$UAKEY" --pin-file "$PIN_FILE" key list --token "$UK_BASEURI" --json
cp "$T/last.stdout" keys.json
json_ok keys.json "key list --json"
expect_msg '"label": "app-ec"' "JSON names app-ec"

step "same label again is refused"
tool_fail "key generate with an existing label" 'exist|label|key generation' \
    "$UAKEY" --pin-file "$PIN_FILE" key generate --token "$UK_BASEURI" --label app-ec --type ec-p256
step "bad type"
tool_fail "unknown --type" "unknown key type 'dsa1024'" \
    "$UAKEY" key generate --token "$UK_BASEURI" --label x --type dsa1024
no_private_keys "$T"
finish
