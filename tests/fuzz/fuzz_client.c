/* libFuzzer target for the uakey OPC UA client's receive path: the chunk
 * decoder (header, security headers of a None channel, sequence numbers,
 * chunk assembly, Abort, Error messages, limits) and every service
 * response decoder.
 *
 * The input is read as a run of chunks, each cut by its own MessageSize
 * field; every message the channel assembles is handed to all response
 * decoders, and so is the whole input (seeds captured by the node-opcua
 * tests are either raw chunks, "chunk-*.bin", or assembled message bodies,
 * "msg-*.bin").  Build: make fuzz (clang, -fsanitize=fuzzer,address). */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "uabin.h"
#include "uachan.h"
#include "uamsg.h"

static void decode_all(const unsigned char *p, size_t n)
{
    UA_RBUF r;
    UA_RESPHDR h;
    UA_GETENDPOINTS_RESP ge;
    UA_OPN_RESP opn;
    UA_CREATESESSION_RESP cs;
    UA_ACTIVATESESSION_RESP as;
    UA_READ_RESP rd;
    UA_DATAVALUE dv;

    uab_r_init(&r, p, n);
    memset(&ge, 0, sizeof(ge));
    (void)uamsg_get_getendpoints(&r, &ge);
    uamsg_free_getendpoints(&ge);

    uab_r_init(&r, p, n);
    memset(&opn, 0, sizeof(opn));
    (void)uamsg_get_opensecurechannel(&r, &opn);
    uamsg_free_opensecurechannel(&opn);

    uab_r_init(&r, p, n);
    memset(&cs, 0, sizeof(cs));
    (void)uamsg_get_createsession(&r, &cs);
    uamsg_free_createsession(&cs);

    uab_r_init(&r, p, n);
    memset(&as, 0, sizeof(as));
    (void)uamsg_get_activatesession(&r, &as);
    uamsg_free_activatesession(&as);

    uab_r_init(&r, p, n);
    memset(&rd, 0, sizeof(rd));
    (void)uamsg_get_read(&r, &rd);
    uamsg_free_read(&rd);

    uab_r_init(&r, p, n);
    (void)uamsg_get_closesession(&r, &h);

    uab_r_init(&r, p, n);
    memset(&dv, 0, sizeof(dv));
    uamsg_get_datavalue(&r, &dv);
    uamsg_free_datavalue(&dv);

    uab_r_init(&r, p, n);
    uamsg_skip_variant(&r);
    uab_r_init(&r, p, n);
    uamsg_skip_diaginfo(&r);
    uab_r_init(&r, p, n);
    uamsg_skip_extobj(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    UACHAN *ch = uachan_new_offline(1);
    size_t off = 0;
    int chunks = 0;

    decode_all(data, size);
    if (ch == NULL)
        return 0;
    while (size - off >= 8 && chunks++ < 64) {
        uint32_t n = (uint32_t)data[off + 4] | (uint32_t)data[off + 5] << 8 |
                     (uint32_t)data[off + 6] << 16 | (uint32_t)data[off + 7] << 24;
        unsigned char *msg = NULL;
        size_t mlen = 0;

        if (n < 8 || n > size - off)
            n = (uint32_t)(size - off);   /* let the decoder see the lie */
        if (!uachan_feed_chunk(ch, data + off, n, &msg, &mlen)) {
            off += n;
            /* a failed channel stays failed, as on the wire: start over */
            uachan_free(ch);
            ch = uachan_new_offline(1);
            if (ch == NULL)
                return 0;
            continue;
        }
        if (msg != NULL) {
            decode_all(msg, mlen);
            free(msg);
        }
        off += n;
    }
    uachan_free(ch);
    return 0;
}
