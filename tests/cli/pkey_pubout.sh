#!/bin/bash
# openssl pkey -in URI -pubout: SubjectPublicKeyInfo ("BEGIN PUBLIC KEY",
# not PKCS#1), byte-identical to the key pkcs11-tool/libp11 exported.
. "$(dirname "$0")/helpers.sh"

check_pub() { # name uri exported-pub
    step "$1"
    run_ok "$1: pkey -pubout through uakey" ossl pkey -in "$2" -pubout -out "$1.pub"
    capture cat "$1.pub"
    expect_msg '^-----BEGIN PUBLIC KEY-----$' "$1: PEM says BEGIN PUBLIC KEY"
    expect_no_msg 'RSA PUBLIC KEY|PRIVATE KEY' "$1: not PKCS#1, no private key"
    same_bytes "$3" "$1.pub" "$1: equals the independently exported public key"
    run_ok "$1: DER output" ossl pkey -in "$2" -pubout -outform DER -out "$1.pub.der"
    host_ossl pkey -pubin -in "$3" -outform DER -out "$1.want.der"
    same_bytes "$1.want.der" "$1.pub.der" "$1: DER SubjectPublicKeyInfo equal"
    run_ok "$1: the public-key object (type=public) loads too" \
        ossl pkey -pubin -in "$(pub_uri "$2")" -pubout -out "$1.pubobj"
    same_bytes "$3" "$1.pubobj" "$1: public object gives the same key"
}
check_pub rsa "$UK_RSA_URI" "$UK_RSA_PUB"
check_pub ec "$UK_EC_URI" "$UK_EC_PUB"
check_pub ec384 "$UK_EC384_URI" "$UK_EC384_PUB"
check_pub bp256 "$UK_BP256_URI" "$UK_BP256_PUB"
if [ -n "${UK_ED_URI-}" ]; then
    check_pub ed25519 "$UK_ED_URI" "$UK_ED_PUB"
else
    say "Ed25519 unsupported here: ${UK_ED_NOTE-}"
fi
finish
