#!/bin/bash
# Missing PKCS#11 module (URI module-path, config pkcs11-module-path,
# UAKEY_PKCS11_MODULE) and absent token: clear messages naming the cause.
. "$(dirname "$0")/helpers.sh"

step "module-path in the URI does not exist"
should_fail "URI ?module-path=/nonexistent/libnope.so" \
    ossl pkey -in "$UK_RSA_URI?module-path=/nonexistent/libnope.so" -pubout
expect_msg 'libnope\.so' "the message names the module path"
expect_msg '[Mm]odule|load' "the message says the module could not be loaded"

step "pkcs11-module-path in the config does not exist"
make_cnf badmod.cnf uakey-last p11module=/nonexistent/libgone.so
OPENSSL_CONF=$T/badmod.cnf should_fail "config pkcs11-module-path=/nonexistent/libgone.so" \
    ossl pkey -in "$UK_RSA_URI" -pubout
expect_msg 'libgone\.so' "the message names the module path"

step "UAKEY_PKCS11_MODULE used when config and URI name none"
make_cnf nomod.cnf uakey-last p11module=
UAKEY_PKCS11_MODULE=/nonexistent/libenv.so OPENSSL_CONF=$T/nomod.cnf should_fail \
    "UAKEY_PKCS11_MODULE=/nonexistent/libenv.so" ossl pkey -in "$UK_RSA_URI" -pubout
expect_msg 'libenv\.so' "the message names the module from the environment"
UAKEY_PKCS11_MODULE=$UK_MODULE OPENSSL_CONF=$T/nomod.cnf run_ok \
    "UAKEY_PKCS11_MODULE=$UK_MODULE works" ossl pkey -in "$UK_RSA_URI" -pubout -out env.pub
same_bytes "$UK_RSA_PUB" env.pub "right key through the environment's module"
OPENSSL_CONF=$T/nomod.cnf run_ok "URI module-path works without any config path" \
    ossl pkey -in "$UK_RSA_URI?module-path=$UK_MODULE" -pubout -out uri.pub
same_bytes "$UK_RSA_PUB" uri.pub "right key through the URI's module-path"

step "token absent"
should_fail "token=no-such-token" ossl pkey -in "pkcs11:token=no-such-token;object=rsa-key;type=private" -pubout
expect_msg '[Tt]oken' "the message is about the token"
expect_msg '[Nn]ot (found|present)|[Nn]o (matching )?token|absent' "says the token is not there"
finish
