#!/bin/bash
# openssl pkey -text -noout on a token key: public parts and the URI, never
# private parts or the PIN.
. "$(dirname "$0")/helpers.sh"

step "RSA"
run_ok "pkey -text through uakey" ossl pkey -in "$UK_RSA_URI" -text -noout
cp "$LAST_OUT" rsa.txt
expect_msg 'Modulus|modulus' "modulus shown"
expect_msg '65537' "public exponent shown"
expect_msg 'pkcs11:' "the URI is shown"
expect_msg 'object=rsa-key' "the URI names the object"
expect_no_msg 'privateExponent|prime1|prime2|exponent1|exponent2|coefficient' "no RSA private parts"
expect_no_msg "(^|[^0-9])$UK_PIN([^0-9]|\$)" "no PIN"
# The first modulus line of the host's own text dump must appear as well.
host_ossl pkey -pubin -in "$UK_RSA_PUB" -text -noout >host-rsa.txt
line=$(sed -n '/^Modulus/{n;p;}' host-rsa.txt | tr -d ' ')
[ -n "$line" ] || fail "cannot read the host's modulus line"
capture sh -c "tr -d ' ' <rsa.txt"
expect_msg "$line" "modulus bytes equal the host's ($line...)"

step "EC P-256"
run_ok "pkey -text through uakey" ossl pkey -in "$UK_EC_URI" -text -noout
expect_msg 'pub:|Public' "public point shown"
expect_msg 'prime256v1|P-256' "curve named"
expect_msg 'object=ec-key' "the URI names the object"
expect_no_msg 'priv:' "no private scalar"
expect_no_msg "(^|[^0-9])$UK_PIN([^0-9]|\$)" "no PIN"
finish
