/*
 * The C leg of the interop matrix (scripts/test-interop.sh): encrypts and decrypts
 * RocketMQ message bodies through the mqseal C ABI. There is no RocketMQ client for C in
 * this repository, so a plain RocketMQ client without mqseal carries the bytes: this
 * program only reads and writes files of records, each a 4-byte big-endian length
 * followed by that many bytes.
 *
 *   mqseal_interop encrypt KEYRING KEY_ID SUITE COMPRESSION TOPIC IN OUT
 *       IN holds plaintext bodies. For each one OUT gets two records: the envelope, and
 *       the metadata properties a carrier sets on the message, as "name=value" lines
 *       (MQSEAL_PROPERTY_*). COMPRESSION is "on" or "off"; the context is {topic: TOPIC}.
 *
 *   mqseal_interop decrypt KEYRING IN OUT
 *       IN holds pairs of records: the topic a message was received on, and its body.
 *       For each pair OUT gets two records: a result line and the decrypted body (empty
 *       on failure). The result line is "status=NAME suite=S compressed=0|1
 *       header_suite=S header_compressed=0|1", the header fields from
 *       mqseal_envelope_inspect.
 *
 * Exits 0 when every record was processed (decryption failures are reported per
 * record), 1 on a setup or I/O error, 2 on bad usage.
 */
#include <mqseal.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void report(const char *what, int32_t status) {
    char message[512] = "";
    mqseal_last_error_message(message, sizeof message, NULL);
    fprintf(stderr, "mqseal_interop: %s failed: %s (%d): %s\n", what, mqseal_error_name(status),
            (int)status, message);
}

/* Reads one record into a new allocation; returns 1, 0 at a clean end of file, -1 on error. */
static int read_record(FILE *in, uint8_t **data, size_t *len) {
    uint8_t header[4];
    size_t got = fread(header, 1, sizeof header, in);
    if (got == 0 && feof(in)) {
        return 0;
    }
    if (got != sizeof header) {
        fprintf(stderr, "mqseal_interop: truncated record length\n");
        return -1;
    }
    *len = (size_t)header[0] << 24 | (size_t)header[1] << 16 | (size_t)header[2] << 8 |
           (size_t)header[3];
    *data = malloc(*len + 1);
    if (*data == NULL) {
        fprintf(stderr, "mqseal_interop: out of memory for a %zu-byte record\n", *len);
        return -1;
    }
    if (fread(*data, 1, *len, in) != *len) {
        fprintf(stderr, "mqseal_interop: truncated record of %zu bytes\n", *len);
        free(*data);
        *data = NULL;
        return -1;
    }
    (*data)[*len] = '\0';
    return 1;
}

static int write_record(FILE *out, const void *data, size_t len) {
    uint8_t header[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                         (uint8_t)len};
    return fwrite(header, 1, sizeof header, out) == sizeof header &&
           (len == 0 || fwrite(data, 1, len, out) == len);
}

static mqseal_attributes *topic_context(const char *topic) {
    mqseal_attributes *context = NULL;
    int32_t status = mqseal_attributes_new(&context);
    if (status == MQSEAL_OK) {
        status = mqseal_attributes_set(context, MQSEAL_CONTEXT_TOPIC, topic);
    }
    if (status != MQSEAL_OK) {
        report("building the context", status);
        mqseal_attributes_free(context);
        return NULL;
    }
    return context;
}

static int encrypt_all(const char *keyring, const char *key_id, const char *suite,
                       const char *compression, const char *topic, FILE *in, FILE *out) {
    if (strcmp(compression, "on") != 0 && strcmp(compression, "off") != 0) {
        fprintf(stderr, "mqseal_interop: COMPRESSION must be on or off, not '%s'\n",
                compression);
        return 2;
    }
    char config[1024];
    /* compression.min_size stays at the core's default (1024 bytes). */
    snprintf(config, sizeof config,
             "provider = keyring\nkeyring.path = %s\nkey_id = %s\nsuite = %s\ncompression = %s\n",
             keyring, key_id, suite, strcmp(compression, "on") == 0 ? "lz4" : "none");
    mqseal_cipher *cipher = NULL;
    int32_t status = mqseal_cipher_new_from_config(config, NULL, &cipher);
    if (status != MQSEAL_OK) {
        report("creating the cipher", status);
        return 1;
    }
    mqseal_attributes *context = topic_context(topic);
    int result = context == NULL ? 1 : 0;
    uint8_t *body = NULL;
    size_t body_len = 0;
    int more;
    while (result == 0 && (more = read_record(in, &body, &body_len)) != 0) {
        if (more < 0) {
            result = 1;
            break;
        }
        mqseal_buffer *envelope = NULL;
        status = mqseal_cipher_encrypt(cipher, body, body_len, context, NULL, &envelope);
        free(body);
        body = NULL;
        mqseal_envelope_info info;
        if (status == MQSEAL_OK) {
            status = mqseal_envelope_inspect(mqseal_buffer_data(envelope),
                                             mqseal_buffer_len(envelope), &info, NULL);
        }
        if (status != MQSEAL_OK) {
            report("encryption", status);
            mqseal_buffer_free(envelope);
            result = 1;
            break;
        }
        char properties[1024];
        int written = snprintf(properties, sizeof properties,
                               "%s=%u\n%s=%s\n%s=%s\n%s=%u\n%s=%s\n", MQSEAL_PROPERTY_VERSION,
                               info.version, MQSEAL_PROPERTY_SUITE, mqseal_suite_name(info.suite),
                               MQSEAL_PROPERTY_KEY_ID, info.keys[0].key_id,
                               MQSEAL_PROPERTY_KEY_VERSION, info.keys[0].key_version,
                               MQSEAL_PROPERTY_TOPIC, topic);
        if (!write_record(out, mqseal_buffer_data(envelope), mqseal_buffer_len(envelope)) ||
            !write_record(out, properties, (size_t)written)) {
            perror("mqseal_interop: writing the output");
            result = 1;
        }
        mqseal_buffer_free(envelope);
    }
    mqseal_attributes_free(context);
    mqseal_cipher_free(cipher);
    return result;
}

