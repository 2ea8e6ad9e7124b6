/*
 * Example consumer: reads the envelopes written by the producer example, decrypts them
 * with the same context, verifies each body, and prints the counts.
 *
 *   consumer KEYRING TOPIC [IN|-] [EXPECTED_COUNT]
 *
 * Exits 0 only when every message decrypted and verified (and, when EXPECTED_COUNT is
 * given, when exactly that many were read).
 */
#define _POSIX_C_SOURCE 200809L

#include <mqseal.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frames.h"

static void report(const char *what, int32_t status) {
    char msg[512];
    mqseal_last_error_message(msg, sizeof msg, NULL);
    fprintf(stderr, "consumer: %s failed: %s (%d)%s: %s\n", what, mqseal_error_name(status),
            (int)status, mqseal_error_is_retryable(status) ? " [retryable]" : "", msg);
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: %s KEYRING TOPIC [IN|-] [EXPECTED_COUNT]\n", argv[0]);
        return 2;
    }
    const char *keyring = argv[1];
    const char *topic = argv[2];
    const char *in_path = argc >= 4 ? argv[3] : "-";
    long expected = -1;
    if (argc == 5) {
        char *end = NULL;
        errno = 0;
        expected = strtol(argv[4], &end, 10);
        if (errno != 0 || *end != '\0' || expected < 0) {
            fprintf(stderr, "consumer: EXPECTED_COUNT must be a non-negative number\n");
            return 2;
        }
    }

    /* A decrypt-only cipher from configuration text: no key_id is needed to decrypt. */
    char config[4096];
    int n = snprintf(config, sizeof config, "provider = keyring\nkeyring.path = %s\n", keyring);
    if (n < 0 || (size_t)n >= sizeof config) {
        fprintf(stderr, "consumer: keyring path too long\n");
        return 2;
    }
    mqseal_cipher *cipher = NULL;
    int32_t st = mqseal_cipher_new_from_config(config, NULL, &cipher);
    if (st != MQSEAL_OK) {
        report("mqseal_cipher_new_from_config", st);
        return 1;
    }

    mqseal_attributes *context = NULL;
    if ((st = mqseal_attributes_new(&context)) != MQSEAL_OK ||
        (st = mqseal_attributes_set(context, "topic", topic)) != MQSEAL_OK) {
        report("building the context", st);
        mqseal_attributes_free(context);
        mqseal_cipher_free(cipher);
        return 1;
    }

    FILE *in = strcmp(in_path, "-") == 0 ? stdin : fopen(in_path, "rb");
    if (in == NULL) {
        perror(in_path);
        mqseal_attributes_free(context);
        mqseal_cipher_free(cipher);
        return 1;
    }

    uint8_t *frame = NULL;
    size_t frame_cap = 0;
    size_t frame_len = 0;
    /* One body buffer reused for every message, grown when mqseal reports the size. */
    uint8_t *body = NULL;
    size_t body_cap = 0;
    long read_count = 0;
    long ok = 0;
    long failed = 0;
    int r;
    while ((r = frame_read(in, &frame, &frame_cap, &frame_len)) == 1) {
        read_count++;
        size_t body_len = 0;
        mqseal_attributes *props = NULL;
        mqseal_decrypt_info info;
        st = mqseal_cipher_decrypt_into(cipher, frame, frame_len, context, body, body_cap,
                                        &body_len, &props, &info);
        if (st == MQSEAL_BUFFER_TOO_SMALL) {
            /* body_len holds the required size: the one out-param written on failure. */
            uint8_t *grown = realloc(body, body_len);
            if (grown == NULL) {
                fprintf(stderr, "consumer: out of memory\n");
                failed++;
                break;
            }
            body = grown;
            body_cap = body_len;
            st = mqseal_cipher_decrypt_into(cipher, frame, frame_len, context, body, body_cap,
                                            &body_len, &props, &info);
        }
        if (st != MQSEAL_OK) {
            report("mqseal_cipher_decrypt_into", st);
            failed++;
            continue;
        }
        /* Verify: the sealed property seq names the body the producer wrote. */
        const char *seq = NULL;
        int verified = 0;
        if (mqseal_attributes_get(props, "seq", &seq, NULL) == MQSEAL_OK && seq != NULL) {
            long i = strtol(seq, NULL, 10);
            char expect[256];
            int expect_len = snprintf(expect, sizeof expect,
                                      "{\"seq\":%ld,\"topic\":\"%s\",\"payload\":\"order #%ld\"}",
                                      i, topic, i * 7919);
            verified = expect_len > 0 && (size_t)expect_len == body_len &&
                       memcmp(expect, body, body_len) == 0 && i == read_count - 1;
        }
        mqseal_attributes_free(props);
        if (verified) {
            ok++;
        } else {
            fprintf(stderr, "consumer: message %ld does not match what the producer sent\n",
                    read_count - 1);
            failed++;
        }
        if (read_count == 1) {
            fprintf(stderr, "consumer: first message: %s, key %s v%u\n",
                    mqseal_suite_name(info.suite), info.key_id, (unsigned)info.key_version);
        }
    }
    if (r < 0) {
        fprintf(stderr, "consumer: input ends inside a frame\n");
        failed++;
    }

    mqseal_counters counters;
    if (mqseal_cipher_counters(cipher, &counters) == MQSEAL_OK) {
        fprintf(stderr, "consumer: %llu data key(s) unwrapped\n",
                (unsigned long long)counters.cache_misses);
    }
    printf("consumer: read %ld, decrypted %ld, failed %ld\n", read_count, ok, failed);

    if (in != stdin) {
        fclose(in);
    }
    free(body);
    free(frame);
    mqseal_attributes_free(context);
    mqseal_cipher_free(cipher);
    if (failed != 0 || (expected >= 0 && read_count != expected)) {
        if (expected >= 0 && read_count != expected) {
            fprintf(stderr, "consumer: expected %ld messages, read %ld\n", expected, read_count);
        }
        return 1;
    }
    return 0;
}
