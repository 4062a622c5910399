#!/bin/bash
# No matching object; several matches where exactly one is needed.
. "$(dirname "$0")/helpers.sh"

step "no matching object"
rm -f out.pub
should_fail "object that does not exist" ossl pkey -in "$UK_BASEURI;object=no-such-key;type=private" -pubout -out out.pub
expect_msg '[Nn]ot found|[Nn]o (matching )?(object|key)|[Nn]o such|[Cc]ould not (find|read)' "says nothing was found"
[ ! -s out.pub ] || fail "output written"
ok "nothing written"
should_fail "id that does not exist" ossl pkey -in "$UK_BASEURI;id=%7f;type=private" -pubout
expect_msg '[Nn]ot found|[Nn]o (matching )?(object|key)|[Nn]o such|[Cc]ould not (find|read)' "says nothing was found"
should_fail "certificate that does not exist" ossl x509 -in "$UK_BASEURI;object=bp256-key;type=cert" -noout
expect_msg '[Nn]ot found|[Nn]o (matching )?(object|cert)|[Nn]o such|[Cc]ould not (find|read)|[Uu]nable to load' "says nothing was found"

step "several matches where one is needed"
several='several|multiple|more than one|ambiguous|[0-9]+ (keys|objects|tokens) match'
# genpkey needs exactly one token: "manufacturer=SoftHSM project" matches
# both the test token and the Ed25519 token (when setup made it).
if [ -n "${UK_ED_URI-}" ]; then
    rm -f several.ref
    should_fail "genpkey into a URI that matches two tokens" ossl genpkey -propquery provider=uakey \
        -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -pkeyopt "pkcs11_uri:pkcs11:manufacturer=SoftHSM%20project;object=two-tokens" -out several.ref
    expect_msg "$several" "genpkey: says several tokens match"
    [ ! -s several.ref ] || fail "a key reference was written"
    ok "nothing written"
fi
# A key-reference file must name exactly one key.
make_ref several.pem "$UK_BASEURI;type=private"
should_fail "key-reference file matching every private key" ossl pkey -in several.pem -pubout -out several.pub
expect_msg "$several" "key reference: says several keys match"
[ ! -s several.pub ] || fail "output written"
ok "nothing written"
finish
