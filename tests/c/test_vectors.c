/*
 * The known-answer vectors of tests/vectors/v1.json through the C ABI: every positive
 * vector decrypts with the vectors' keyring and is reproduced byte for byte by
 * encryption, and every negative vector fails with its listed status.
 *
 * Reproduction uses the public callback provider: its generate callback hands out the
 * vector's fixed data key and wrapped key, so the normal encrypt path seals the body.
 * The input is the line format of tests/c/flatten_vectors.py (C has no JSON parser).
 * Also checks that the MQSEAL_PROPERTY_* macros use the prefix the core defines.
 *
 * Usage: test_vectors FLAT_VECTORS SCRATCH_DIR
 * Prints "N passed, M failed" and exits non-zero when anything failed.
 */
#define _GNU_SOURCE /* getline */

#include <mqseal.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int g_passed;
static int g_failed;

/* Counts one check; on failure prints it, and the last mqseal error for status checks. */
static void check_at(int ok, const char *vector, int line, const char *what, int is_status) {
    if (ok) {
        g_passed++;
        return;
    }
    g_failed++;
    char message[512] = "";
    if (is_status) {
        mqseal_last_error_message(message, sizeof message, NULL);
    }
    fprintf(stderr, "test_vectors.c:%d: FAILED on vector %s: %s%s%s\n", line, vector, what,
            is_status ? "; last error: " : "", message);
}

