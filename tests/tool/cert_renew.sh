#!/bin/bash
# Key renewal (issue: "generate a pending key in the token under a new label,
# request, install, then retire the old key"): uakey cert renew makes the
# pending key in the token and a request with the current subject and
# subjectAltName; a CA signs it; cert install of the issued certificate
# makes the pending key current (own/private/NAME.pem refers to it) and
# reports the retired key; the store then validates the new certificate.
. "$(dirname "$0")/helpers.sh"

gen_key app-2026 rsa2048
old_key=$KEY_URI
new_pki pki
tool_ok "current identity (self-signed)" "$UAKEY" --pin-file "$PIN_FILE" cert create --pki pki \
    --key "$old_key" --name app --app-uri urn:uakey:test:renew --dns plc7.example.com \
    --ip 192.0.2.7 --org 'uakey tests'
cp pki/own/certs/app.der old.der

step "cert renew: pending key and request"
tool_ok "cert renew" "$UAKEY" --pin-file "$PIN_FILE" cert renew --pki pki --name app \
    --token "$UK_BASEURI" --label app-2027 --out renew.der
expect_msg '^pending key: pkcs11:.*object=app-2027' "the pending key's URI is printed"
new_key=$(sed -n 's/^pending key: //p' "$T/last.stdout")
check_keyref_only() {
    head -n1 "$1" | grep -qx -- '-----BEGIN PKCS#11 PROVIDER URI-----' || fail "$1 is not a key reference"
    ok "$1 is a key reference"
}
check_keyref_only pki/own/private/app.pending.pem
run_ok "the request verifies on the host" host_ossl req -inform der -in renew.der -verify -noout -text
expect_msg 'URI:urn:uakey:test:renew, DNS:plc7.example.com, IP Address:192.0.2.7' \
    "the request keeps the ApplicationUri, host name and address"
expect_msg 'O ?= ?uakey tests' "the request keeps the subject's O"
run_ok "public key of the request" host_ossl req -inform der -in renew.der -noout -pubkey -out req.pub
run_ok "public key of the pending key (provider)" ossl pkey -in pki/own/private/app.pending.pem \
    -pubout -out pending.pub
same_bytes req.pub pending.pub "the request is for the pending key"
run_ok "public key of the old key (provider)" ossl pkey -in pki/own/private/app.pem -pubout -out old.pub
if cmp -s old.pub pending.pub; then fail "the pending key equals the old key"; fi
ok "the pending key is a new key"
tool_fail "a second renewal while one is pending" 'already pending' \
    "$UAKEY" --pin-file "$PIN_FILE" cert renew --pki pki --name app --token "$UK_BASEURI" \
    --label app-2028 --out again.der

step "a CA issues the certificate"
mkdir -p ca
host_ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca/ca.key \
    -subj '/CN=uakey renewal CA' -days 30 \
    -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' \
    -addext 'subjectKeyIdentifier=hash' -out ca/ca.pem >/dev/null 2>&1 || fail "test CA"
host_ossl x509 -in ca/ca.pem -outform der -out ca.der || fail "CA to DER"
cat >ca/leaf.ext <<'EXT'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation, keyEncipherment, dataEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = URI:urn:uakey:test:renew, DNS:plc7.example.com, IP:192.0.2.7
EXT
host_ossl req -inform der -in renew.der -out renew.pem || fail "request to PEM"
run_ok "CA signs the request" host_ossl x509 -req -in renew.pem -CA ca/ca.pem -CAkey ca/ca.key \
    -CAcreateserial -days 20 -extfile ca/leaf.ext -outform der -out issued.der

step "cert install: the pending key becomes current, the old one is retired"
tool_ok "cert install" "$UAKEY" --pin-file "$PIN_FILE" cert install --pki pki --name app \
    issued.der --issuer ca.der
expect_msg '^renewed' "install reports the renewal"
expect_msg "^retired key: pkcs11:.*object=app-2026" "install names the retired key"
same_bytes issued.der pki/own/certs/app.der "own/certs/app.der is the new certificate"
[ ! -e pki/own/private/app.pending.pem ] || fail "the pending reference is still there"
ok "the pending reference is gone"
run_ok "own/private/app.pem now refers to the new key" ossl pkey -in pki/own/private/app.pem \
    -pubout -out now.pub
same_bytes pending.pub now.pub "current key reference = the former pending key"
run_ok "the retired key is still in the token" "$UK_PKCS11_TOOL" --module "$UK_MODULE" \
    --token-label "$UK_TOKEN_LABEL" --login --pin "$UK_PIN" -O -y privkey
expect_msg 'label: *app-2026' "the old key stays in the token until deleted by hand"

step "the renewed identity validates against its CA"
tool_ok "trust the CA" "$UAKEY" trust add --pki pki ca.der
tool_ok "verify the new certificate" "$UAKEY" verify --pki pki --no-revocation \
    --app-uri urn:uakey:test:renew --host plc7.example.com pki/own/certs/app.der
expect_msg '^Good 0x00000000' "Good"

no_private_keys pki renew.der issued.der
finish
