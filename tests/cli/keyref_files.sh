#!/bin/bash
# Key-reference files (PEM "PKCS#11 PROVIDER URI", DER SEQUENCE {
# VisibleString version, UTF8String uri }): written by uakey for a token key
# (PEM_write_bio_PrivateKey / i2d_PrivateKey), read back by `openssl pkey
# -in ref.pem`, DER too; files built by the host's own ASN.1 generator (as
# pkcs11-provider writes them) work; no PIN ends up in a file.
. "$(dirname "$0")/helpers.sh"

step "uakey writes a reference for a token key"
run_ok "pkey -in URI -out rsa.ref.pem" ossl pkey -in "$UK_RSA_URI" -out rsa.ref.pem
capture cat rsa.ref.pem
expect_msg '^-----BEGIN PKCS#11 PROVIDER URI-----$' "PEM label PKCS#11 PROVIDER URI"
expect_no_msg 'PRIVATE KEY' "no private key block"
run_ok "host parses the DER body" host_ossl asn1parse -in rsa.ref.pem
expect_msg 'VISIBLESTRING +:PKCS#11 Provider URI v1.0' "version string"
expect_msg 'UTF8STRING +:pkcs11:' "UTF8String URI"
expect_msg 'object=rsa-key' "URI names the object"
expect_no_msg 'pin-value|pin-source' "no PIN attribute in the file"
expect_no_msg "(^|[^0-9])$UK_PIN([^0-9]|\$)" "no PIN in the file"

step "the reference reads back as the same token key"
run_ok "pkey -in rsa.ref.pem -pubout" ossl pkey -in rsa.ref.pem -pubout -out rsa.ref.pub
same_bytes "$UK_RSA_PUB" rsa.ref.pub "same public key"
run_ok "pkey -in rsa.ref.pem -out again.pem (reference of a reference)" ossl pkey -in rsa.ref.pem -out again.pem
same_bytes rsa.ref.pem again.pem "round trip gives the same file"
printf 'via a reference file\n' >msg
host_digest sha256 msg msg.sha256
run_ok "sign with -inkey rsa.ref.pem" ossl pkeyutl -sign -inkey rsa.ref.pem -in msg.sha256 \
    -out ref.sig -pkeyopt digest:sha256
verify_both "signature via reference file" "$UK_RSA_URI" "$UK_RSA_PUB" msg.sha256 ref.sig -pkeyopt digest:sha256

step "DER references (i2d_PrivateKey / d2i_PrivateKey)"
run_ok "pkey -outform DER" ossl pkey -in "$UK_RSA_URI" -outform DER -out rsa.ref.der
host_ossl asn1parse -in rsa.ref.pem -out want.der -noout || fail "cannot take the DER out of rsa.ref.pem"
same_bytes want.der rsa.ref.der "DER output is the PEM body"
run_ok "pkey -inform DER -in rsa.ref.der -pubout" ossl pkey -inform DER -in rsa.ref.der -pubout -out der.pub
same_bytes "$UK_RSA_PUB" der.pub "DER reference gives the same key"

step "references made without uakey (pkcs11-provider layout)"
make_ref ec.hand.pem "$UK_EC_URI"
run_ok "pkey -in hand-made EC reference" ossl pkey -in ec.hand.pem -pubout -out ec.hand.pub
same_bytes "$UK_EC_PUB" ec.hand.pub "hand-made EC reference gives ec-key"
run_ok "hand-made DER reference" ossl pkey -inform DER -in ec.hand.der -pubout -out ec.hand.der.pub
same_bytes "$UK_EC_PUB" ec.hand.der.pub "hand-made DER reference gives ec-key"
long="$UK_BASEURI;model=SoftHSM%20v2;manufacturer=SoftHSM%20project;object=rsa-key;type=private;id=%01"
make_ref long.pem "$long"
[ "$(wc -c <long.der)" -gt 130 ] || fail "long reference is not long"
run_ok "reference with a URI > 127 bytes" ossl pkey -in long.pem -pubout -out long.pub
same_bytes "$UK_RSA_PUB" long.pub "long reference gives rsa-key"

step "genpkey output round trip"
run_ok "genpkey in the token" ossl genpkey -propquery provider=uakey -algorithm EC \
    -pkeyopt ec_paramgen_curve:P-256 -pkeyopt "pkcs11_uri:$UK_BASEURI;object=ref-rt" -out gen.ref.pem
run_ok "pkey -in gen.ref.pem -out gen2.ref.pem" ossl pkey -in gen.ref.pem -out gen2.ref.pem
run_ok "both read back" ossl pkey -in gen2.ref.pem -pubout -out gen2.pub
run_ok "the URI reads back" ossl pkey -in "$UK_BASEURI;object=ref-rt;type=private" -pubout -out gen.pub
same_bytes gen.pub gen2.pub "reference round trip keeps the key"
finish