#define CHECK(vector, cond) check_at((cond) ? 1 : 0, (vector), __LINE__, #cond, 0)
/* Checks that a status expression is MQSEAL_OK. */
#define CHECK_OK(vector, status) \
    check_at((status) == MQSEAL_OK, (vector), __LINE__, #status " == MQSEAL_OK", 1)

/* ---- the flat vector format ----------------------------------------------------------- */

#define MAX_ENTRIES 8

typedef struct {
    uint8_t *data;
    size_t len;
} bytes;

typedef struct {
    char name[128];
    int negative;
    char error[64];
    char suite[32];
    int compression;
    size_t compression_min_size;
    int store_context;
    char key_id[64];
    uint32_t key_version;
    bytes dek, wrapped, body, envelope;
    size_t context_count;
    bytes context_keys[MAX_ENTRIES], context_values[MAX_ENTRIES];
    int has_properties;
    size_t property_count;
    bytes property_keys[MAX_ENTRIES], property_values[MAX_ENTRIES];
} vector;

static void bytes_free(bytes *b) {
    free(b->data);
    b->data = NULL;
    b->len = 0;
}

static void vector_free(vector *v) {
    bytes_free(&v->dek);
    bytes_free(&v->wrapped);
    bytes_free(&v->body);
    bytes_free(&v->envelope);
    for (size_t i = 0; i < v->context_count; i++) {
        bytes_free(&v->context_keys[i]);
        bytes_free(&v->context_values[i]);
    }
    for (size_t i = 0; i < v->property_count; i++) {
        bytes_free(&v->property_keys[i]);
        bytes_free(&v->property_values[i]);
    }
    memset(v, 0, sizeof *v);
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

/* Decodes hex ("-" is empty) into a NUL-terminated allocation; returns 0 on bad input. */
static int parse_hex(const char *text, bytes *out) {
    size_t digits = strcmp(text, "-") == 0 ? 0 : strlen(text);
    if (digits % 2 != 0) {
        return 0;
    }
    out->len = digits / 2;
    out->data = malloc(out->len + 1);
    if (out->data == NULL) {
        return 0;
    }
    for (size_t i = 0; i < out->len; i++) {
        int high = hex_digit(text[2 * i]);
        int low = hex_digit(text[2 * i + 1]);
        if (high < 0 || low < 0) {
            return 0;
        }
        out->data[i] = (uint8_t)(high * 16 + low);
    }
    out->data[out->len] = '\0';
    return 1;
}

/* Applies one `FIELD VALUE...` line to *v; returns 0 when the line is invalid. */
static int parse_field(vector *v, const char *field, char *value, char *extra) {
    if (strcmp(field, "suite") == 0) {
        snprintf(v->suite, sizeof v->suite, "%s", value);
    } else if (strcmp(field, "error") == 0) {
        snprintf(v->error, sizeof v->error, "%s", value);
    } else if (strcmp(field, "key_id") == 0) {
        snprintf(v->key_id, sizeof v->key_id, "%s", value);
    } else if (strcmp(field, "compression") == 0) {
        v->compression = atoi(value);
    } else if (strcmp(field, "compression_min_size") == 0) {
        v->compression_min_size = (size_t)strtoull(value, NULL, 10);
    } else if (strcmp(field, "store_context") == 0) {
        v->store_context = atoi(value);
    } else if (strcmp(field, "has_properties") == 0) {
        v->has_properties = atoi(value);
    } else if (strcmp(field, "key_version") == 0) {
        v->key_version = (uint32_t)strtoul(value, NULL, 10);
    } else if (strcmp(field, "dek") == 0) {
        return parse_hex(value, &v->dek);
    } else if (strcmp(field, "wrapped_dek") == 0) {
        return parse_hex(value, &v->wrapped);
    } else if (strcmp(field, "body") == 0) {
        return parse_hex(value, &v->body);
    } else if (strcmp(field, "envelope") == 0) {
        return parse_hex(value, &v->envelope);
    } else if (strcmp(field, "context") == 0 && extra != NULL && v->context_count < MAX_ENTRIES) {
        size_t i = v->context_count++;
        return parse_hex(value, &v->context_keys[i]) && parse_hex(extra, &v->context_values[i]);
    } else if (strcmp(field, "property") == 0 && extra != NULL &&
               v->property_count < MAX_ENTRIES) {
        size_t i = v->property_count++;
        return parse_hex(value, &v->property_keys[i]) && parse_hex(extra, &v->property_values[i]);
    } else {
        return 0;
    }
    return 1;
}

/* ---- checks ------------------------------------------------------------------------------- */

static mqseal_attributes *attributes_of(size_t count, const bytes *keys, const bytes *values) {
    mqseal_attributes *map = NULL;
    if (mqseal_attributes_new(&map) != MQSEAL_OK) {
        return NULL;
    }
    for (size_t i = 0; i < count; i++) {
        if (mqseal_attributes_set(map, (const char *)keys[i].data, (const char *)values[i].data) !=
            MQSEAL_OK) {
            mqseal_attributes_free(map);
            return NULL;
        }
    }
    return map;
}

static uint32_t suite_id(const char *name) {
    if (strcmp(name, mqseal_suite_name(MQSEAL_SUITE_AES_256_GCM)) == 0) {
        return MQSEAL_SUITE_AES_256_GCM;
    }
    if (strcmp(name, mqseal_suite_name(MQSEAL_SUITE_CHACHA20_POLY1305)) == 0) {
        return MQSEAL_SUITE_CHACHA20_POLY1305;
    }
    return 0;
}

static int bytes_equal(const uint8_t *data, size_t len, const bytes *expected) {
    return len == expected->len && (len == 0 || memcmp(data, expected->data, len) == 0);
}

static void check_positive_decrypts(const vector *v, const mqseal_cipher *keyring) {
    mqseal_attributes *context =
        attributes_of(v->context_count, v->context_keys, v->context_values);
    CHECK(v->name, context != NULL);
    mqseal_buffer *body = NULL;
    mqseal_attributes *properties = NULL;
    mqseal_decrypt_info info;
    memset(&info, 0, sizeof info);
    int32_t status = mqseal_cipher_decrypt(keyring, v->envelope.data, v->envelope.len, context,
                                           &body, &properties, &info);
    CHECK_OK(v->name, status);
    if (status == MQSEAL_OK) {
        CHECK(v->name, bytes_equal(mqseal_buffer_data(body), mqseal_buffer_len(body), &v->body));
        CHECK(v->name, info.suite == suite_id(v->suite));
        CHECK(v->name, info.compressed == (v->compression != 0));
        CHECK(v->name, info.has_properties == (v->has_properties != 0));
        CHECK(v->name, info.key_version == v->key_version);
        CHECK(v->name, strcmp(info.key_id, v->key_id) == 0);
        size_t count = 0;
        CHECK_OK(v->name, mqseal_attributes_count(properties, &count));
        CHECK(v->name, count == v->property_count);
        for (size_t i = 0; i < v->property_count; i++) {
            const char *value = NULL;
            size_t value_len = 0;
            CHECK_OK(v->name, mqseal_attributes_get(properties,
                                                    (const char *)v->property_keys[i].data,
                                                    &value, &value_len));
            CHECK(v->name, value != NULL);
            if (value != NULL) {
                CHECK(v->name,
                      bytes_equal((const uint8_t *)value, value_len, &v->property_values[i]));
            }
        }
    }
    mqseal_buffer_free(body);
    mqseal_attributes_free(properties);

    /* An envelope that stores its context decrypts without one. */
    if (v->store_context) {
        body = NULL;
        status = mqseal_cipher_decrypt(keyring, v->envelope.data, v->envelope.len, NULL, &body,
                                       NULL, NULL);
        CHECK_OK(v->name, status);
        if (status == MQSEAL_OK) {
            CHECK(v->name,
                  bytes_equal(mqseal_buffer_data(body), mqseal_buffer_len(body), &v->body));
        }
        mqseal_buffer_free(body);
    }

    mqseal_envelope_info header;
    CHECK_OK(v->name, mqseal_envelope_inspect(v->envelope.data, v->envelope.len, &header, NULL));
    CHECK(v->name, header.compressed == (v->compression != 0));
    CHECK(v->name, header.stored_context == (v->store_context != 0));
    CHECK(v->name, header.key_count == 1);
    CHECK(v->name, header.keys[0].wrapped_len == v->wrapped.len);
    mqseal_attributes_free(context);
}

/* Generate callback of the known-answer provider: returns the vector's fixed keys. */
static int32_t known_answer_generate(void *user, const char *key_id, uint32_t *key_version,
                                     uint8_t *dek, size_t dek_len, uint8_t *wrapped,
                                     size_t wrapped_cap, size_t *wrapped_len) {
    const vector *v = user;
    if (strcmp(key_id, v->key_id) != 0) {
        return MQSEAL_KEY_NOT_FOUND;
    }
    if (dek_len != v->dek.len || wrapped_cap < v->wrapped.len) {
        return MQSEAL_PROVIDER_INVALID_RESPONSE;
    }
    memcpy(dek, v->dek.data, dek_len);
    memcpy(wrapped, v->wrapped.data, v->wrapped.len);
    *wrapped_len = v->wrapped.len;
    *key_version = v->key_version;
    return MQSEAL_OK;
}

/* The known-answer provider only generates: wrapping another key would be a test bug. */
static int32_t known_answer_wrap(void *user, const char *key_id, const uint8_t *dek,
                                 size_t dek_len, uint32_t *key_version, uint8_t *wrapped,
                                 size_t wrapped_cap, size_t *wrapped_len) {
    (void)user, (void)key_id, (void)dek, (void)dek_len, (void)key_version, (void)wrapped;
    (void)wrapped_cap, (void)wrapped_len;
    return MQSEAL_PROVIDER_DENIED;
}

static int32_t known_answer_unwrap(void *user, const char *key_id, uint32_t key_version,
                                   const uint8_t *wrapped, size_t wrapped_len, uint8_t *dek,
                                   size_t dek_len) {
    (void)user, (void)key_id, (void)key_version, (void)wrapped, (void)wrapped_len, (void)dek;
    (void)dek_len;
    return MQSEAL_PROVIDER_DENIED;
}

static void check_positive_encrypts(const vector *v) {
    mqseal_provider_callbacks callbacks = {
        .wrap = known_answer_wrap,
        .unwrap = known_answer_unwrap,
        .generate = known_answer_generate,
        .destroy = NULL,
        .user_data = (void *)v,
    };
    mqseal_callback_provider *provider = NULL;
    CHECK_OK(v->name,
             mqseal_callback_provider_new("known-answer", v->key_id, &callbacks, &provider));
    char config[512];
    snprintf(config, sizeof config,
             "provider = callback\nkey_id = %s\nsuite = %s\ncompression = %s\n"
             "compression.min_size = %zu\ncontext.store = %s\n",
             v->key_id, v->suite, v->compression ? "lz4" : "none", v->compression_min_size,
             v->store_context ? "true" : "false");
    mqseal_cipher *cipher = NULL;
    CHECK_OK(v->name, mqseal_cipher_new_from_config(config, provider, &cipher));
    mqseal_callback_provider_free(provider);

    mqseal_attributes *context =
        attributes_of(v->context_count, v->context_keys, v->context_values);
    mqseal_attributes *properties =
        v->has_properties ? attributes_of(v->property_count, v->property_keys, v->property_values)
                          : NULL;
    mqseal_buffer *envelope = NULL;
    int32_t status = mqseal_cipher_encrypt(cipher, v->body.data, v->body.len, context,
                                           properties, &envelope);
    CHECK_OK(v->name, status);
    if (status == MQSEAL_OK) {
        CHECK(v->name, bytes_equal(mqseal_buffer_data(envelope), mqseal_buffer_len(envelope),
                                   &v->envelope));
    }
    mqseal_buffer_free(envelope);
    mqseal_attributes_free(context);
    mqseal_attributes_free(properties);
    mqseal_cipher_free(cipher);
}

static void check_negative(const vector *v, const mqseal_cipher *keyring) {
    mqseal_attributes *context =
        attributes_of(v->context_count, v->context_keys, v->context_values);
    mqseal_buffer *body = NULL;
    int32_t status = mqseal_cipher_decrypt(keyring, v->envelope.data, v->envelope.len, context,
                                           &body, NULL, NULL);
    if (strcmp(mqseal_error_name(status), v->error) != 0) {
        fprintf(stderr, "vector %s: got %s (%d), expected %s\n", v->name,
                mqseal_error_name(status), (int)status, v->error);
    }
    CHECK(v->name, strcmp(mqseal_error_name(status), v->error) == 0);
    CHECK(v->name, body == NULL);
    mqseal_buffer_free(body);
    mqseal_attributes_free(context);
}

static void check_property_macros(void) {
    const char *names[] = {
        MQSEAL_PROPERTY_VERSION,     MQSEAL_PROPERTY_SUITE,      MQSEAL_PROPERTY_KEY_ID,
        MQSEAL_PROPERTY_KEY_VERSION, MQSEAL_PROPERTY_TOPIC,      MQSEAL_PROPERTY_SEALED,
        MQSEAL_PROPERTY_ERROR_CODE,  MQSEAL_PROPERTY_ERROR_NAME, MQSEAL_PROPERTY_ERROR_RETRYABLE,
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        CHECK(names[i], strncmp(names[i], MQSEAL_PROPERTY_PREFIX,
                                strlen(MQSEAL_PROPERTY_PREFIX)) == 0);
    }
    CHECK("MQSEAL_CONTEXT_TOPIC", strcmp(MQSEAL_CONTEXT_TOPIC, "topic") == 0);
}

/* Writes the vectors' keyring, given as hex of the file's text, to PATH with mode 0600. */
static int write_keyring(const char *hex, const char *path) {
    bytes text = {0};
    int ok = parse_hex(hex, &text);
    FILE *file = ok ? fopen(path, "w") : NULL;
    if (file != NULL) {
        ok = fwrite(text.data, 1, text.len, file) == text.len;
        ok = fclose(file) == 0 && ok && chmod(path, 0600) == 0;
    } else {
        ok = 0;
    }
    bytes_free(&text);
    return ok;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: test_vectors FLAT_VECTORS SCRATCH_DIR\n");
        return 2;
    }
    FILE *input = fopen(argv[1], "r");
    if (input == NULL) {
        perror(argv[1]);
        return 2;
    }
    mkdir(argv[2], 0700);
    char keyring_path[512];
    snprintf(keyring_path, sizeof keyring_path, "%s/vectors.keyring", argv[2]);

    mqseal_cipher *keyring = NULL;
    vector v;
    memset(&v, 0, sizeof v);
    int positives = 0, negatives = 0, line_number = 0, in_vector = 0;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, input) > 0) {
        line_number++;
        line[strcspn(line, "\n")] = '\0';
        char *field = strtok(line, " ");
        char *value = strtok(NULL, " ");
        char *extra = strtok(NULL, " ");
        if (field == NULL) {
            continue;
        }
        if (strcmp(field, "keyring") == 0 && value != NULL && keyring == NULL) {
            mqseal_cipher_options options;
            mqseal_cipher_options_init(&options);
            options.keyring_path = keyring_path;
            CHECK("keyring", write_keyring(value, keyring_path));
            CHECK_OK("keyring", mqseal_cipher_new(&options, &keyring));
        } else if ((strcmp(field, "vector") == 0 || strcmp(field, "negative") == 0) &&
                   value != NULL && !in_vector) {
            snprintf(v.name, sizeof v.name, "%s", value);
            v.negative = strcmp(field, "negative") == 0;
            in_vector = 1;
        } else if (strcmp(field, "end") == 0 && in_vector && keyring != NULL) {
            if (v.negative) {
                check_negative(&v, keyring);
                negatives++;
            } else {
                check_positive_decrypts(&v, keyring);
                check_positive_encrypts(&v);
                positives++;
            }
            vector_free(&v);
            in_vector = 0;
        } else if (!in_vector || value == NULL || !parse_field(&v, field, value, extra)) {
            fprintf(stderr, "%s:%d: invalid line starting with '%s'; regenerate the file with "
                            "tests/c/flatten_vectors.py\n",
                    argv[1], line_number, field);
            g_failed++;
            break;
        }
    }
    free(line);
    fclose(input);
    vector_free(&v);
    mqseal_cipher_free(keyring);
    unlink(keyring_path);

    check_property_macros();
    /* Guards against a truncated input that would pass with nothing checked. */
    CHECK("file", positives >= 8);
    CHECK("file", negatives >= 14);
    printf("vectors: %d positive, %d negative; %d passed, %d failed\n", positives, negatives,
           g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}
