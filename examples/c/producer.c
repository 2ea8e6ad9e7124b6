/*
 * Example producer: encrypts N message bodies with mqseal and writes the envelopes in a
 * length-prefixed framing (frames.h) to a file or standard output.
 *
 *   producer KEYRING TOPIC COUNT [OUT|-]
 *
 * KEYRING is a local keyring file; it is created with a key named "example" when it does
 * not exist. Every body is bound to the context topic=TOPIC, and carries the sealed
 * property seq=<index>. The consumer example reads the output back.
 */
#define _POSIX_C_SOURCE 200809L

#include <mqseal.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frames.h"

#define KEY_NAME "example"

/* Prints the failed call with mqseal's message for this thread and returns 1. */
static int fail(const char *what, int32_t status) {
    char msg[512];
    mqseal_last_error_message(msg, sizeof msg, NULL);
    fprintf(stderr, "producer: %s failed: %s (%d): %s\n", what, mqseal_error_name(status),
            (int)status, msg);
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: %s KEYRING TOPIC COUNT [OUT|-]\n", argv[0]);
        return 2;
    }
    const char *keyring = argv[1];
    const char *topic = argv[2];
    char *end = NULL;
    errno = 0;
    long count = strtol(argv[3], &end, 10);
    if (errno != 0 || *end != '\0' || count < 0 || count > 1000000) {
        fprintf(stderr, "producer: COUNT must be 0 to 1000000\n");
        return 2;
    }
    const char *out_path = argc == 5 ? argv[4] : "-";

    if (strcmp(mqseal_version(), MQSEAL_VERSION) != 0) {
        fprintf(stderr, "producer: built against mqseal %s but running %s\n", MQSEAL_VERSION,
                mqseal_version());
        return 1;
    }

    int32_t st;
    if (access(keyring, F_OK) != 0) {
        uint32_t version = 0;
        if ((st = mqseal_keyring_generate(keyring, KEY_NAME, &version)) != MQSEAL_OK) {
            return fail("mqseal_keyring_generate", st);
        }
        fprintf(stderr, "producer: created keyring %s with key %s v%u\n", keyring, KEY_NAME,
                (unsigned)version);
    }

    /* A producer cipher: keyring provider, one key-encryption key. */
    mqseal_cipher_options options;
    mqseal_cipher_options_init(&options);
    options.keyring_path = keyring;
    options.key_ids = KEY_NAME;
    mqseal_cipher *cipher = NULL;
    if ((st = mqseal_cipher_new(&options, &cipher)) != MQSEAL_OK) {
        return fail("mqseal_cipher_new", st);
    }

    mqseal_attributes *context = NULL;
    mqseal_attributes *props = NULL;
    int rc = 1;
    FILE *out = NULL;
    if ((st = mqseal_attributes_new(&context)) != MQSEAL_OK ||
        (st = mqseal_attributes_set(context, "topic", topic)) != MQSEAL_OK ||
        (st = mqseal_attributes_new(&props)) != MQSEAL_OK) {
        fail("building the context", st);
        goto done;
    }

    out = strcmp(out_path, "-") == 0 ? stdout : fopen(out_path, "wb");
    if (out == NULL) {
        perror(out_path);
        goto done;
    }

    for (long i = 0; i < count; i++) {
        char body[256];
        int body_len = snprintf(body, sizeof body,
                                "{\"seq\":%ld,\"topic\":\"%s\",\"payload\":\"order #%ld\"}", i,
                                topic, i * 7919);
        if (body_len < 0 || (size_t)body_len >= sizeof body) {
            fprintf(stderr, "producer: body too long\n");
            goto done;
        }
        char seq[32];
        snprintf(seq, sizeof seq, "%ld", i);
        if ((st = mqseal_attributes_set(props, "seq", seq)) != MQSEAL_OK) {
            fail("mqseal_attributes_set", st);
            goto done;
        }
        /* The allocating variant: mqseal sizes the envelope; free it with mqseal_buffer_free. */
        mqseal_buffer *envelope = NULL;
        st = mqseal_cipher_encrypt(cipher, (const uint8_t *)body, (size_t)body_len, context, props,
                                   &envelope);
        if (st != MQSEAL_OK) {
            fail("mqseal_cipher_encrypt", st);
            goto done;
        }
        int w = frame_write(out, mqseal_buffer_data(envelope), mqseal_buffer_len(envelope));
        mqseal_buffer_free(envelope);
        if (w != 0) {
            perror("producer: write");
            goto done;
        }
    }
    if (fflush(out) != 0) {
        perror("producer: flush");
        goto done;
    }

    mqseal_counters counters;
    if ((st = mqseal_cipher_counters(cipher, &counters)) != MQSEAL_OK) {
        fail("mqseal_cipher_counters", st);
        goto done;
    }
    fprintf(stderr, "producer: encrypted %llu messages for topic %s with %llu data key(s)\n",
            (unsigned long long)counters.encrypted, topic,
            (unsigned long long)counters.data_keys_created);
    rc = 0;

done:
    if (out != NULL && out != stdout && fclose(out) != 0) {
        rc = 1;
    }
    mqseal_attributes_free(props);
    mqseal_attributes_free(context);
    mqseal_cipher_free(cipher);
    return rc;
}
