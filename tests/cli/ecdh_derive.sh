#!/bin/bash
# ECDH in the token against a host-generated peer: uakey's secret must equal
# the host's own derivation (peer private key + exported token public key)
# and libp11's.  The peer may be given as a public key or a whole key pair.
. "$(dirname "$0")/helpers.sh"

for c in "ec $UK_EC_URI $UK_EC_PUB P-256" "ec384 $UK_EC384_URI $UK_EC384_PUB P-384" \
         "bp256 $UK_BP256_URI $UK_BP256_PUB brainpoolP256r1"; do
    set -- $c
    name=$1 uri=$2 pub=$3 curve=$4
    step "$name ($curve)"
    run_ok "host peer key" host_ossl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$curve" -out "$name.peer.pem"
    host_ossl pkey -in "$name.peer.pem" -pubout -out "$name.peer.pub"
    run_ok "host derives (peer private + token public)" \
        host_ossl pkeyutl -derive -inkey "$name.peer.pem" -peerkey "$pub" -out "$name.s.host"
    run_ok "uakey derives (peer public key)" \
        ossl pkeyutl -derive -inkey "$uri" -peerkey "$name.peer.pub" -out "$name.s.uakey"
    same_bytes "$name.s.host" "$name.s.uakey" "$name: uakey secret == host secret"
    # The 3.0 CLI cannot load a key pair as -peerkey: a C helper does what
    # applications do (EVP_PKEY_derive_set_peer with the whole key pair).
    run_ok "uakey derives (peer given as a whole key pair)" \
        $UK_CHECKER "$UK_BUILDDIR/tests/tools/uk_derive" "$uri" "$name.peer.pem" "$name.s.uakey2"
    same_bytes "$name.s.host" "$name.s.uakey2" "$name: key-pair peer gives the same secret"
    if have_libp11; then
        run_ok "libp11 derives" p11_ossl pkeyutl -derive -engine pkcs11 -keyform engine \
            -inkey "$(p11_key "$uri")" -peerkey "$name.peer.pub" -out "$name.s.p11"
        same_bytes "$name.s.p11" "$name.s.uakey" "$name: uakey secret == libp11 secret"
    fi
done

step "no derived-key objects are left in the token"
run_ok "list objects" "$UK_PKCS11_TOOL" --module "$UK_MODULE" --token-label "$UK_TOKEN_LABEL" \
    --login --pin "$UK_PIN" -O
expect_no_msg 'Secret Key Object' "no secret key objects left behind"

step "a peer on another curve is refused"
run_ok "host P-384 peer" host_ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out wrong.pem
host_ossl pkey -in wrong.pem -pubout -out wrong.pub
should_fail "P-256 token key with a P-384 peer" \
    ossl pkeyutl -derive -inkey "$UK_EC_URI" -peerkey wrong.pub -out wrong.s
expect_msg 'curve|group|mismatch|different' "the refusal names the curve mismatch"
finish
