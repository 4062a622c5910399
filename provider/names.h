/* uakey: algorithm names, "PRIMARY:alias:OID" as OpenSSL spells them. */
#ifndef UKPROV_NAMES_H
#define UKPROV_NAMES_H

#define UKPROV_NAMES_RSA "RSA:rsaEncryption:1.2.840.113549.1.1.1"
#define UKPROV_NAMES_RSA_PSS "RSA-PSS:RSASSA-PSS:1.2.840.113549.1.1.10"
#define UKPROV_NAMES_EC "EC:id-ecPublicKey:1.2.840.10045.2.1"
#define UKPROV_NAMES_ED25519 "ED25519:1.3.101.112"
#define UKPROV_NAMES_ECDSA "ECDSA"
#define UKPROV_NAMES_ECDH "ECDH"

#endif
