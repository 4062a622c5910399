#!/bin/bash
# Bad URIs: malformed, unknown attribute, wrong scheme parts.  No crash, a
# clear message from uakey, nothing written.
. "$(dirname "$0")/helpers.sh"

bad() { # desc uri message-ERE
    rm -f out.pub
    should_fail "$1" ossl pkey -in "$2" -pubout -out out.pub
    expect_msg "$3" "$1: message matches /$3/"
    [ ! -s out.pub ] || fail "$1: output written"
    ok "$1: nothing written"
}
step "malformed"
bad "bad percent escape" "pkcs11:token=uakey-test;object=%zz" '[Uu][Rr][Ii]'
bad "truncated percent escape" "pkcs11:token=uakey-test;id=%0" '[Uu][Rr][Ii]'
bad "stray separator in the path" "pkcs11:token=uakey-test;;=x" '[Uu][Rr][Ii]'
step "unknown attribute"
bad "unknown path attribute" "pkcs11:token=uakey-test;colour=blue;object=rsa-key" '[Uu]nknown|[Uu]nrecogni|colour'
bad "unknown type value" "pkcs11:token=uakey-test;object=rsa-key;type=banana" '[Uu][Rr][Ii]|type|banana'
step "the messages name uakey"
should_fail "malformed URI once more" ossl pkey -in "pkcs11:token=uakey-test;object=%zz" -pubout
expect_msg 'uakey' "error entry from the uakey library"
expect_no_msg 'Segmentation|core dumped|Aborted' "no crash"
finish
