#!/bin/bash
# Both provider load orders (uakey before and after the default provider):
# token operations work and plain host operations (digests, host keys,
# TLS-free crypto) still work and do not hang (timeout) -- uakey offers no
# DIGEST/CIPHER/RAND, so SoftHSM's own libcrypto calls never land in it.
. "$(dirname "$0")/helpers.sh"

printf 'load order\n' >msg
host_digest sha256 msg msg.sha256
head -c 32 /dev/urandom >pt
run_ok "host encrypts (OAEP SHA-256)" host_ossl pkeyutl -encrypt -pubin -inkey "$UK_RSA_PUB" \
    -in pt -out ct -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256

for cnf in "$UK_CNF_UAKEY_FIRST" "$UK_CNF_UAKEY_LAST"; do
    order=$(basename "$cnf" .cnf)
    export OPENSSL_CONF=$cnf
    step "$order"
    run_ok "$order: providers listed" ossl list -providers
    expect_msg 'uakey' "$order: uakey is active"
    expect_msg 'default' "$order: default is active"
    run_ok "$order: pubout" ossl pkey -in "$UK_RSA_URI" -pubout -out "$order.pub"
    same_bytes "$UK_RSA_PUB" "$order.pub" "$order: public key"
    run_ok "$order: RSA PSS sign" ossl pkeyutl -sign -inkey "$UK_RSA_URI" -in msg.sha256 \
        -out "$order.rsa.sig" -pkeyopt digest:sha256 -pkeyopt rsa_padding_mode:pss
    host_verify "$order RSA PSS" "$UK_RSA_PUB" msg.sha256 "$order.rsa.sig" \
        -pkeyopt digest:sha256 -pkeyopt rsa_padding_mode:pss
    run_ok "$order: ECDSA sign" ossl pkeyutl -sign -inkey "$UK_EC_URI" -in msg.sha256 -out "$order.ec.sig"
    host_verify "$order ECDSA" "$UK_EC_PUB" msg.sha256 "$order.ec.sig"
    run_ok "$order: OAEP SHA-256 decrypt" ossl pkeyutl -decrypt -inkey "$UK_RSA_URI" -in ct \
        -out "$order.pt" -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256
    same_bytes pt "$order.pt" "$order: plaintext"
    run_ok "$order: dgst -sign" ossl dgst -sha256 -sign "$UK_RSA_URI" -out "$order.dgst.sig" msg
    run_ok "$order: host dgst -verify" host_ossl dgst -sha256 -verify "$UK_RSA_PUB" -signature "$order.dgst.sig" msg
    step "$order: host-only work through the same config"
    run_ok "$order: dgst" ossl dgst -sha256 msg
    run_ok "$order: rand" ossl rand -hex 16
    run_ok "$order: host RSA key" ossl genpkey -algorithm RSA -pkeyopt bits:2048 -out "$order.host.pem"
    capture cat "$order.host.pem"
    expect_msg 'BEGIN PRIVATE KEY' "$order: a host key stays a host key (not a token reference)"
    run_ok "$order: sign with a host key file" ossl dgst -sha256 -sign "$order.host.pem" -out "$order.h.sig" msg
    host_ossl pkey -in "$order.host.pem" -pubout -out "$order.host.pub"
    run_ok "$order: verify host signature" host_ossl dgst -sha256 -verify "$order.host.pub" -signature "$order.h.sig" msg
    run_ok "$order: host EC key" ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$order.hostec.pem"
    capture cat "$order.hostec.pem"
    expect_msg 'BEGIN PRIVATE KEY' "$order: a host EC key stays a host key"
    host_ossl pkey -in "$order.hostec.pem" -pubout -out "$order.hostec.pub"
    run_ok "$order: ECDH host key with the token public key" ossl pkeyutl -derive \
        -inkey "$order.hostec.pem" -peerkey "$UK_EC_PUB" -out "$order.s1"
    run_ok "$order: ECDH token key with the host public key" ossl pkeyutl -derive \
        -inkey "$UK_EC_URI" -peerkey "$order.hostec.pub" -out "$order.s2"
    same_bytes "$order.s1" "$order.s2" "$order: both sides derive the same secret"
    run_ok "$order: AES on the host" ossl enc -aes-256-cbc -pbkdf2 -pass pass:x -in msg -out "$order.enc"
done
finish
