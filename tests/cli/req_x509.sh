#!/bin/bash
# openssl req with a token key: self-signed certificates (RSA PKCS#1,
# RSA-PSS, ECDSA) and a CSR, all checked by the host alone.
. "$(dirname "$0")/helpers.sh"

mk() { # name uri pub [req options]
    local name=$1 uri=$2 pub=$3
    shift 3
    step "$name"
    run_ok "uakey: req -new -x509" ossl req -new -x509 -key "$uri" -subj "/O=uakey/CN=$name" \
        -days 2 -out "$name.pem" "$@"
    host_ossl x509 -in "$name.pem" -noout -pubkey >"$name.pub"
    same_bytes "$pub" "$name.pub" "$name: certificate holds the token's public key"
    run_ok "host verifies the self-signature" host_ossl verify -CAfile "$name.pem" "$name.pem"
    expect_msg ': OK$' "$name: host says OK"
}
mk rsa-pkcs1 "$UK_RSA_URI" "$UK_RSA_PUB" -sha256
mk rsa-pss "$UK_RSA_URI" "$UK_RSA_PUB" -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest
run_ok "rsa-pss certificate uses RSASSA-PSS" host_ossl x509 -in rsa-pss.pem -noout -text
expect_msg 'Signature Algorithm: rsassaPss' "signature algorithm is rsassaPss"
mk ecdsa-p256 "$UK_EC_URI" "$UK_EC_PUB" -sha256
mk ecdsa-p384 "$UK_EC384_URI" "$UK_EC384_PUB" -sha384

step "CSR"
run_ok "uakey: req -new" ossl req -new -key "$UK_RSA_URI" -subj "/CN=csr" -sha256 -out csr.pem
run_ok "host verifies the CSR signature" host_ossl req -in csr.pem -verify -noout
expect_msg 'verify OK|Certificate request self-signature verify OK' "host says verify OK"
finish
