#!/bin/bash
# Garbage in key-reference files: no crash, a failure, nothing written.
. "$(dirname "$0")/helpers.sh"

bad() { # desc file [pkey options]
    local desc=$1 f=$2
    shift 2
    rm -f out.pub
    should_fail "$desc" ossl pkey -in "$f" -pubout -out out.pub "$@"
    expect_no_msg 'Segmentation|core dumped|Aborted|AddressSanitizer' "$desc: no crash"
    [ ! -s out.pub ] || fail "$desc: output written"
    ok "$desc: nothing written"
}

head -c 200 /dev/urandom >rand.bin
pem_wrap rand.bin "PKCS#11 PROVIDER URI" >rand.pem
bad "random bytes under the PEM label" rand.pem
make_ref badver.pem "$UK_RSA_URI" "PKCS#11 Provider URI v9.9"
bad "wrong version string" badver.pem
make_ref badtype.pem "$UK_RSA_URI" "PKCS#11 Provider URI v1.0" IA5STRING
bad "URI as IA5String" badtype.pem
make_ref notp11.pem "file:/etc/passwd"
bad "non-pkcs11 URI" notp11.pem
make_ref nokey.pem "$UK_BASEURI;object=nothing-here;type=private"
bad "well-formed reference to nothing" nokey.pem
make_ref good.pem "$UK_RSA_URI"
head -c $(( $(wc -c <good.der) - 5 )) good.der >trunc.der
pem_wrap trunc.der "PKCS#11 PROVIDER URI" >trunc.pem
bad "truncated DER under the PEM label" trunc.pem
bad "truncated DER (-inform DER)" trunc.der -inform DER
cat good.der good.der >twice.der
pem_wrap twice.der "PKCS#11 PROVIDER URI" >twice.pem
bad "trailing bytes" twice.pem
sed '2s/^..../!!!!/' good.pem >badb64.pem
bad "broken base64" badb64.pem
: >empty.pem
bad "empty file" empty.pem
printf -- '-----BEGIN PKCS#11 PROVIDER URI-----\n' >header.pem
bad "PEM header only" header.pem

step "the good one, for contrast"
run_ok "well-formed reference" ossl pkey -in good.pem -pubout -out good.pub
same_bytes "$UK_RSA_PUB" good.pub "good reference gives rsa-key"
finish
