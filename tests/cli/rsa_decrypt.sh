#!/bin/bash
# RSA decryption through uakey of ciphertexts the host made with the
# exported public key: OAEP with only the padding set (= SHA-1/MGF1-SHA-1),
# OAEP SHA-256 (SoftHSM rejects it: uakey's fallback path), OAEP with a
# label, PKCS#1 v1.5.  libp11 decrypts the same ciphertext as a check.
. "$(dirname "$0")/helpers.sh"

oaep1=(-pkeyopt rsa_padding_mode:oaep)
oaep1x=(-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha1 -pkeyopt rsa_mgf1_md:sha1)
oaep256=(-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256)
oaep256l=("${oaep256[@]}" -pkeyopt rsa_oaep_label:0102030405)
oaep256m1=(-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha1)
pkcs1=(-pkeyopt rsa_padding_mode:pkcs1)

one() { # name plaintext-size options...
    local name=$1 n=$2
    shift 2
    step "$name, $n-byte plaintext"
    head -c "$n" /dev/urandom >"$name.$n.pt"
    run_ok "host encrypts" host_ossl pkeyutl -encrypt -pubin -inkey "$UK_RSA_PUB" \
        -in "$name.$n.pt" -out "$name.$n.ct" "$@"
    run_ok "uakey decrypts" ossl pkeyutl -decrypt -inkey "$UK_RSA_URI" \
        -in "$name.$n.ct" -out "$name.$n.out" "$@"
    same_bytes "$name.$n.pt" "$name.$n.out" "$name: plaintext recovered"
    p11_decrypt "$name" "$UK_RSA_URI" "$name.$n.ct" "$name.$n.pt" "$@"
}
one oaep-padding-only 32 "${oaep1[@]}"
one oaep-sha1 32 "${oaep1x[@]}"
one oaep-sha1 214 "${oaep1x[@]}"          # maximum: 256 - 2*20 - 2
one oaep-sha256 32 "${oaep256[@]}"
one oaep-sha256 190 "${oaep256[@]}"       # maximum: 256 - 2*32 - 2
one oaep-sha256 1 "${oaep256[@]}"
one oaep-sha256-label 32 "${oaep256l[@]}"
one oaep-sha256-mgf1-sha1 32 "${oaep256m1[@]}"
one pkcs1 32 "${pkcs1[@]}"
one pkcs1 245 "${pkcs1[@]}"               # maximum: 256 - 11

step "padding-only OAEP is SHA-1: a padding-only ciphertext decrypts as explicit SHA-1"
run_ok "uakey decrypts with explicit SHA-1" ossl pkeyutl -decrypt -inkey "$UK_RSA_URI" \
    -in oaep-padding-only.32.ct -out po.out "${oaep1x[@]}"
same_bytes oaep-padding-only.32.pt po.out "padding-only == SHA-1/MGF1-SHA-1"

step "mismatched parameters fail and write no plaintext"
rm -f mism.out
should_fail "OAEP SHA-256 ciphertext decrypted as OAEP SHA-1" \
    ossl pkeyutl -decrypt -inkey "$UK_RSA_URI" -in oaep-sha256.32.ct -out mism.out "${oaep1x[@]}"
[ ! -s mism.out ] || fail "a plaintext was written for a failed decryption"
ok "no plaintext written"
should_fail "OAEP label mismatch" \
    ossl pkeyutl -decrypt -inkey "$UK_RSA_URI" -in oaep-sha256-label.32.ct -out mism.out "${oaep256[@]}"
[ ! -s mism.out ] || fail "a plaintext was written for a failed decryption"
ok "no plaintext written"
finish