static int decrypt_all(const char *keyring, FILE *in, FILE *out) {
    mqseal_cipher_options options;
    mqseal_cipher_options_init(&options);
    options.keyring_path = keyring;
    mqseal_cipher *cipher = NULL;
    int32_t status = mqseal_cipher_new(&options, &cipher);
    if (status != MQSEAL_OK) {
        report("creating the cipher", status);
        return 1;
    }
    int result = 0;
    uint8_t *topic = NULL, *envelope = NULL;
    size_t topic_len = 0, envelope_len = 0;
    int more;
    while ((more = read_record(in, &topic, &topic_len)) != 0) {
        if (more < 0 || read_record(in, &envelope, &envelope_len) <= 0) {
            fprintf(stderr, "mqseal_interop: the input ends inside a (topic, body) pair\n");
            free(topic);
            result = 1;
            break;
        }
        mqseal_attributes *context = topic_context((const char *)topic);
        mqseal_buffer *body = NULL;
        mqseal_decrypt_info info;
        memset(&info, 0, sizeof info);
        status = context == NULL ? MQSEAL_INTERNAL
                                 : mqseal_cipher_decrypt(cipher, envelope, envelope_len, context,
                                                         &body, NULL, &info);
        mqseal_envelope_info header;
        memset(&header, 0, sizeof header);
        int32_t header_status = mqseal_envelope_inspect(envelope, envelope_len, &header, NULL);
        char line[512];
        int written = snprintf(
            line, sizeof line,
            "status=%s suite=%s compressed=%d header_suite=%s header_compressed=%d",
            mqseal_error_name(status),
            status == MQSEAL_OK ? mqseal_suite_name(info.suite) : "none",
            status == MQSEAL_OK && info.compressed,
            header_status == MQSEAL_OK ? mqseal_suite_name(header.suite) : "none",
            header_status == MQSEAL_OK && header.compressed);
        int ok = write_record(out, line, (size_t)written) &&
                 write_record(out, status == MQSEAL_OK ? mqseal_buffer_data(body) : NULL,
                              status == MQSEAL_OK ? mqseal_buffer_len(body) : 0);
        mqseal_buffer_free(body);
        mqseal_attributes_free(context);
        free(topic);
        free(envelope);
        topic = envelope = NULL;
        if (!ok) {
            perror("mqseal_interop: writing the output");
            result = 1;
            break;
        }
    }
    mqseal_cipher_free(cipher);
    return result;
}

static FILE *open_file(const char *path, const char *mode) {
    FILE *file = fopen(path, mode);
    if (file == NULL) {
        fprintf(stderr, "mqseal_interop: cannot open %s: ", path);
        perror(NULL);
    }
    return file;
}

int main(int argc, char **argv) {
    const char *usage =
        "usage: mqseal_interop encrypt KEYRING KEY_ID SUITE on|off TOPIC IN OUT\n"
        "       mqseal_interop decrypt KEYRING IN OUT\n";
    int encrypt = argc == 9 && strcmp(argv[1], "encrypt") == 0;
    int decrypt = argc == 5 && strcmp(argv[1], "decrypt") == 0;
    if (!encrypt && !decrypt) {
        fputs(usage, stderr);
        return 2;
    }
    FILE *in = open_file(argv[argc - 2], "rb");
    FILE *out = in == NULL ? NULL : open_file(argv[argc - 1], "wb");
    int result = 1;
    if (out != NULL) {
        result = encrypt ? encrypt_all(argv[2], argv[3], argv[4], argv[5], argv[6], in, out)
                         : decrypt_all(argv[2], in, out);
    }
    if (out != NULL && fclose(out) != 0) {
        perror("mqseal_interop: closing the output");
        result = 1;
    }
    if (in != NULL) {
        fclose(in);
    }
    return result;
}
