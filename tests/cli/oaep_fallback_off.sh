#!/bin/bash
# pkcs11-oaep-fallback = no: SoftHSM 2.6.1 rejects CKM_RSA_PKCS_OAEP with
# SHA-256 (CKR_ARGUMENTS_BAD), so OAEP SHA-256 must now fail with that
# name in the message, while OAEP SHA-1 and PKCS#1 v1.5 still work.
. "$(dirname "$0")/helpers.sh"

make_cnf nofallback.cnf uakey-last oaep=no
export OPENSSL_CONF=$T/nofallback.cnf
grep -q 'pkcs11-oaep-fallback = no' nofallback.cnf || fail "cnf lacks the switch"
ok "config has pkcs11-oaep-fallback = no"

head -c 32 /dev/urandom >pt
oaep256=(-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256)
oaep1=(-pkeyopt rsa_padding_mode:oaep)
run_ok "host encrypts OAEP SHA-256" host_ossl pkeyutl -encrypt -pubin -inkey "$UK_RSA_PUB" \
    -in pt -out ct256 "${oaep256[@]}"
should_fail "uakey without fallback: OAEP SHA-256" \
    ossl pkeyutl -decrypt -inkey "$UK_RSA_URI" -in ct256 -out out256 "${oaep256[@]}"
expect_msg 'CKR_ARGUMENTS_BAD|CKR_MECHANISM_PARAM_INVALID' "the token's refusal is named"
expect_msg 'uakey' "the error comes from uakey"
[ ! -s out256 ] || fail "plaintext written although decryption failed"
ok "no plaintext written"

run_ok "host encrypts OAEP SHA-1" host_ossl pkeyutl -encrypt -pubin -inkey "$UK_RSA_PUB" \
    -in pt -out ct1 "${oaep1[@]}"
run_ok "uakey without fallback: OAEP SHA-1 still works" \
    ossl pkeyutl -decrypt -inkey "$UK_RSA_URI" -in ct1 -out out1 "${oaep1[@]}"
same_bytes pt out1 "OAEP SHA-1 plaintext recovered"
finish
