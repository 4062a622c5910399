#!/bin/bash
# A key asked for an operation of the other family, oversized or undersized
# input: clean failures, nothing written.  (RSA key through an explicit
# ECDSA fetch is in tests/integration/t_stack_calls.c.)
. "$(dirname "$0")/helpers.sh"

printf 'x\n' >msg
host_digest sha256 msg msg.sha256

step "wrong key family"
rm -f o
should_fail "ECDH derive with the RSA key" \
    ossl pkeyutl -derive -inkey "$UK_RSA_URI" -peerkey "$UK_EC_PUB" -out o
[ ! -s o ] || fail "output written"; ok "nothing written"
should_fail "RSA decrypt with the EC key" \
    ossl pkeyutl -decrypt -inkey "$UK_EC_URI" -in msg.sha256 -out o
[ ! -s o ] || fail "output written"; ok "nothing written"
should_fail "RSA-PSS padding with the EC key" \
    ossl pkeyutl -sign -inkey "$UK_EC_URI" -in msg.sha256 -out o -pkeyopt rsa_padding_mode:pss
[ ! -s o ] || fail "output written"; ok "nothing written"
should_fail "EC curve option on the RSA key" \
    ossl pkeyutl -sign -inkey "$UK_RSA_URI" -in msg.sha256 -out o -pkeyopt ec_paramgen_curve:P-256
[ ! -s o ] || fail "output written"; ok "nothing written"

step "oversized and undersized input"
head -c 257 /dev/urandom >in257
should_fail "decrypt 257 bytes with a 2048-bit key" \
    ossl pkeyutl -decrypt -inkey "$UK_RSA_URI" -in in257 -out o -pkeyopt rsa_padding_mode:oaep
expect_no_msg 'Segmentation|core dumped|Aborted' "no crash"
[ ! -s o ] || fail "output written"; ok "nothing written"
head -c 1000 /dev/urandom >in1000
should_fail "decrypt 1000 bytes" \
    ossl pkeyutl -decrypt -inkey "$UK_RSA_URI" -in in1000 -out o -pkeyopt rsa_padding_mode:pkcs1
[ ! -s o ] || fail "output written"; ok "nothing written"
# A 256-byte value above the modulus.
head -c 256 /dev/zero | tr '\0' '\377' >big256
should_fail "decrypt a value larger than the modulus" \
    ossl pkeyutl -decrypt -inkey "$UK_RSA_URI" -in big256 -out o -pkeyopt rsa_padding_mode:pkcs1
[ ! -s o ] || fail "output written"; ok "nothing written"
head -c 20 /dev/urandom >d20
should_fail "a 20-byte 'SHA-256 digest'" \
    ossl pkeyutl -sign -inkey "$UK_RSA_URI" -in d20 -out o -pkeyopt digest:sha256
[ ! -s o ] || fail "output written"; ok "nothing written"
head -c 300 /dev/urandom >d300
should_fail "ECDSA of a 300-byte 'digest'" \
    ossl pkeyutl -sign -inkey "$UK_EC_URI" -in d300 -out o
expect_no_msg 'Segmentation|core dumped|Aborted' "no crash"
finish
