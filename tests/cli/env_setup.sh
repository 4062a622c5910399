#!/bin/bash
# The harness itself, without uakey: private token copy, exported public
# keys, certificates, and both independent checkers (default provider,
# libp11) accept good signatures and reject bad ones.  Passes before the
# provider exists; if it fails, fix the harness before reading other logs.
UK_NO_PROVIDER_CHECK=1
. "$(dirname "$0")/helpers.sh"

step "private token copy"
case $SOFTHSM2_CONF in
"$UK_TEST_DIR"/*) ok "SOFTHSM2_CONF is private: $SOFTHSM2_CONF" ;;
*) fail "SOFTHSM2_CONF=$SOFTHSM2_CONF is not under $UK_TEST_DIR" ;;
esac
run_ok "pkcs11-tool sees the test token" \
    "$UK_PKCS11_TOOL" --module "$UK_MODULE" -L
expect_msg "token label +: $UK_TOKEN_LABEL" "token '$UK_TOKEN_LABEL' present"
run_ok "pkcs11-tool lists the objects" \
    "$UK_PKCS11_TOOL" --module "$UK_MODULE" --token-label "$UK_TOKEN_LABEL" \
    --login --pin "$UK_PIN" -O
for l in rsa-key ec-key ec384-key bp256-key; do
    expect_msg "label: +$l\$" "object $l present"
done
expect_msg 'never extractable' "private keys are never extractable"
grep -q uakey_sect "$OPENSSL_CONF" || fail "$OPENSSL_CONF has no uakey_sect"
ok "OPENSSL_CONF has a uakey section"

step "exported public keys parse on the host"
for p in "$UK_RSA_PUB" "$UK_EC_PUB" "$UK_EC384_PUB" "$UK_BP256_PUB" ${UK_ED_PUB:+"$UK_ED_PUB"}; do
    run_ok "host reads $(basename "$p")" host_ossl pkey -pubin -in "$p" -noout
done
if [ -n "${UK_ED_URI-}" ]; then ok "Ed25519 available: $UK_ED_URI"
else say "  Ed25519 unsupported here: ${UK_ED_NOTE-}"; fi

step "certificates match the token keys"
need_token_certs
host_ossl x509 -in "$UK_RSA_CERT" -noout -pubkey >rsa-cert-pub.pem
same_bytes "$UK_RSA_PUB" rsa-cert-pub.pem "rsa-cert.pem holds rsa-key's public key"
host_ossl x509 -in "$UK_EC_CERT" -noout -pubkey >ec-cert-pub.pem
same_bytes "$UK_EC_PUB" ec-cert-pub.pem "ec-cert.pem holds ec-key's public key"

step "the independent checkers work and are not blind"
have_libp11 || skip "libp11 engine missing: cannot cross-check"
printf 'uakey harness check\n' >msg
host_digest sha256 msg msg.sha256
p11_sign "$UK_RSA_URI" msg.sha256 rsa.sig -pkeyopt digest:sha256
verify_both "libp11 RSA PKCS#1 signature" "$UK_RSA_URI" "$UK_RSA_PUB" msg.sha256 rsa.sig -pkeyopt digest:sha256
corrupt rsa.sig rsa.bad
host_reject "corrupted RSA signature" "$UK_RSA_PUB" msg.sha256 rsa.bad -pkeyopt digest:sha256
should_fail "corrupted RSA signature: libp11 rejects it" \
    p11_ossl pkeyutl -verify -engine pkcs11 -keyform engine -pubin \
    -inkey "$(pub_uri "$UK_RSA_URI")" -in msg.sha256 -sigfile rsa.bad -pkeyopt digest:sha256
p11_sign "$UK_EC_URI" msg.sha256 ec.sig
verify_both "libp11 ECDSA signature" "$UK_EC_URI" "$UK_EC_PUB" msg.sha256 ec.sig
host_reject "ECDSA signature checked against the wrong key" "$UK_EC384_PUB" msg.sha256 ec.sig

step "libp11 OAEP-SHA256 decrypt of a host ciphertext"
head -c 32 /dev/urandom >pt
run_ok "host encrypts (OAEP SHA-256)" host_ossl pkeyutl -encrypt -pubin -inkey "$UK_RSA_PUB" \
    -in pt -out ct -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256
p11_decrypt "OAEP SHA-256" "$UK_RSA_URI" ct pt \
    -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256

step "libp11 ECDH equals the host's"
run_ok "host peer key" host_ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out peer.pem
host_ossl pkey -in peer.pem -pubout -out peer.pub
run_ok "host derives" host_ossl pkeyutl -derive -inkey peer.pem -peerkey "$UK_EC_PUB" -out s.host
run_ok "libp11 derives" p11_ossl pkeyutl -derive -engine pkcs11 -keyform engine \
    -inkey "$(p11_key "$UK_EC_URI")" -peerkey peer.pub -out s.p11
same_bytes s.host s.p11 "ECDH secrets equal"
finish
