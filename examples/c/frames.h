/*
 * Length-prefixed framing shared by the example producer and consumer: each record is
 * a 4-byte big-endian length followed by that many bytes (one envelope).
 */
#ifndef MQSEAL_EXAMPLE_FRAMES_H
#define MQSEAL_EXAMPLE_FRAMES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Largest frame the consumer accepts: 64 MiB of body plus envelope overhead. */
#define FRAME_MAX ((uint32_t)(64u * 1024u * 1024u + 64u * 1024u))

/* Writes one frame; returns 0 on success. */
static inline int frame_write(FILE *f, const uint8_t *data, size_t len) {
    if (len > FRAME_MAX) {
        return -1;
    }
    uint8_t head[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                       (uint8_t)len};
    if (fwrite(head, 1, 4, f) != 4 || (len > 0 && fwrite(data, 1, len, f) != len)) {
        return -1;
    }
    return 0;
}

/*
 * Reads one frame into *buf (grown with realloc as needed, capacity in *cap).
 * Returns 1 with *len set, 0 at a clean end of input, -1 on a short or oversized frame.
 */
static inline int frame_read(FILE *f, uint8_t **buf, size_t *cap, size_t *len) {
    uint8_t head[4];
    size_t got = fread(head, 1, 4, f);
    if (got == 0 && feof(f)) {
        return 0;
    }
    if (got != 4) {
        return -1;
    }
    uint32_t n = ((uint32_t)head[0] << 24) | ((uint32_t)head[1] << 16) |
                 ((uint32_t)head[2] << 8) | (uint32_t)head[3];
    if (n > FRAME_MAX) {
        return -1;
    }
    if (n > *cap) {
        uint8_t *grown = realloc(*buf, n);
        if (grown == NULL) {
            return -1;
        }
        *buf = grown;
        *cap = n;
    }
    if (n > 0 && fread(*buf, 1, n, f) != n) {
        return -1;
    }
    *len = n;
    return 1;
}

#endif /* MQSEAL_EXAMPLE_FRAMES_H */
