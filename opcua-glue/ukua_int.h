/* libuakey internals shared by the opcua-glue/ files. */
#ifndef UKUA_INT_H
#define UKUA_INT_H

#include <stddef.h>
#include <sys/types.h>

#include "uakey/uakey.h"
#include "uk_debug.h"
#include "uk_err.h"

#define ukua_dbg(...) uk_dbg(UK_DBG_OPCUA, __VA_ARGS__)

/* Write |len| bytes to |path| atomically: a temporary file in the same
 * directory (mode |mode|), fsync, rename over |path|, fsync the directory.
 * On any failure the temporary file is removed and |path| is untouched;
 * the error (UK_R_IO / UK_R_PERMISSION, naming the path and strerror) is
 * raised.  Returns 1 or 0. */
int ukua_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);

/* Read a whole regular file (at most |max| bytes: larger is an error).
 * *data is malloc'd; raises UK_R_IO on failure.  Returns 1 or 0. */
int ukua_read_file(const char *path, unsigned char **data, size_t *len, size_t max);

/* mkdir -p with |mode| for the directories it creates; an existing
 * directory is left as it is.  Raises on failure. */
int ukua_mkdir_p(const char *path, mode_t mode);

/* "a/b" (malloc'd), NULL on allocation failure (raised). */
char *ukua_path_join(const char *a, const char *b);

/* Certificate DER encoding and parsing helpers (OpenSSL, DER or PEM). */
X509 *ukua_cert_from_bytes(OSSL_LIB_CTX *libctx, const unsigned char *data, size_t len);
X509_CRL *ukua_crl_from_bytes(const unsigned char *data, size_t len);

#endif
