#!/bin/sh
# uakey tests: write an openssl.cnf that activates the default provider and
# uakey.
#
#   write-cnf.sh OUT ORDER [key=value ...]
#
# ORDER: uakey-last  (default provider first, then uakey)
#        uakey-first (uakey first, then default)
#        uakey-only  (no default provider section; for negative tests)
# key=value pairs, all optional:
#   module=PATH      "module = PATH" (omitted when empty: OpenSSL then finds
#                    uakey.so through OPENSSL_MODULES or its modules dir)
#   p11module=PATH   pkcs11-module-path (omitted when empty)
#   pin=VALUE        pkcs11-module-token-pin (omitted when empty)
#   oaep=yes|no      pkcs11-oaep-fallback (omitted when empty)
#   sessions=N       pkcs11-max-sessions (omitted when empty)
# Defaults come from the environment: UK_PROVIDER_MODULE, UK_MODULE, UK_PIN.
set -eu

out=$1
order=$2
shift 2

module=${UK_PROVIDER_MODULE-}
p11module=${UK_MODULE-}
pin=${UK_PIN-}
oaep=
sessions=
for kv in "$@"; do
    case $kv in
    module=*) module=${kv#module=} ;;
    p11module=*) p11module=${kv#p11module=} ;;
    pin=*) pin=${kv#pin=} ;;
    oaep=*) oaep=${kv#oaep=} ;;
    sessions=*) sessions=${kv#sessions=} ;;
    *) echo "write-cnf.sh: unknown setting '$kv'" >&2; exit 2 ;;
    esac
done

uakey_section() {
    echo "[uakey_sect]"
    [ -n "$module" ] && echo "module = $module"
    [ -n "$p11module" ] && echo "pkcs11-module-path = $p11module"
    [ -n "$pin" ] && echo "pkcs11-module-token-pin = $pin"
    [ -n "$oaep" ] && echo "pkcs11-oaep-fallback = $oaep"
    [ -n "$sessions" ] && echo "pkcs11-max-sessions = $sessions"
    echo "activate = 1"
    echo
}

{
    echo "# written by tests/write-cnf.sh ($order)"
    echo "openssl_conf = openssl_init"
    echo
    echo "[openssl_init]"
    echo "providers = provider_sect"
    echo
    echo "[provider_sect]"
    case $order in
    uakey-last) printf 'default = default_sect\nuakey = uakey_sect\n' ;;
    uakey-first) printf 'uakey = uakey_sect\ndefault = default_sect\n' ;;
    uakey-only) printf 'uakey = uakey_sect\n' ;;
    *) echo "write-cnf.sh: unknown order '$order'" >&2; exit 2 ;;
    esac
    echo
    if [ "$order" != uakey-only ]; then
        printf '[default_sect]\nactivate = 1\n\n'
    fi
    uakey_section
} >"$out.tmp"
mv "$out.tmp" "$out"
