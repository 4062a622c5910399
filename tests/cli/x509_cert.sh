#!/bin/bash
# openssl x509 -in 'pkcs11:...;type=cert' reads the certificate stored in
# the token (put there by setup with pkcs11-tool).
. "$(dirname "$0")/helpers.sh"
need_token_certs

for k in rsa ec; do
    step "$k-key certificate"
    uri=$(obj_uri "$k-key" cert)
    run_ok "x509 -in '$uri'" ossl x509 -in "$uri" -outform DER -out "$k.der"
    host_ossl x509 -in "$([ $k = rsa ] && echo "$UK_RSA_CERT" || echo "$UK_EC_CERT")" \
        -outform DER -out "$k.want.der"
    same_bytes "$k.want.der" "$k.der" "$k: DER equal to the certificate setup stored"
    run_ok "subject through uakey" ossl x509 -in "$uri" -noout -subject
    expect_msg "CN ?= ?$k-key" "$k: subject CN=$k-key"
done
step "the same certificate by id"
run_ok "x509 by id=%01" ossl x509 -in "$UK_BASEURI;id=%01;type=cert" -outform DER -out id.der
same_bytes rsa.want.der id.der "id=%01 selects rsa-key's certificate"
finish
