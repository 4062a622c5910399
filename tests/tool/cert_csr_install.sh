#!/bin/bash
# uakey cert csr / cert install: a PKCS#10 request signed in the token
# (verified by the host), signed by a CA made here with openssl, installed
# with its issuer; a certificate for another key is refused; nothing holds
# private key material (the test CA's key lives in ca/, outside the checks).
. "$(dirname "$0")/helpers.sh"

gen_key app-ec ec-p256
app_key=$KEY_URI
new_pki pki

step "cert csr"
tool_ok "cert csr" "$UAKEY" --pin-file "$PIN_FILE" cert csr --key "$app_key" \
    --app-uri urn:uakey:test:csr --dns gds.example.com --ip 10.0.0.7 --org 'uakey tests' --out req.der
run_ok "host verifies the request's signature" host_ossl req -inform der -in req.der -verify -noout -text
expect_msg 'verify OK|Certificate request self-signature verify OK' "request signature OK"
expect_msg 'URI:urn:uakey:test:csr, DNS:gds.example.com, IP Address:10.0.0.7' \
    "request carries subjectAltName, URI first"
expect_msg 'O ?= ?uakey tests' "request subject O"
host_ossl req -inform der -in req.der -out req.pem || fail "request to PEM"

step "a test CA (openssl, software key in ca/)"
mkdir -p ca
host_ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca/ca.key \
    -subj '/CN=uakey test CA/O=uakey tests' -days 30 \
    -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' \
    -addext 'subjectKeyIdentifier=hash' -out ca/ca.pem >/dev/null 2>&1 || fail "test CA"
host_ossl x509 -in ca/ca.pem -outform der -out ca.der || fail "CA to DER"
cat >ca/leaf.ext <<'EXT'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = URI:urn:uakey:test:csr, DNS:gds.example.com, IP:10.0.0.7
EXT
run_ok "CA signs the request" host_ossl x509 -req -in req.pem -CA ca/ca.pem -CAkey ca/ca.key \
    -CAcreateserial -days 20 -extfile ca/leaf.ext -outform der -out issued.der

step "cert install"
tool_ok "cert install with the CA as issuer" "$UAKEY" --pin-file "$PIN_FILE" cert install \
    --pki pki --name app --key "$app_key" issued.der --issuer ca.der
same_bytes issued.der pki/own/certs/app.der "own/certs/app.der is the issued certificate"
check_keyref pki/own/private/app.pem pki/own/certs/app.der
tool_ok "issuer list shows the CA" "$UAKEY" issuer list --pki pki
expect_msg "$(host_thumbprint ca.der)" "CA stored in issuers/"
ls pki/issuers/certs/*.der >/dev/null 2>&1 || fail "nothing in issuers/certs"
ok "issuers/certs holds a .der"
host_ossl x509 -inform der -in pki/own/certs/app.der -out app.pem || fail "PEM copy"
run_ok "host verifies the issued certificate against the CA" host_ossl verify -CAfile ca/ca.pem app.pem
expect_msg 'app.pem: OK' "chain OK on the host"

step "install again with the default key (own/private/app.pem)"
tool_ok "cert install without --key" "$UAKEY" --pin-file "$PIN_FILE" cert install \
    --pki pki --name app issued.der

step "a certificate for another key is refused"
gen_key other-ec ec-p256
other_key=$KEY_URI
new_pki pki2
tool_ok "certificate for other-ec" "$UAKEY" --pin-file "$PIN_FILE" cert create --pki pki2 \
    --key "$other_key" --name other --app-uri urn:uakey:test:other --dns other.example.com
cp -p pki/own/certs/app.der app.before
tool_fail "cert install of other-ec's certificate with app-ec" \
    'does not match|mismatch|match the key' \
    "$UAKEY" --pin-file "$PIN_FILE" cert install --pki pki --name app --key "$app_key" \
    pki2/own/certs/other.der
same_bytes app.before pki/own/certs/app.der "own/certs/app.der unchanged after the refusal"
[ ! -e pki/own/certs/other.der ] || fail "refused certificate written"
ok "nothing written for the refused certificate"

step "usage"
tool_fail "cert csr without --out" 'missing --out' \
    "$UAKEY" cert csr --key "$app_key" --app-uri urn:x
tool_fail "cert install without a file" 'exactly one certificate' \
    "$UAKEY" cert install --pki pki --name app

no_private_keys pki pki2 req.der issued.der
( cd "$T" && find . -path ./ca -prune -o -type f -print0 | xargs -0 grep -l 'PRIVATE KEY' ) &&
    fail "a file outside ca/ holds PRIVATE KEY"
ok "no file outside ca/ (the test CA's own key) holds PRIVATE KEY"
finish
