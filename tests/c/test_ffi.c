/*
 * Tests of every function of the mqseal C ABI (include/mqseal.h).
 *
 * Plain C11 with a tiny check macro that prints file:line on failure. Ends with the
 * line "N passed, M failed" and exits non-zero when anything failed. Built and run by
 * `make test-c` with AddressSanitizer/UBSan and under valgrind.
 *
 * Usage: test_ffi [SCRATCH_DIR]   (default: a new directory under /tmp, removed at the end)
 */
#define _GNU_SOURCE /* memmem, mkdtemp, pthread barriers */

#include <mqseal.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- tiny test harness ------------------------------------------------------------ */

static atomic_int g_passed;
static atomic_int g_failed;

static void fail_at(const char *file, int line, const char *what) {
    atomic_fetch_add(&g_failed, 1);
    fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what);
}

#define CHECK(cond)                                   \
    do {                                              \
        if (cond) {                                   \
            atomic_fetch_add(&g_passed, 1);           \
        } else {                                      \
            fail_at(__FILE__, __LINE__, #cond);       \
        }                                             \
    } while (0)

static void check_status_at(const char *file, int line, const char *expr, int32_t got,
                            int32_t want) {
    if (got == want) {
        atomic_fetch_add(&g_passed, 1);
        return;
    }
    char msg[512];
    mqseal_last_error_message(msg, sizeof msg, NULL);
    char what[1024];
    snprintf(what, sizeof what, "%s returned %d (%s), expected %d (%s); last error: %s", expr,
             (int)got, mqseal_error_name(got), (int)want, mqseal_error_name(want), msg);
    fail_at(file, line, what);
}

#define CHECK_STATUS(expr, want) check_status_at(__FILE__, __LINE__, #expr, (expr), (want))
#define CHECK_OK(expr) CHECK_STATUS(expr, MQSEAL_OK)

static char g_dir[256];
static char g_ring[300];

static const char *last_message(void) {
    static _Thread_local char buf[1024];
    mqseal_last_error_message(buf, sizeof buf, NULL);
    return buf;
}

/* ---- helpers ------------------------------------------------------------------------ */

static mqseal_attributes *attrs_of(const char *key, const char *value) {
    mqseal_attributes *a = NULL;
    CHECK_OK(mqseal_attributes_new(&a));
    if (key != NULL) {
        CHECK_OK(mqseal_attributes_set(a, key, value));
    }
    return a;
}

static mqseal_cipher *keyring_cipher(const char *key_ids) {
    mqseal_cipher_options o;
    CHECK_OK(mqseal_cipher_options_init(&o));
    o.keyring_path = g_ring;
    o.key_ids = key_ids;
    mqseal_cipher *c = NULL;
    CHECK_OK(mqseal_cipher_new(&o, &c));
    return c;
}

static int bytes_equal(const uint8_t *a, size_t a_len, const void *b, size_t b_len) {
    return a_len == b_len && (a_len == 0 || memcmp(a, b, a_len) == 0);
}

/* ---- version and error names --------------------------------------------------------- */

static void test_version(void) {
    CHECK(strcmp(mqseal_version(), MQSEAL_VERSION) == 0);
    char composed[64];
    snprintf(composed, sizeof composed, "%d.%d.%d", MQSEAL_VERSION_MAJOR, MQSEAL_VERSION_MINOR,
             MQSEAL_VERSION_PATCH);
    CHECK(strncmp(MQSEAL_VERSION, composed, strlen(composed)) == 0);
    CHECK(mqseal_version() == mqseal_version()); /* static string */
}

static void test_error_names(void) {
    static const struct {
        int32_t code;
        const char *name;
        bool retryable;
    } table[] = {
        {MQSEAL_OK, "ok", false},
        {MQSEAL_INVALID_ARGUMENT, "invalid_argument", false},
        {MQSEAL_NULL_ARGUMENT, "null_argument", false},
        {MQSEAL_BUFFER_TOO_SMALL, "buffer_too_small", false},
        {MQSEAL_INVALID_CONFIG, "invalid_config", false},
        {MQSEAL_HANDLE_CLOSED, "handle_closed", false},
        {MQSEAL_MALFORMED_ENVELOPE, "malformed_envelope", false},
        {MQSEAL_TRUNCATED_ENVELOPE, "truncated_envelope", false},
        {MQSEAL_NOT_ENCRYPTED, "not_encrypted", false},
        {MQSEAL_UNSUPPORTED_VERSION, "unsupported_version", false},
        {MQSEAL_UNSUPPORTED_SUITE, "unsupported_suite", false},
        {MQSEAL_UNSUPPORTED_FEATURE, "unsupported_feature", false},
        {MQSEAL_AUTHENTICATION_FAILED, "authentication_failed", false},
        {MQSEAL_KEY_COMMITMENT_MISMATCH, "key_commitment_mismatch", false},
        {MQSEAL_KEY_NOT_FOUND, "key_not_found", false},
        {MQSEAL_KEY_VERSION_NOT_FOUND, "key_version_not_found", false},
        {MQSEAL_PROVIDER_UNAVAILABLE, "provider_unavailable", true},
        {MQSEAL_PROVIDER_THROTTLED, "provider_throttled", true},
        {MQSEAL_PROVIDER_TIMEOUT, "provider_timeout", true},
        {MQSEAL_PROVIDER_DENIED, "provider_denied", false},
        {MQSEAL_KEY_DISABLED, "key_disabled", false},
        {MQSEAL_PROVIDER_INVALID_RESPONSE, "provider_invalid_response", false},
        {MQSEAL_USAGE_LIMIT_EXCEEDED, "usage_limit_exceeded", false},
        {MQSEAL_INTERNAL, "internal", false},
        {MQSEAL_PANIC, "panic", false},
    };
    /* The numbers are the core's stable ErrorCode values. */
    CHECK(MQSEAL_NULL_ARGUMENT == 101);
    CHECK(MQSEAL_NOT_ENCRYPTED == 202);
    CHECK(MQSEAL_AUTHENTICATION_FAILED == 400);
    CHECK(MQSEAL_PANIC == 901);
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        CHECK(strcmp(mqseal_error_name(table[i].code), table[i].name) == 0);
        CHECK(mqseal_error_is_retryable(table[i].code) == table[i].retryable);
    }
    CHECK(strcmp(mqseal_error_name(12345), "unknown") == 0);
    CHECK(strcmp(mqseal_error_name(-1), "unknown") == 0);
    CHECK(!mqseal_error_is_retryable(12345));
    CHECK(strcmp(mqseal_suite_name(MQSEAL_SUITE_AES_256_GCM), "aes-256-gcm") == 0);
    CHECK(strcmp(mqseal_suite_name(MQSEAL_SUITE_CHACHA20_POLY1305), "chacha20-poly1305") == 0);
    CHECK(strcmp(mqseal_suite_name(99), "unknown") == 0);
}

/* ---- keyring helpers ----------------------------------------------------------------- */

static void test_keyring(void) {
    uint32_t version = 77;
    CHECK_OK(mqseal_keyring_generate(g_ring, "orders", &version));
    CHECK(version == 1);
    struct stat st;
    CHECK(stat(g_ring, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK_OK(mqseal_keyring_generate(g_ring, "payments", &version));
    CHECK(version == 1);

    version = 77;
    CHECK_STATUS(mqseal_keyring_generate(g_ring, "orders", &version), MQSEAL_INVALID_ARGUMENT);
    CHECK(version == 77); /* out-param untouched on failure */
    CHECK_STATUS(mqseal_keyring_generate(g_ring, "bad name!", &version),
                 MQSEAL_INVALID_ARGUMENT);
    CHECK_STATUS(mqseal_keyring_generate(NULL, "x", &version), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_keyring_generate(g_ring, NULL, &version), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_keyring_generate(g_ring, "x", NULL), MQSEAL_NULL_ARGUMENT);

    CHECK_OK(mqseal_keyring_rotate(g_ring, "payments", &version));
    CHECK(version == 2);
    CHECK_STATUS(mqseal_keyring_rotate(g_ring, "missing", &version), MQSEAL_KEY_NOT_FOUND);
    CHECK(version == 2);
    char nowhere[300];
    snprintf(nowhere, sizeof nowhere, "%s/no/such/ring", g_dir);
    CHECK_STATUS(mqseal_keyring_rotate(nowhere, "orders", &version), MQSEAL_INVALID_CONFIG);
    CHECK_STATUS(mqseal_keyring_rotate(g_ring, "orders", NULL), MQSEAL_NULL_ARGUMENT);
}

/* ---- attributes ------------------------------------------------------------------------ */

static void test_attributes(void) {
    mqseal_attributes *a = NULL;
    CHECK_OK(mqseal_attributes_new(&a));
    size_t n = 99;
    CHECK_OK(mqseal_attributes_count(a, &n));
    CHECK(n == 0);
    CHECK_OK(mqseal_attributes_set(a, "topic", "orders"));
    CHECK_OK(mqseal_attributes_set(a, "app", "billing"));
    CHECK_OK(mqseal_attributes_set(a, "empty", ""));
    CHECK_OK(mqseal_attributes_count(a, &n));
    CHECK(n == 3);

    const char *v = NULL;
    size_t v_len = 0;
    CHECK_OK(mqseal_attributes_get(a, "topic", &v, &v_len));
    CHECK(v != NULL && strcmp(v, "orders") == 0 && v_len == 6);
    CHECK_OK(mqseal_attributes_get(a, "empty", &v, NULL));
    CHECK(v != NULL && v[0] == '\0');
    CHECK_OK(mqseal_attributes_set(a, "topic", "invoices")); /* replace */
    CHECK_OK(mqseal_attributes_get(a, "topic", &v, &v_len));
    CHECK(v != NULL && strcmp(v, "invoices") == 0 && v_len == 8);
    CHECK_OK(mqseal_attributes_count(a, &n));
    CHECK(n == 3);
    v = (const char *)"sentinel";
    CHECK_OK(mqseal_attributes_get(a, "absent", &v, &v_len));
    CHECK(v == NULL);
    CHECK(v_len == 0);

    /* Entries come in canonical (ascending bytewise) key order. */
    const char *expect_keys[] = {"app", "empty", "topic"};
    for (size_t i = 0; i < 3; i++) {
        const char *k = NULL;
        size_t k_len = 0;
        CHECK_OK(mqseal_attributes_entry(a, i, &k, &k_len, &v, &v_len));
        CHECK(k != NULL && strcmp(k, expect_keys[i]) == 0 && k_len == strlen(expect_keys[i]));
        CHECK(v != NULL && strlen(v) == v_len);
    }
    const char *k = (const char *)"sentinel";
    CHECK_STATUS(mqseal_attributes_entry(a, 3, &k, NULL, &v, NULL), MQSEAL_INVALID_ARGUMENT);
    CHECK(strcmp(k, "sentinel") == 0);
    CHECK_OK(mqseal_attributes_entry(a, 0, &k, NULL, &v, NULL));

    CHECK_STATUS(mqseal_attributes_set(a, "", "x"), MQSEAL_INVALID_ARGUMENT);
    CHECK_STATUS(mqseal_attributes_set(a, "\xff\xfe", "x"), MQSEAL_INVALID_ARGUMENT);
    CHECK_STATUS(mqseal_attributes_set(NULL, "k", "v"), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_attributes_set(a, NULL, "v"), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_attributes_set(a, "k", NULL), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_attributes_get(NULL, "k", &v, NULL), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_attributes_get(a, NULL, &v, NULL), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_attributes_get(a, "k", NULL, NULL), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_attributes_count(NULL, &n), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_attributes_count(a, NULL), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_attributes_entry(NULL, 0, &k, NULL, &v, NULL), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_attributes_entry(a, 0, NULL, NULL, &v, NULL), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_attributes_entry(a, 0, &k, NULL, NULL, NULL), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_attributes_new(NULL), MQSEAL_NULL_ARGUMENT);
    mqseal_attributes_free(a);
    mqseal_attributes_free(NULL);
}

/* ---- round trips ------------------------------------------------------------------------ */

static const char BODY[] = "{\"order\":42,\"card\":\"4111-1111-1111-1111\"}";

static void test_round_trip(void) {
    mqseal_cipher *c = keyring_cipher("orders");
    mqseal_attributes *ctx = attrs_of("topic", "orders");
    mqseal_attributes *props = attrs_of("customer", "alice");
    CHECK_OK(mqseal_attributes_set(props, "region", "eu"));

    mqseal_buffer *env = NULL;
    CHECK_OK(mqseal_cipher_encrypt(c, (const uint8_t *)BODY, strlen(BODY), ctx, props, &env));
    CHECK(env != NULL && mqseal_buffer_len(env) > strlen(BODY));
    bool enc = false;
    CHECK_OK(mqseal_looks_encrypted(mqseal_buffer_data(env), mqseal_buffer_len(env), &enc));
    CHECK(enc);
    CHECK(memmem(mqseal_buffer_data(env), mqseal_buffer_len(env), "4111", 4) == NULL);

    mqseal_buffer *plain = NULL;
    mqseal_attributes *got_props = NULL;
    mqseal_decrypt_info info;
    memset(&info, 0x5a, sizeof info);
    CHECK_OK(mqseal_cipher_decrypt(c, mqseal_buffer_data(env), mqseal_buffer_len(env), ctx,
                                   &plain, &got_props, &info));
    CHECK(bytes_equal(mqseal_buffer_data(plain), mqseal_buffer_len(plain), BODY, strlen(BODY)));
    CHECK(info.suite == MQSEAL_SUITE_AES_256_GCM);
    CHECK(strcmp(info.key_id, "orders") == 0);
    CHECK(info.key_id_len == 6);
    CHECK(info.key_version == 1);
    CHECK(!info.compressed);
    CHECK(info.has_properties);
    size_t n = 0;
    CHECK_OK(mqseal_attributes_count(got_props, &n));
    CHECK(n == 2);
    const char *v = NULL;
    CHECK_OK(mqseal_attributes_get(got_props, "customer", &v, NULL));
    CHECK(v != NULL && strcmp(v, "alice") == 0);
    mqseal_buffer_free(plain);
    mqseal_attributes_free(got_props);

    /* Optional outputs may be NULL. */
    CHECK_OK(mqseal_cipher_decrypt(c, mqseal_buffer_data(env), mqseal_buffer_len(env), ctx,
                                   &plain, NULL, NULL));
    mqseal_buffer_free(plain);

    /* An empty body: (NULL, 0) in, an empty buffer out. */
    mqseal_buffer *empty_env = NULL;
    CHECK_OK(mqseal_cipher_encrypt(c, NULL, 0, ctx, NULL, &empty_env));
    CHECK_OK(mqseal_cipher_decrypt(c, mqseal_buffer_data(empty_env), mqseal_buffer_len(empty_env),
                                   ctx, &plain, &got_props, &info));
    CHECK(mqseal_buffer_len(plain) == 0 && mqseal_buffer_data(plain) == NULL);
    CHECK(!info.has_properties);
    CHECK_OK(mqseal_attributes_count(got_props, &n));
    CHECK(n == 0); /* a map is returned even when the envelope has no properties */
    mqseal_buffer_free(plain);
    mqseal_attributes_free(got_props);
    mqseal_buffer_free(empty_env);

    /* No context at all equals an empty context. */
    mqseal_attributes *none = attrs_of(NULL, NULL);
    mqseal_buffer *env2 = NULL;
    CHECK_OK(mqseal_cipher_encrypt(c, (const uint8_t *)"x", 1, NULL, NULL, &env2));
    CHECK_OK(mqseal_cipher_decrypt(c, mqseal_buffer_data(env2), mqseal_buffer_len(env2), none,
                                   &plain, NULL, NULL));
    CHECK(bytes_equal(mqseal_buffer_data(plain), mqseal_buffer_len(plain), "x", 1));
    mqseal_buffer_free(plain);
    mqseal_buffer_free(env2);
    mqseal_attributes_free(none);

    CHECK(mqseal_buffer_data(NULL) == NULL && mqseal_buffer_len(NULL) == 0);
    mqseal_buffer_free(env);
    mqseal_buffer_free(NULL);
    mqseal_attributes_free(props);
    mqseal_attributes_free(ctx);
    mqseal_cipher_free(c);
    mqseal_cipher_free(NULL);
}

static void test_into_and_sizes(void) {
    mqseal_cipher *c = keyring_cipher("orders");
    mqseal_attributes *ctx = attrs_of("topic", "orders");
    mqseal_attributes *props = attrs_of("k", "v");
    const size_t body_len = strlen(BODY);

    size_t need = 0;
    CHECK_OK(mqseal_cipher_encrypted_len(c, body_len, ctx, props, &need));
    size_t need_plain = 0;
    CHECK_OK(mqseal_cipher_encrypted_len(c, body_len, ctx, NULL, &need_plain));
    CHECK(need > need_plain && need_plain > body_len);

    /* Too small: MQSEAL_BUFFER_TOO_SMALL, required size in out_len, out untouched. */
    uint8_t small[16];
    memset(small, 0xAB, sizeof small);
    size_t out_len = 0;
    CHECK_STATUS(mqseal_cipher_encrypt_into(c, (const uint8_t *)BODY, body_len, ctx, props, small,
                                            sizeof small, &out_len),
                 MQSEAL_BUFFER_TOO_SMALL);
    CHECK(out_len == need);
    CHECK(small[0] == 0xAB && small[15] == 0xAB);
    /* (NULL, 0) is a size query. */
    out_len = 0;
    CHECK_STATUS(mqseal_cipher_encrypt_into(c, (const uint8_t *)BODY, body_len, ctx, props, NULL, 0,
                                            &out_len),
                 MQSEAL_BUFFER_TOO_SMALL);
    CHECK(out_len == need);
    CHECK_STATUS(mqseal_cipher_encrypt_into(c, (const uint8_t *)BODY, body_len, ctx, props, NULL, 5,
                                            &out_len),
                 MQSEAL_NULL_ARGUMENT);

    uint8_t *env = malloc(need);
    CHECK_OK(mqseal_cipher_encrypt_into(c, (const uint8_t *)BODY, body_len, ctx, props, env, need,
                                        &out_len));
    CHECK(out_len == need);
    const size_t env_len = out_len;

    /* Output overlapping the input is refused. */
    uint8_t overlap[512];
    memcpy(overlap, BODY, body_len);
    CHECK_STATUS(mqseal_cipher_encrypt_into(c, overlap, body_len, ctx, NULL, overlap + 4,
                                            sizeof overlap - 4, &out_len),
                 MQSEAL_INVALID_ARGUMENT);

    size_t bound = 0;
    CHECK_OK(mqseal_cipher_decrypted_len(c, env, env_len, &bound));
    CHECK(bound >= body_len);

    /* Decrypt into a buffer one byte short, then an exact one. */
    uint8_t *plain = malloc(body_len);
    out_len = 0;
    CHECK_STATUS(mqseal_cipher_decrypt_into(c, env, env_len, ctx, plain, body_len - 1, &out_len,
                                            NULL, NULL),
                 MQSEAL_BUFFER_TOO_SMALL);
    CHECK(out_len == body_len);
    mqseal_attributes *got = NULL;
    mqseal_decrypt_info info;
    CHECK_OK(mqseal_cipher_decrypt_into(c, env, env_len, ctx, plain, body_len, &out_len, &got,
                                        &info));
    CHECK(out_len == body_len && memcmp(plain, BODY, body_len) == 0);
    CHECK(info.has_properties && strcmp(info.key_id, "orders") == 0);
    const char *v = NULL;
    CHECK_OK(mqseal_attributes_get(got, "k", &v, NULL));
    CHECK(v != NULL && strcmp(v, "v") == 0);
    mqseal_attributes_free(got);

    /* A failure writes no out-param (other than the required size above). */
    mqseal_attributes *wrong = attrs_of("topic", "payments");
    out_len = 12345;
    got = (mqseal_attributes *)&out_len; /* sentinel, never dereferenced */
    CHECK_STATUS(mqseal_cipher_decrypt_into(c, env, env_len, wrong, plain, body_len, &out_len, &got,
                                            NULL),
                 MQSEAL_AUTHENTICATION_FAILED);
    CHECK(out_len == 12345 && got == (mqseal_attributes *)&out_len);
    mqseal_attributes_free(wrong);

    /* Plain envelope without properties: decrypted_len is exact. */
    uint8_t env2[512];
    CHECK_OK(mqseal_cipher_encrypt_into(c, (const uint8_t *)BODY, body_len, ctx, NULL, env2,
                                        sizeof env2, &out_len));
    CHECK(out_len == need_plain);
    CHECK_OK(mqseal_cipher_decrypted_len(c, env2, out_len, &bound));
    CHECK(bound == body_len);
    CHECK_STATUS(mqseal_cipher_decrypted_len(c, (const uint8_t *)"plain", 5, &bound),
                 MQSEAL_NOT_ENCRYPTED);

    /* Null rules of the size functions. */
    CHECK_STATUS(mqseal_cipher_encrypted_len(NULL, 1, NULL, NULL, &need), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_cipher_encrypted_len(c, 1, NULL, NULL, NULL), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_cipher_encrypted_len(c, SIZE_MAX, NULL, NULL, &need),
                 MQSEAL_USAGE_LIMIT_EXCEEDED);
    CHECK_STATUS(mqseal_cipher_decrypted_len(NULL, env, env_len, &bound), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_cipher_decrypted_len(c, NULL, 3, &bound), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_cipher_decrypted_len(c, env, env_len, NULL), MQSEAL_NULL_ARGUMENT);

    free(plain);
    free(env);
    mqseal_attributes_free(props);
    mqseal_attributes_free(ctx);
    mqseal_cipher_free(c);
}

/* ---- NULL rules and failures ---------------------------------------------------------- */

static void test_null_rules(void) {
    mqseal_cipher *c = keyring_cipher("orders");
    mqseal_buffer *b = NULL;
    size_t len = 0;
    uint8_t buf[256];
    memset(buf, 0, sizeof buf);

    CHECK_STATUS(mqseal_cipher_encrypt(NULL, (const uint8_t *)"x", 1, NULL, NULL, &b),
                 MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_cipher_encrypt(c, NULL, 5, NULL, NULL, &b), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_cipher_encrypt(c, (const uint8_t *)"x", 1, NULL, NULL, NULL),
                 MQSEAL_NULL_ARGUMENT);
    CHECK(b == NULL);
    CHECK_STATUS(mqseal_cipher_encrypt_into(NULL, NULL, 0, NULL, NULL, buf, sizeof buf, &len),
                 MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_cipher_encrypt_into(c, NULL, 0, NULL, NULL, buf, sizeof buf, NULL),
                 MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_cipher_decrypt(NULL, buf, 1, NULL, &b, NULL, NULL), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_cipher_decrypt(c, NULL, 9, NULL, &b, NULL, NULL), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_cipher_decrypt(c, buf, 1, NULL, NULL, NULL, NULL), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_cipher_decrypt_into(NULL, buf, 1, NULL, buf, 1, &len, NULL, NULL),
                 MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_cipher_decrypt_into(c, buf, 1, NULL, buf + 100, 1, NULL, NULL, NULL),
                 MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_cipher_decrypt_into(c, buf, 1, NULL, NULL, 7, &len, NULL, NULL),
                 MQSEAL_NULL_ARGUMENT);
    /* (NULL, 0) is an empty envelope: valid arguments, but not an envelope. */
    CHECK_STATUS(mqseal_cipher_decrypt(c, NULL, 0, NULL, &b, NULL, NULL), MQSEAL_NOT_ENCRYPTED);
    CHECK_STATUS(mqseal_cipher_rewrap(NULL, buf, 1, &b), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_cipher_rewrap(c, NULL, 1, &b), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_cipher_rewrap(c, buf, 1, NULL), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_cipher_rotate(NULL), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_cipher_clear_caches(NULL), MQSEAL_NULL_ARGUMENT);
    mqseal_counters counters;
    CHECK_STATUS(mqseal_cipher_counters(NULL, &counters), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_cipher_counters(c, NULL), MQSEAL_NULL_ARGUMENT);
    mqseal_envelope_info ei;
    CHECK_STATUS(mqseal_envelope_inspect(NULL, 4, &ei, NULL), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_envelope_inspect(buf, 4, NULL, NULL), MQSEAL_NULL_ARGUMENT);
    bool yes = true;
    CHECK_OK(mqseal_looks_encrypted(NULL, 0, &yes));
    CHECK(!yes);
    CHECK_STATUS(mqseal_looks_encrypted(NULL, 3, &yes), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_looks_encrypted(buf, 3, NULL), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_cipher_new(NULL, &c), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_cipher_options_init(NULL), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_cipher_new_from_config(NULL, NULL, &c), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_cipher_new_from_config("provider = keyring", NULL, NULL),
                 MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_cipher_new_from_file(NULL, NULL, &c), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_callback_provider_new("x", NULL, NULL, NULL), MQSEAL_NULL_ARGUMENT);
    CHECK(strcmp(mqseal_error_name(mqseal_last_error_code()), "null_argument") == 0);
    CHECK(strstr(last_message(), "NULL") != NULL);

    /* Every _free accepts NULL. */
    mqseal_cipher_free(NULL);
    mqseal_attributes_free(NULL);
    mqseal_buffer_free(NULL);
    mqseal_callback_provider_free(NULL);
    mqseal_cipher_free(c);
}

static void test_failures(void) {
    mqseal_cipher *c = keyring_cipher("orders");
    mqseal_attributes *ctx = attrs_of("topic", "orders");
    mqseal_attributes *wrong = attrs_of("topic", "payments");
    mqseal_buffer *env = NULL;
    CHECK_OK(mqseal_cipher_encrypt(c, (const uint8_t *)BODY, strlen(BODY), ctx, NULL, &env));
    const uint8_t *e = mqseal_buffer_data(env);
    const size_t n = mqseal_buffer_len(env);

    mqseal_buffer *plain = (mqseal_buffer *)&n; /* sentinel, never dereferenced */
    /* Wrong context. */
    CHECK_STATUS(mqseal_cipher_decrypt(c, e, n, wrong, &plain, NULL, NULL),
                 MQSEAL_AUTHENTICATION_FAILED);
    CHECK(plain == (mqseal_buffer *)&n);
    CHECK(mqseal_last_error_code() == MQSEAL_AUTHENTICATION_FAILED);
    CHECK(strlen(last_message()) > 0);
    CHECK(strstr(last_message(), "4111") == NULL); /* never plaintext */
    CHECK_STATUS(mqseal_cipher_decrypt(c, e, n, NULL, &plain, NULL, NULL),
                 MQSEAL_AUTHENTICATION_FAILED);

    /* Tampered: flip one bit of the ciphertext, then of the tag. */
    uint8_t *t = malloc(n);
    memcpy(t, e, n);
    t[n - 20] ^= 0x01;
    CHECK_STATUS(mqseal_cipher_decrypt(c, t, n, ctx, &plain, NULL, NULL),
                 MQSEAL_AUTHENTICATION_FAILED);
    memcpy(t, e, n);
    t[n - 1] ^= 0x80;
    uint8_t out[512];
    memset(out, 0, sizeof out);
    size_t out_len = 0;
    CHECK_STATUS(mqseal_cipher_decrypt_into(c, t, n, ctx, out, sizeof out, &out_len, NULL, NULL),
                 MQSEAL_AUTHENTICATION_FAILED);
    CHECK(out_len == 0);
    CHECK(memmem(out, sizeof out, "4111", 4) == NULL); /* no plaintext left behind */

    /* Not encrypted, truncated. */
    CHECK_STATUS(mqseal_cipher_decrypt(c, (const uint8_t *)"hello", 5, ctx, &plain, NULL, NULL),
                 MQSEAL_NOT_ENCRYPTED);
    CHECK(strstr(last_message(), "not an mqseal envelope") != NULL);
    CHECK_STATUS(mqseal_cipher_decrypt(c, e, 10, ctx, &plain, NULL, NULL),
                 MQSEAL_TRUNCATED_ENVELOPE);
    bool looks = true;
    CHECK_OK(mqseal_looks_encrypted((const uint8_t *)"hello", 5, &looks));
    CHECK(!looks);
    CHECK(plain == (mqseal_buffer *)&n);

    /* Body over max_body_len. */
    mqseal_cipher_options o;
    CHECK_OK(mqseal_cipher_options_init(&o));
    o.keyring_path = g_ring;
    o.key_ids = "orders";
    o.max_body_len = 8;
    mqseal_cipher *tiny = NULL;
    CHECK_OK(mqseal_cipher_new(&o, &tiny));
    mqseal_buffer *b = NULL;
    CHECK_STATUS(mqseal_cipher_encrypt(tiny, (const uint8_t *)BODY, strlen(BODY), NULL, NULL, &b),
                 MQSEAL_USAGE_LIMIT_EXCEEDED);
    CHECK_STATUS(mqseal_cipher_decrypt(tiny, e, n, ctx, &b, NULL, NULL),
                 MQSEAL_USAGE_LIMIT_EXCEEDED);
    mqseal_cipher_free(tiny);

    /* A decrypt-only cipher cannot encrypt. */
    mqseal_cipher *ro = keyring_cipher(NULL);
    CHECK_STATUS(mqseal_cipher_encrypt(ro, (const uint8_t *)"x", 1, NULL, NULL, &b),
                 MQSEAL_INVALID_CONFIG);
    CHECK_OK(mqseal_cipher_decrypt(ro, e, n, ctx, &b, NULL, NULL));
    mqseal_buffer_free(b);
    mqseal_cipher_free(ro);

    free(t);
    mqseal_buffer_free(env);
    mqseal_attributes_free(wrong);
    mqseal_attributes_free(ctx);
    mqseal_cipher_free(c);
}

/* ---- construction ---------------------------------------------------------------------- */

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f != NULL) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_construction(void) {
    char config[1024];
    snprintf(config, sizeof config,
             "# consumer and producer settings\n"
             "mqseal.provider = keyring\n"
             "keyring.path = %s\n"
             "key_id = orders\n"
             "suite = chacha20-poly1305\n"
             "context.store = true\n",
             g_ring);
    mqseal_cipher *from_text = NULL;
    CHECK_OK(mqseal_cipher_new_from_config(config, NULL, &from_text));

    char path[300];
    snprintf(path, sizeof path, "%s/mqseal.properties", g_dir);
    write_file(path, config);
    mqseal_cipher *from_file = NULL;
    CHECK_OK(mqseal_cipher_new_from_file(path, NULL, &from_file));

    /* Stored context: a consumer decrypts without supplying it. */
    mqseal_attributes *ctx = attrs_of("topic", "orders");
    mqseal_buffer *env = NULL;
    CHECK_OK(mqseal_cipher_encrypt(from_text, (const uint8_t *)BODY, strlen(BODY), ctx, NULL, &env));
    mqseal_buffer *plain = NULL;
    mqseal_decrypt_info info;
    CHECK_OK(mqseal_cipher_decrypt(from_file, mqseal_buffer_data(env), mqseal_buffer_len(env), NULL,
                                   &plain, NULL, &info));
    CHECK(bytes_equal(mqseal_buffer_data(plain), mqseal_buffer_len(plain), BODY, strlen(BODY)));
    CHECK(info.suite == MQSEAL_SUITE_CHACHA20_POLY1305);
    mqseal_buffer_free(plain);

    mqseal_envelope_info ei;
    mqseal_attributes *stored = NULL;
    CHECK_OK(mqseal_envelope_inspect(mqseal_buffer_data(env), mqseal_buffer_len(env), &ei, &stored));
    CHECK(ei.stored_context && ei.suite == MQSEAL_SUITE_CHACHA20_POLY1305);
    const char *v = NULL;
    CHECK_OK(mqseal_attributes_get(stored, "topic", &v, NULL));
    CHECK(v != NULL && strcmp(v, "orders") == 0);
    mqseal_attributes_free(stored);
    mqseal_buffer_free(env);

    /* Configuration errors name the line. */
    mqseal_cipher *bad = (mqseal_cipher *)&ei; /* sentinel, never dereferenced */
    CHECK_STATUS(mqseal_cipher_new_from_config("keyring.path = /x\nkey_idd = a\n", NULL, &bad),
                 MQSEAL_INVALID_CONFIG);
    CHECK(strstr(last_message(), "line 2") != NULL);
    CHECK(bad == (mqseal_cipher *)&ei);
    char missing[300];
    snprintf(missing, sizeof missing, "%s/absent.properties", g_dir);
    CHECK_STATUS(mqseal_cipher_new_from_file(missing, NULL, &bad), MQSEAL_INVALID_CONFIG);
    CHECK_STATUS(mqseal_cipher_new_from_config("provider = callback\n", NULL, &bad),
                 MQSEAL_INVALID_CONFIG);

    /* Options: defaults, and each validation. */
    mqseal_cipher_options o;
    CHECK_OK(mqseal_cipher_options_init(&o));
    CHECK(o.struct_size == sizeof o && o.suite == MQSEAL_SUITE_AES_256_GCM);
    CHECK(o.max_messages == (UINT64_C(1) << 24) && o.max_age_seconds == 3600);
    CHECK(o.cache_capacity == 1000 && !o.compression && !o.store_context);
    CHECK(o.keyring_path == NULL && o.provider == NULL && o.key_ids == NULL);
    CHECK(o.max_body_len == 64u * 1024u * 1024u);
    CHECK_STATUS(mqseal_cipher_new(&o, &bad), MQSEAL_INVALID_CONFIG); /* no provider */
    o.keyring_path = g_ring;
    o.key_ids = "orders, payments";
    mqseal_cipher *two = NULL;
    CHECK_OK(mqseal_cipher_new(&o, &two));
    env = NULL;
    CHECK_OK(mqseal_cipher_encrypt(two, (const uint8_t *)"x", 1, NULL, NULL, &env));
    CHECK_OK(mqseal_envelope_inspect(mqseal_buffer_data(env), mqseal_buffer_len(env), &ei, NULL));
    CHECK(ei.key_count == 2);
    CHECK(strcmp(ei.keys[0].key_id, "orders") == 0 && strcmp(ei.keys[1].key_id, "payments") == 0);
    CHECK(ei.keys[1].key_version == 2 && ei.keys[2].key_id_len == 0);
    mqseal_buffer_free(env);
    mqseal_cipher_free(two);

    mqseal_cipher_options w = o;
    w.struct_size = 8;
    CHECK_STATUS(mqseal_cipher_new(&w, &bad), MQSEAL_INVALID_CONFIG);
    CHECK(strstr(last_message(), "mqseal_cipher_options_init") != NULL);
    w = o;
    w.suite = 9;
    CHECK_STATUS(mqseal_cipher_new(&w, &bad), MQSEAL_INVALID_CONFIG);
    w = o;
    w.max_messages = 0;
    CHECK_STATUS(mqseal_cipher_new(&w, &bad), MQSEAL_INVALID_CONFIG);
    w = o;
    w.backend = "rot13";
    CHECK_STATUS(mqseal_cipher_new(&w, &bad), MQSEAL_INVALID_CONFIG);
    w = o;
    w.key_ids = "\xff";
    CHECK_STATUS(mqseal_cipher_new(&w, &bad), MQSEAL_INVALID_ARGUMENT);
    w = o;
    w.keyring_path = missing;
    CHECK_STATUS(mqseal_cipher_new(&w, &bad), MQSEAL_INVALID_CONFIG);
    CHECK(bad == (mqseal_cipher *)&ei);

    /* Compression: decrypted_len can only bound by max_body_len; _into reports the size. */
    w = o;
    w.key_ids = "orders";
    w.compression = true;
    w.compression_min_size = 16;
    mqseal_cipher *lz = NULL;
    CHECK_OK(mqseal_cipher_new(&w, &lz));
    uint8_t body[4096];
    memset(body, 'a', sizeof body);
    CHECK_OK(mqseal_cipher_encrypt(lz, body, sizeof body, NULL, NULL, &env));
    CHECK(mqseal_buffer_len(env) < sizeof body);
    CHECK_OK(mqseal_envelope_inspect(mqseal_buffer_data(env), mqseal_buffer_len(env), &ei, NULL));
    CHECK(ei.compressed);
    size_t bound = 0;
    CHECK_OK(mqseal_cipher_decrypted_len(lz, mqseal_buffer_data(env), mqseal_buffer_len(env), &bound));
    CHECK(bound == w.max_body_len);
    size_t need = 0;
    CHECK_STATUS(mqseal_cipher_decrypt_into(lz, mqseal_buffer_data(env), mqseal_buffer_len(env),
                                            NULL, NULL, 0, &need, NULL, NULL),
                 MQSEAL_BUFFER_TOO_SMALL);
    CHECK(need == sizeof body);
    uint8_t back[4096];
    CHECK_OK(mqseal_cipher_decrypt_into(lz, mqseal_buffer_data(env), mqseal_buffer_len(env), NULL,
                                        back, sizeof back, &need, NULL, &info));
    CHECK(need == sizeof body && memcmp(back, body, sizeof body) == 0 && info.compressed);
    mqseal_buffer_free(env);
    mqseal_cipher_free(lz);

    mqseal_attributes_free(ctx);
    mqseal_cipher_free(from_file);
    mqseal_cipher_free(from_text);
}

/* ---- inspect, rewrap, rotate, counters ------------------------------------------------- */

static void test_inspect(void) {
    mqseal_cipher *c = keyring_cipher("orders");
    mqseal_attributes *props = attrs_of("p", "1");
    mqseal_buffer *env = NULL;
    CHECK_OK(mqseal_cipher_encrypt(c, (const uint8_t *)BODY, strlen(BODY), NULL, props, &env));
    mqseal_envelope_info ei;
    memset(&ei, 0x5a, sizeof ei);
    mqseal_attributes *stored = NULL;
    CHECK_OK(mqseal_envelope_inspect(mqseal_buffer_data(env), mqseal_buffer_len(env), &ei, &stored));
    CHECK(ei.version == 1);
    CHECK(ei.suite == MQSEAL_SUITE_AES_256_GCM);
    CHECK(!ei.compressed && ei.sealed_properties && !ei.stored_context);
    CHECK(ei.key_count == 1);
    CHECK(strcmp(ei.keys[0].key_id, "orders") == 0 && ei.keys[0].key_id_len == 6);
    CHECK(ei.keys[0].key_version == 1 && ei.keys[0].wrapped_len == 40);
    CHECK(ei.keys[1].key_id[0] == '\0' && ei.keys[7].wrapped_len == 0);
    CHECK(ei.header_len + ei.ciphertext_len + 16 == mqseal_buffer_len(env));
    size_t n = 99;
    CHECK_OK(mqseal_attributes_count(stored, &n));
    CHECK(n == 0);
    mqseal_attributes_free(stored);

    /* The sequence number grows per message under one data key. */
    mqseal_buffer *env2 = NULL;
    CHECK_OK(mqseal_cipher_encrypt(c, (const uint8_t *)"y", 1, NULL, NULL, &env2));
    mqseal_envelope_info ei2;
    CHECK_OK(mqseal_envelope_inspect(mqseal_buffer_data(env2), mqseal_buffer_len(env2), &ei2, NULL));
    CHECK(ei2.sequence == ei.sequence + 1);
    mqseal_buffer_free(env2);

    CHECK_STATUS(mqseal_envelope_inspect((const uint8_t *)"{}", 2, &ei, NULL), MQSEAL_NOT_ENCRYPTED);
    CHECK_STATUS(mqseal_envelope_inspect(mqseal_buffer_data(env), 12, &ei, NULL),
                 MQSEAL_TRUNCATED_ENVELOPE);
    uint8_t *bad = malloc(mqseal_buffer_len(env));
    memcpy(bad, mqseal_buffer_data(env), mqseal_buffer_len(env));
    bad[1] = 9;
    CHECK_STATUS(mqseal_envelope_inspect(bad, mqseal_buffer_len(env), &ei, NULL),
                 MQSEAL_UNSUPPORTED_VERSION);
    bad[1] = 1;
    bad[2] = 7;
    CHECK_STATUS(mqseal_envelope_inspect(bad, mqseal_buffer_len(env), &ei, NULL),
                 MQSEAL_UNSUPPORTED_SUITE);
    free(bad);

    mqseal_buffer_free(env);
    mqseal_attributes_free(props);
    mqseal_cipher_free(c);
}

static void test_rotate_rewrap_counters(void) {
    mqseal_cipher *c = keyring_cipher("payments"); /* primary version 2 */
    mqseal_attributes *ctx = attrs_of("topic", "pay");
    mqseal_counters k;
    CHECK_OK(mqseal_cipher_counters(c, &k));
    CHECK(k.encrypted == 0 && k.decrypted == 0 && k.data_keys_created == 0);

    mqseal_buffer *env[3] = {NULL, NULL, NULL};
    for (int i = 0; i < 3; i++) {
        CHECK_OK(mqseal_cipher_encrypt(c, (const uint8_t *)BODY, strlen(BODY), ctx, NULL, &env[i]));
    }
    CHECK_OK(mqseal_cipher_counters(c, &k));
    CHECK(k.encrypted == 3 && k.data_keys_created == 1 && k.provider_calls == 1);
    CHECK(k.cache_misses == 1 && k.cache_hits == 2);

    mqseal_envelope_info ei;
    CHECK_OK(mqseal_envelope_inspect(mqseal_buffer_data(env[0]), mqseal_buffer_len(env[0]), &ei,
                                     NULL));
    CHECK(ei.keys[0].key_version == 2);

    /* rotate: the next message gets a new data key. */
    CHECK_OK(mqseal_cipher_rotate(c));
    mqseal_buffer *after = NULL;
    CHECK_OK(mqseal_cipher_encrypt(c, (const uint8_t *)"z", 1, ctx, NULL, &after));
    CHECK_OK(mqseal_cipher_counters(c, &k));
    CHECK(k.data_keys_created == 2);

    /* Decrypt: own data keys are cached, so no unwrap is needed. */
    mqseal_buffer *plain = NULL;
    CHECK_OK(mqseal_cipher_decrypt(c, mqseal_buffer_data(env[1]), mqseal_buffer_len(env[1]), ctx,
                                   &plain, NULL, NULL));
    mqseal_buffer_free(plain);
    CHECK_STATUS(mqseal_cipher_decrypt(c, (const uint8_t *)"no", 2, ctx, &plain, NULL, NULL),
                 MQSEAL_NOT_ENCRYPTED);
    CHECK_OK(mqseal_cipher_counters(c, &k));
    CHECK(k.decrypted == 1 && k.decrypt_failures == 1 && k.cached_keys == 2);
    const uint64_t calls_before = k.provider_calls;
    CHECK_OK(mqseal_cipher_clear_caches(c));
    CHECK_OK(mqseal_cipher_counters(c, &k));
    CHECK(k.cached_keys == 0);
    CHECK_OK(mqseal_cipher_decrypt(c, mqseal_buffer_data(env[2]), mqseal_buffer_len(env[2]), ctx,
                                   &plain, NULL, NULL));
    mqseal_buffer_free(plain);
    CHECK_OK(mqseal_cipher_counters(c, &k));
    CHECK(k.provider_calls == calls_before + 1 && k.cached_keys == 1);

    /* rewrap after a key rotation in the keyring file: v2 -> v3, payload untouched. */
    uint32_t version = 0;
    CHECK_OK(mqseal_keyring_rotate(g_ring, "payments", &version));
    CHECK(version == 3);
    mqseal_cipher *fresh = keyring_cipher("payments");
    mqseal_buffer *rewrapped = NULL;
    CHECK_OK(mqseal_cipher_rewrap(fresh, mqseal_buffer_data(env[0]), mqseal_buffer_len(env[0]),
                                  &rewrapped));
    mqseal_envelope_info ri;
    CHECK_OK(mqseal_envelope_inspect(mqseal_buffer_data(rewrapped), mqseal_buffer_len(rewrapped),
                                     &ri, NULL));
    CHECK(ri.keys[0].key_version == 3 && ri.sequence == ei.sequence);
    CHECK(ri.ciphertext_len == ei.ciphertext_len);
    /* Both the new cipher and the old one (which re-reads the keyring) decrypt it. */
    mqseal_decrypt_info info;
    CHECK_OK(mqseal_cipher_decrypt(fresh, mqseal_buffer_data(rewrapped),
                                   mqseal_buffer_len(rewrapped), ctx, &plain, NULL, &info));
    CHECK(bytes_equal(mqseal_buffer_data(plain), mqseal_buffer_len(plain), BODY, strlen(BODY)));
    CHECK(info.key_version == 3);
    mqseal_buffer_free(plain);
    CHECK_OK(mqseal_cipher_decrypt(c, mqseal_buffer_data(rewrapped), mqseal_buffer_len(rewrapped),
                                   ctx, &plain, NULL, NULL));
    CHECK(bytes_equal(mqseal_buffer_data(plain), mqseal_buffer_len(plain), BODY, strlen(BODY)));
    mqseal_buffer_free(plain);

    /* A new data key after rotation uses the new primary version. */
    mqseal_buffer *v3 = NULL;
    CHECK_OK(mqseal_cipher_encrypt(fresh, (const uint8_t *)"v3", 2, ctx, NULL, &v3));
    CHECK_OK(mqseal_envelope_inspect(mqseal_buffer_data(v3), mqseal_buffer_len(v3), &ri, NULL));
    CHECK(ri.keys[0].key_version == 3);
    mqseal_buffer_free(v3);

    /* rewrap errors. */
    mqseal_cipher *ro = keyring_cipher(NULL);
    CHECK_STATUS(mqseal_cipher_rewrap(ro, mqseal_buffer_data(env[0]), mqseal_buffer_len(env[0]),
                                      &v3),
                 MQSEAL_INVALID_CONFIG);
    CHECK_STATUS(mqseal_cipher_rewrap(fresh, (const uint8_t *)"text", 4, &v3), MQSEAL_NOT_ENCRYPTED);
    mqseal_cipher_free(ro);

    mqseal_buffer_free(rewrapped);
    mqseal_cipher_free(fresh);
    mqseal_buffer_free(after);
    for (int i = 0; i < 3; i++) {
        mqseal_buffer_free(env[i]);
    }
    mqseal_attributes_free(ctx);
    mqseal_cipher_free(c);
}

/* ---- callback provider ------------------------------------------------------------------- */

/* A toy "KMS": wraps by XOR with a fixed KEK behind a 4-byte tag. Test code only. */
typedef struct {
    uint8_t kek[32];
    uint32_t version;
    atomic_int wraps, unwraps, generates, destroyed;
    int32_t fail_wrap;       /* status returned by wrap, 0 to work */
    int32_t fail_unwrap;     /* status returned by unwrap, 0 to work */
    size_t bogus_wrapped_len; /* when non-zero, reported as the wrapped length */
} toy_kms;

static int32_t toy_wrap(void *user, const char *key_id, const uint8_t *dek, size_t dek_len,
                        uint32_t *key_version, uint8_t *wrapped, size_t wrapped_cap,
                        size_t *wrapped_len) {
    toy_kms *kms = user;
    atomic_fetch_add(&kms->wraps, 1);
    if (kms->fail_wrap != 0) {
        return kms->fail_wrap;
    }
    if (strcmp(key_id, "kms-key") != 0 || dek_len != MQSEAL_DEK_LEN || wrapped_cap < 36) {
        return MQSEAL_KEY_NOT_FOUND;
    }
    memcpy(wrapped, "TOY1", 4);
    for (size_t i = 0; i < dek_len; i++) {
        wrapped[4 + i] = dek[i] ^ kms->kek[i];
    }
    *key_version = kms->version;
    *wrapped_len = kms->bogus_wrapped_len != 0 ? kms->bogus_wrapped_len : 36;
    return MQSEAL_OK;
}

static int32_t toy_unwrap(void *user, const char *key_id, uint32_t key_version,
                          const uint8_t *wrapped, size_t wrapped_len, uint8_t *dek,
                          size_t dek_len) {
    toy_kms *kms = user;
    atomic_fetch_add(&kms->unwraps, 1);
    if (kms->fail_unwrap != 0) {
        return kms->fail_unwrap;
    }
    if (strcmp(key_id, "kms-key") != 0) {
        return MQSEAL_KEY_NOT_FOUND;
    }
    if (key_version != kms->version) {
        return MQSEAL_KEY_VERSION_NOT_FOUND;
    }
    if (wrapped_len != 36 || memcmp(wrapped, "TOY1", 4) != 0 || dek_len != MQSEAL_DEK_LEN) {
        return MQSEAL_AUTHENTICATION_FAILED;
    }
    for (size_t i = 0; i < dek_len; i++) {
        dek[i] = wrapped[4 + i] ^ kms->kek[i];
    }
    return MQSEAL_OK;
}

static int32_t toy_generate(void *user, const char *key_id, uint32_t *key_version, uint8_t *dek,
                            size_t dek_len, uint8_t *wrapped, size_t wrapped_cap,
                            size_t *wrapped_len) {
    toy_kms *kms = user;
    atomic_fetch_add(&kms->generates, 1);
    for (size_t i = 0; i < dek_len; i++) {
        dek[i] = (uint8_t)(rand() & 0xff); /* test only: not a secure generator */
    }
    atomic_fetch_sub(&kms->wraps, 1); /* count only the generate call */
    return toy_wrap(user, key_id, dek, dek_len, key_version, wrapped, wrapped_cap, wrapped_len);
}

static void toy_destroy(void *user) {
    toy_kms *kms = user;
    atomic_fetch_add(&kms->destroyed, 1);
}

static void toy_init(toy_kms *kms) {
    memset(kms, 0, sizeof *kms);
    for (int i = 0; i < 32; i++) {
        kms->kek[i] = (uint8_t)(i * 7 + 3);
    }
    kms->version = 5;
}

static mqseal_cipher *callback_cipher(mqseal_callback_provider *p, const char *key_ids) {
    mqseal_cipher_options o;
    CHECK_OK(mqseal_cipher_options_init(&o));
    o.provider = p;
    o.key_ids = key_ids;
    mqseal_cipher *c = NULL;
    CHECK_OK(mqseal_cipher_new(&o, &c));
    return c;
}

static void test_callback_provider(void) {
    toy_kms kms;
    toy_init(&kms);
    mqseal_provider_callbacks cb = {
        .wrap = toy_wrap,
        .unwrap = toy_unwrap,
        .generate = NULL,
        .destroy = toy_destroy,
        .user_data = &kms,
    };
    mqseal_callback_provider *p = NULL;
    CHECK_OK(mqseal_callback_provider_new("toy-kms", "kms-key", &cb, &p));
    mqseal_cipher *c = callback_cipher(p, "kms-key");
    mqseal_callback_provider_free(p); /* the cipher keeps its own reference */
    CHECK(atomic_load(&kms.destroyed) == 0);

    mqseal_attributes *ctx = attrs_of("topic", "kms");
    mqseal_buffer *env = NULL;
    CHECK_OK(mqseal_cipher_encrypt(c, (const uint8_t *)BODY, strlen(BODY), ctx, NULL, &env));
    CHECK(atomic_load(&kms.wraps) == 1 && atomic_load(&kms.generates) == 0);
    mqseal_envelope_info ei;
    CHECK_OK(mqseal_envelope_inspect(mqseal_buffer_data(env), mqseal_buffer_len(env), &ei, NULL));
    CHECK(ei.keys[0].key_version == 5 && ei.keys[0].wrapped_len == 36);
    CHECK(strcmp(ei.keys[0].key_id, "kms-key") == 0);

    /* A separate consumer cipher must unwrap through the callback. */
    CHECK_OK(mqseal_callback_provider_new("toy-kms", NULL, &cb, &p));
    mqseal_cipher *consumer = callback_cipher(p, NULL);
    mqseal_callback_provider_free(p);
    mqseal_buffer *plain = NULL;
    mqseal_decrypt_info info;
    CHECK_OK(mqseal_cipher_decrypt(consumer, mqseal_buffer_data(env), mqseal_buffer_len(env), ctx,
                                   &plain, NULL, &info));
    CHECK(bytes_equal(mqseal_buffer_data(plain), mqseal_buffer_len(plain), BODY, strlen(BODY)));
    CHECK(atomic_load(&kms.unwraps) == 1);
    CHECK(info.key_version == 5 && strcmp(info.key_id, "kms-key") == 0);
    mqseal_buffer_free(plain);

    /* A failing unwrap callback: a throttled KMS gives a retryable code. */
    CHECK_OK(mqseal_cipher_clear_caches(consumer));
    kms.fail_unwrap = MQSEAL_PROVIDER_THROTTLED;
    CHECK_STATUS(mqseal_cipher_decrypt(consumer, mqseal_buffer_data(env), mqseal_buffer_len(env),
                                       ctx, &plain, NULL, NULL),
                 MQSEAL_PROVIDER_THROTTLED);
    CHECK(mqseal_error_is_retryable(mqseal_last_error_code()));
    CHECK(strstr(last_message(), "toy-kms") != NULL && strstr(last_message(), "601") != NULL);
    kms.fail_unwrap = MQSEAL_PROVIDER_UNAVAILABLE;
    CHECK_STATUS(mqseal_cipher_decrypt(consumer, mqseal_buffer_data(env), mqseal_buffer_len(env),
                                       ctx, &plain, NULL, NULL),
                 MQSEAL_PROVIDER_UNAVAILABLE);
    kms.fail_unwrap = MQSEAL_PROVIDER_DENIED;
    CHECK_STATUS(mqseal_cipher_decrypt(consumer, mqseal_buffer_data(env), mqseal_buffer_len(env),
                                       ctx, &plain, NULL, NULL),
                 MQSEAL_PROVIDER_DENIED);
    CHECK(!mqseal_error_is_retryable(mqseal_last_error_code()));
    kms.fail_unwrap = 12345; /* not an mqseal status */
    CHECK_STATUS(mqseal_cipher_decrypt(consumer, mqseal_buffer_data(env), mqseal_buffer_len(env),
                                       ctx, &plain, NULL, NULL),
                 MQSEAL_PROVIDER_INVALID_RESPONSE);
    /* An invalid response is remembered for the wrapped key (the negative cache), so the
     * provider is asked again only after the caches are cleared. */
    const int unwraps_before = atomic_load(&kms.unwraps);
    CHECK_STATUS(mqseal_cipher_decrypt(consumer, mqseal_buffer_data(env), mqseal_buffer_len(env),
                                       ctx, &plain, NULL, NULL),
                 MQSEAL_PROVIDER_INVALID_RESPONSE);
    CHECK(atomic_load(&kms.unwraps) == unwraps_before);
    CHECK_OK(mqseal_cipher_clear_caches(consumer));
    kms.fail_unwrap = MQSEAL_BUFFER_TOO_SMALL; /* a code that makes no sense here */
    CHECK_STATUS(mqseal_cipher_decrypt(consumer, mqseal_buffer_data(env), mqseal_buffer_len(env),
                                       ctx, &plain, NULL, NULL),
                 MQSEAL_PROVIDER_INVALID_RESPONSE);
    CHECK_OK(mqseal_cipher_clear_caches(consumer));
    kms.fail_unwrap = 0;
    CHECK_OK(mqseal_cipher_decrypt(consumer, mqseal_buffer_data(env), mqseal_buffer_len(env), ctx,
                                   &plain, NULL, NULL));
    mqseal_buffer_free(plain);
    mqseal_counters k;
    CHECK_OK(mqseal_cipher_counters(consumer, &k));
    CHECK(k.provider_failures == 5);
    CHECK(k.negative_cache_hits == 1);

    /* A failing wrap callback, and a callback reporting a bad length. */
    mqseal_buffer *b = NULL;
    CHECK_OK(mqseal_cipher_rotate(c));
    kms.fail_wrap = MQSEAL_PROVIDER_TIMEOUT;
    CHECK_STATUS(mqseal_cipher_encrypt(c, (const uint8_t *)"x", 1, NULL, NULL, &b),
                 MQSEAL_PROVIDER_TIMEOUT);
    CHECK(mqseal_error_is_retryable(mqseal_last_error_code()));
    kms.fail_wrap = 0;
    kms.bogus_wrapped_len = MQSEAL_MAX_WRAPPED_KEY_LEN + 1;
    CHECK_STATUS(mqseal_cipher_encrypt(c, (const uint8_t *)"x", 1, NULL, NULL, &b),
                 MQSEAL_PROVIDER_INVALID_RESPONSE);
    kms.bogus_wrapped_len = 0;
    CHECK(b == NULL);
    CHECK_OK(mqseal_cipher_encrypt(c, (const uint8_t *)"x", 1, NULL, NULL, &b));
    mqseal_buffer_free(b);

    /* Freeing the last user of the provider calls destroy exactly once. */
    mqseal_cipher_free(consumer);
    CHECK(atomic_load(&kms.destroyed) == 1);
    mqseal_cipher_free(c);
    CHECK(atomic_load(&kms.destroyed) == 2);

    /* With a generate callback, new data keys come from it. */
    toy_kms gen;
    toy_init(&gen);
    mqseal_provider_callbacks cbg = cb;
    cbg.generate = toy_generate;
    cbg.user_data = &gen;
    CHECK_OK(mqseal_callback_provider_new(NULL, NULL, &cbg, &p));
    c = callback_cipher(p, "kms-key");
    CHECK_OK(mqseal_cipher_encrypt(c, (const uint8_t *)"g", 1, NULL, NULL, &b));
    CHECK(atomic_load(&gen.generates) == 1 && atomic_load(&gen.wraps) == 0);
    mqseal_cipher *other = callback_cipher(p, NULL);
    CHECK_OK(mqseal_cipher_decrypt(other, mqseal_buffer_data(b), mqseal_buffer_len(b), NULL, &plain,
                                   NULL, NULL));
    CHECK(bytes_equal(mqseal_buffer_data(plain), mqseal_buffer_len(plain), "g", 1));
    mqseal_buffer_free(plain);
    mqseal_buffer_free(b);
    mqseal_cipher_free(other);
    mqseal_cipher_free(c);
    CHECK(atomic_load(&gen.destroyed) == 0); /* the handle still holds it */
    mqseal_callback_provider_free(p);
    CHECK(atomic_load(&gen.destroyed) == 1);

    /* Construction errors: destroy is not called when creation fails. */
    mqseal_provider_callbacks no_wrap = cb;
    no_wrap.wrap = NULL;
    p = NULL;
    CHECK_STATUS(mqseal_callback_provider_new("x", NULL, &no_wrap, &p), MQSEAL_NULL_ARGUMENT);
    mqseal_provider_callbacks no_unwrap = cb;
    no_unwrap.unwrap = NULL;
    CHECK_STATUS(mqseal_callback_provider_new("x", NULL, &no_unwrap, &p), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_callback_provider_new("\xff", NULL, &cb, &p), MQSEAL_INVALID_ARGUMENT);
    CHECK(p == NULL && atomic_load(&kms.destroyed) == 2);
    /* A provider limited to other key ids is refused for this key id. */
    CHECK_OK(mqseal_callback_provider_new("x", "a,b", &cb, &p));
    mqseal_cipher_options o;
    CHECK_OK(mqseal_cipher_options_init(&o));
    o.provider = p;
    o.key_ids = "kms-key";
    mqseal_cipher *bad = NULL;
    CHECK_STATUS(mqseal_cipher_new(&o, &bad), MQSEAL_INVALID_CONFIG);
    /* ... unless the keyring is configured too: callback first, then the keyring. */
    o.keyring_path = g_ring;
    o.key_ids = "orders";
    CHECK_OK(mqseal_cipher_new(&o, &bad));
    CHECK_OK(mqseal_cipher_encrypt(bad, (const uint8_t *)"k", 1, NULL, NULL, &b));
    CHECK_OK(mqseal_envelope_inspect(mqseal_buffer_data(b), mqseal_buffer_len(b), &ei, NULL));
    CHECK(strcmp(ei.keys[0].key_id, "orders") == 0 && ei.keys[0].wrapped_len == 40);
    mqseal_buffer_free(b);
    mqseal_cipher_free(bad);
    mqseal_callback_provider_free(p);
    CHECK(atomic_load(&kms.destroyed) == 3);

    /* A callback provider from configuration text. */
    CHECK_OK(mqseal_callback_provider_new("toy-kms", NULL, &cb, &p));
    CHECK_OK(mqseal_cipher_new_from_config("provider = callback\nkey_id = kms-key\n", p, &c));
    mqseal_callback_provider_free(p);
    CHECK_OK(mqseal_cipher_encrypt(c, (const uint8_t *)BODY, strlen(BODY), ctx, NULL, &b));
    CHECK_OK(mqseal_cipher_decrypt(c, mqseal_buffer_data(b), mqseal_buffer_len(b), ctx, &plain, NULL,
                                   NULL));
    mqseal_buffer_free(plain);
    mqseal_buffer_free(b);
    mqseal_cipher_free(c);
    CHECK(atomic_load(&kms.destroyed) == 4);

    mqseal_buffer_free(env);
    mqseal_attributes_free(ctx);
}

/* ---- panics, last error, threads --------------------------------------------------------- */

static void test_panic_boundary(void) {
    CHECK_STATUS(mqseal_debug_force_panic(), MQSEAL_PANIC);
    CHECK(mqseal_last_error_code() == MQSEAL_PANIC);
    CHECK(strstr(last_message(), "panic") != NULL);
    CHECK(strcmp(mqseal_error_name(MQSEAL_PANIC), "panic") == 0);
    /* The library keeps working after a caught panic. */
    mqseal_cipher *c = keyring_cipher("orders");
    mqseal_buffer *b = NULL;
    CHECK_OK(mqseal_cipher_encrypt(c, (const uint8_t *)"after", 5, NULL, NULL, &b));
    mqseal_buffer_free(b);
    mqseal_cipher_free(c);
    CHECK_STATUS(mqseal_debug_force_panic(), MQSEAL_PANIC);
}

static void test_last_error_message(void) {
    mqseal_buffer *b = NULL;
    mqseal_cipher *c = keyring_cipher("orders");
    CHECK_STATUS(mqseal_cipher_decrypt(c, (const uint8_t *)"plain", 5, NULL, &b, NULL, NULL),
                 MQSEAL_NOT_ENCRYPTED);
    size_t full = 0;
    CHECK_OK(mqseal_last_error_message(NULL, 0, &full)); /* length query */
    CHECK(full > 20);
    char *whole = malloc(full + 1);
    size_t len = 0;
    CHECK_OK(mqseal_last_error_message(whole, full + 1, &len));
    CHECK(len == full && strlen(whole) == full);
    char small[8];
    memset(small, 'x', sizeof small);
    CHECK_OK(mqseal_last_error_message(small, sizeof small, &len));
    CHECK(len == full && strlen(small) == 7 && strncmp(small, whole, 7) == 0);
    CHECK_OK(mqseal_last_error_message(small, 1, NULL));
    CHECK(small[0] == '\0');
    /* A failing read does not replace the last error. */
    CHECK_STATUS(mqseal_last_error_message(NULL, 5, &len), MQSEAL_NULL_ARGUMENT);
    CHECK(mqseal_last_error_code() == MQSEAL_NOT_ENCRYPTED);
    /* Successful calls do not reset it. */
    mqseal_attributes *a = attrs_of("k", "v");
    mqseal_attributes_free(a);
    CHECK(mqseal_last_error_code() == MQSEAL_NOT_ENCRYPTED);
    CHECK(strcmp(last_message(), whole) == 0);
    free(whole);
    mqseal_cipher_free(c);
}

#define THREADS 4
#define PER_THREAD 100

typedef struct {
    mqseal_cipher *cipher;
    const mqseal_attributes *ctx; /* shared read-only by every thread */
    pthread_barrier_t *barrier;
    int index;
    int failures;
    int32_t seen_code;
    char seen_message[256];
} worker;

static void *worker_main(void *arg) {
    worker *w = arg;
    uint8_t body[64];
    uint8_t env[512];
    uint8_t back[64];
    for (int i = 0; i < PER_THREAD; i++) {
        int n = snprintf((char *)body, sizeof body, "thread %d message %d", w->index, i);
        size_t env_len = 0;
        size_t back_len = 0;
        if (mqseal_cipher_encrypt_into(w->cipher, body, (size_t)n, w->ctx, NULL, env, sizeof env,
                                       &env_len) != MQSEAL_OK ||
            mqseal_cipher_decrypt_into(w->cipher, env, env_len, w->ctx, back, sizeof back,
                                       &back_len, NULL, NULL) != MQSEAL_OK ||
            back_len != (size_t)n || memcmp(back, body, back_len) != 0) {
            w->failures++;
        }
    }
    /* Each thread fails differently, waits until all have failed, then reads its own. */
    mqseal_buffer *b = NULL;
    if (w->index % 2 == 0) {
        mqseal_cipher_decrypt(w->cipher, (const uint8_t *)"not an envelope", 15, NULL, &b, NULL, NULL);
    } else {
        mqseal_attributes_set(NULL, "k", "v");
    }
    pthread_barrier_wait(w->barrier);
    w->seen_code = mqseal_last_error_code();
    mqseal_last_error_message(w->seen_message, sizeof w->seen_message, NULL);
    return NULL;
}

static void test_threads(void) {
    mqseal_cipher *c = keyring_cipher("orders");
    mqseal_attributes *ctx = attrs_of("topic", "threads");
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, THREADS);
    worker w[THREADS];
    pthread_t t[THREADS];
    /* The main thread's last error must survive the workers' errors. */
    CHECK_STATUS(mqseal_debug_force_panic(), MQSEAL_PANIC);
    for (int i = 0; i < THREADS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].cipher = c;
        w[i].ctx = ctx;
        w[i].barrier = &barrier;
        w[i].index = i;
        CHECK(pthread_create(&t[i], NULL, worker_main, &w[i]) == 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        CHECK(w[i].failures == 0);
        int32_t want = i % 2 == 0 ? MQSEAL_NOT_ENCRYPTED : MQSEAL_NULL_ARGUMENT;
        CHECK(w[i].seen_code == want);
        CHECK(strstr(w[i].seen_message, i % 2 == 0 ? "not an mqseal envelope" : "NULL") != NULL);
    }
    CHECK(mqseal_last_error_code() == MQSEAL_PANIC);
    mqseal_counters k;
    CHECK_OK(mqseal_cipher_counters(c, &k));
    CHECK(k.encrypted == THREADS * PER_THREAD && k.decrypted == THREADS * PER_THREAD);
    CHECK(k.data_keys_created == 1);
    pthread_barrier_destroy(&barrier);
    mqseal_attributes_free(ctx);
    mqseal_cipher_free(c);
}

/* ---- hostile envelopes, hostile arguments, key churn ----------------------------------- */

/* Status codes that a damaged envelope may produce; anything else is a bug. */
static int is_envelope_error(int32_t status) {
    switch (status) {
    case MQSEAL_NOT_ENCRYPTED:
    case MQSEAL_TRUNCATED_ENVELOPE:
    case MQSEAL_MALFORMED_ENVELOPE:
    case MQSEAL_UNSUPPORTED_VERSION:
    case MQSEAL_UNSUPPORTED_SUITE:
    case MQSEAL_UNSUPPORTED_FEATURE:
    case MQSEAL_AUTHENTICATION_FAILED:
    case MQSEAL_KEY_COMMITMENT_MISMATCH:
    case MQSEAL_KEY_NOT_FOUND:
    case MQSEAL_KEY_VERSION_NOT_FOUND:
        return 1;
    default:
        return 0;
    }
}

#define FILL 0xEE

/* Decrypts a damaged envelope into a filled buffer and with mqseal_cipher_decrypt. Both
 * must fail with the same envelope error and leave no plaintext and no out-param. */
static void check_damaged(mqseal_cipher *c, const uint8_t *env, size_t len,
                          const mqseal_attributes *ctx, size_t *failures) {
    uint8_t out[1024];
    memset(out, FILL, sizeof out);
    size_t out_len = 777;
    int32_t into = mqseal_cipher_decrypt_into(c, env, len, ctx, out, sizeof out, &out_len, NULL,
                                              NULL);
    mqseal_buffer *b = (mqseal_buffer *)&out_len; /* sentinel, never dereferenced */
    int32_t whole = mqseal_cipher_decrypt(c, env, len, ctx, &b, NULL, NULL);
    int clean = 1;
    for (size_t i = 0; i < sizeof out; i++) {
        clean &= out[i] == FILL || out[i] == 0;
    }
    if (!is_envelope_error(into) || into != whole || out_len != 777 || !clean ||
        b != (mqseal_buffer *)&out_len) {
        if (*failures < 5) {
            fprintf(stderr, "damaged envelope of %zu bytes: decrypt_into %s, decrypt %s%s\n", len,
                    mqseal_error_name(into), mqseal_error_name(whole),
                    clean ? "" : ", plaintext left in the output buffer");
        }
        (*failures)++;
    }
}

static void test_hostile_envelopes(void) {
    const char *body = "hostile sample body, hostile sample body, hostile sample body";
    const size_t body_len = strlen(body);
    mqseal_attributes *ctx = attrs_of("topic", "orders");
    mqseal_attributes *props = attrs_of("customer", "alice");
    for (int variant = 0; variant < 8; variant++) {
        mqseal_cipher_options o;
        CHECK_OK(mqseal_cipher_options_init(&o));
        o.keyring_path = g_ring;
        o.key_ids = "orders";
        o.suite = variant & 1 ? MQSEAL_SUITE_CHACHA20_POLY1305 : MQSEAL_SUITE_AES_256_GCM;
        o.compression = (variant & 2) != 0;
        o.compression_min_size = 16;
        o.store_context = (variant & 4) != 0;
        mqseal_cipher *c = NULL;
        CHECK_OK(mqseal_cipher_new(&o, &c));
        mqseal_buffer *env = NULL;
        CHECK_OK(mqseal_cipher_encrypt(c, (const uint8_t *)body, body_len, ctx, props, &env));
        const uint8_t *e = mqseal_buffer_data(env);
        const size_t n = mqseal_buffer_len(env);
        uint8_t *bad = malloc(n);
        size_t failures = 0;
        for (size_t len = 0; len < n; len++) {
            check_damaged(c, e, len, ctx, &failures);
        }
        for (size_t bit = 0; bit < n * 8; bit++) {
            memcpy(bad, e, n);
            bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            check_damaged(c, bad, n, ctx, &failures);
            check_damaged(c, bad, n, NULL, &failures);
        }
        CHECK(failures == 0);

        /* Header fields give their documented codes (docs/FORMAT.md offsets). */
        uint8_t out[256];
        size_t out_len = 0;
        memcpy(bad, e, n);
        bad[1] = 2; /* a newer format version */
        CHECK_STATUS(mqseal_cipher_decrypt_into(c, bad, n, ctx, out, sizeof out, &out_len, NULL,
                                                NULL),
                     MQSEAL_UNSUPPORTED_VERSION);
        memcpy(bad, e, n);
        bad[2] = 9;
        CHECK_STATUS(mqseal_cipher_decrypt_into(c, bad, n, ctx, out, sizeof out, &out_len, NULL,
                                                NULL),
                     MQSEAL_UNSUPPORTED_SUITE);
        memcpy(bad, e, n);
        bad[3] |= 0x80;
        CHECK_STATUS(mqseal_cipher_decrypt_into(c, bad, n, ctx, out, sizeof out, &out_len, NULL,
                                                NULL),
                     MQSEAL_UNSUPPORTED_FEATURE);

        /* The undamaged envelope decrypts, so the failures above were real. */
        CHECK_OK(mqseal_cipher_decrypt_into(c, e, n, ctx, out, sizeof out, &out_len, NULL, NULL));
        CHECK(bytes_equal(out, out_len, body, body_len));
        free(bad);
        mqseal_buffer_free(env);
        mqseal_cipher_free(c);
    }

    /* Wrong key: another keyring file with a different key under the same name. */
    char other_ring[320];
    snprintf(other_ring, sizeof other_ring, "%s/other-keyring", g_dir);
    unlink(other_ring);
    uint32_t version = 0;
    CHECK_OK(mqseal_keyring_generate(other_ring, "orders", &version));
    mqseal_cipher_options o;
    CHECK_OK(mqseal_cipher_options_init(&o));
    o.keyring_path = other_ring;
    mqseal_cipher *other = NULL;
    CHECK_OK(mqseal_cipher_new(&o, &other));
    mqseal_cipher *c = keyring_cipher("orders");
    mqseal_buffer *env = NULL;
    CHECK_OK(mqseal_cipher_encrypt(c, (const uint8_t *)body, body_len, ctx, NULL, &env));
    mqseal_buffer *plain = NULL;
    CHECK_STATUS(mqseal_cipher_decrypt(other, mqseal_buffer_data(env), mqseal_buffer_len(env), ctx,
                                       &plain, NULL, NULL),
                 MQSEAL_AUTHENTICATION_FAILED);
    CHECK(plain == NULL);

    /* Wrong key version: the other keyring gains version 2 and encrypts under it. */
    CHECK_OK(mqseal_keyring_rotate(other_ring, "orders", &version));
    CHECK(version == 2);
    mqseal_cipher_free(other);
    o.key_ids = "orders";
    CHECK_OK(mqseal_cipher_new(&o, &other));
    mqseal_buffer *env2 = NULL;
    CHECK_OK(mqseal_cipher_encrypt(other, (const uint8_t *)body, body_len, ctx, NULL, &env2));
    CHECK_STATUS(mqseal_cipher_decrypt(c, mqseal_buffer_data(env2), mqseal_buffer_len(env2), ctx,
                                       &plain, NULL, NULL),
                 MQSEAL_KEY_VERSION_NOT_FOUND);

    /* Empty body, and plaintext where an envelope is expected. */
    mqseal_buffer *empty = NULL;
    CHECK_OK(mqseal_cipher_encrypt(c, NULL, 0, ctx, NULL, &empty));
    CHECK_OK(mqseal_cipher_decrypt(c, mqseal_buffer_data(empty), mqseal_buffer_len(empty), ctx,
                                   &plain, NULL, NULL));
    CHECK(mqseal_buffer_len(plain) == 0);
    mqseal_buffer_free(plain);
    const char *json = "{\"order\": 42}";
    CHECK_STATUS(mqseal_cipher_decrypt(c, (const uint8_t *)json, strlen(json), ctx, &plain, NULL,
                                       NULL),
                 MQSEAL_NOT_ENCRYPTED);

    mqseal_buffer_free(empty);
    mqseal_buffer_free(env2);
    mqseal_buffer_free(env);
    mqseal_cipher_free(other);
    mqseal_cipher_free(c);
    unlink(other_ring);
    mqseal_attributes_free(props);
    mqseal_attributes_free(ctx);
}

static void test_hostile_arguments(void) {
    mqseal_cipher *c = keyring_cipher("orders");
    uint8_t buf[256];
    memset(buf, 0, sizeof buf);
    size_t len = 0;
    mqseal_buffer *b = NULL;

    /* NULL pointers with lengths near SIZE_MAX are NULL arguments, not reads. */
    CHECK_STATUS(mqseal_cipher_encrypt(c, NULL, SIZE_MAX, NULL, NULL, &b), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_cipher_encrypt_into(c, NULL, SIZE_MAX, NULL, NULL, buf, sizeof buf, &len),
                 MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_cipher_encrypt_into(c, buf, 1, NULL, NULL, NULL, SIZE_MAX, &len),
                 MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_cipher_decrypt(c, NULL, SIZE_MAX, NULL, &b, NULL, NULL),
                 MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_cipher_decrypt_into(c, buf, 8, NULL, NULL, SIZE_MAX, &len, NULL, NULL),
                 MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_cipher_decrypted_len(c, NULL, SIZE_MAX, &len), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_envelope_inspect(NULL, SIZE_MAX, NULL, NULL), MQSEAL_NULL_ARGUMENT);
    CHECK_STATUS(mqseal_cipher_rewrap(c, NULL, SIZE_MAX, &b), MQSEAL_NULL_ARGUMENT);
    CHECK(b == NULL);

    /* Body lengths whose envelope size would overflow size_t. */
    size_t lengths[] = {SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 64, SIZE_MAX / 2, (size_t)1 << 31};
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        len = 5;
        CHECK_STATUS(mqseal_cipher_encrypted_len(c, lengths[i], NULL, NULL, &len),
                     MQSEAL_USAGE_LIMIT_EXCEEDED);
        CHECK(len == 5);
    }

    /* Output buffers one byte short at every size up to the envelope. */
    mqseal_attributes *ctx = attrs_of("topic", "orders");
    size_t need = 0;
    CHECK_OK(mqseal_cipher_encrypted_len(c, 10, ctx, NULL, &need));
    CHECK(need < sizeof buf);
    size_t short_failures = 0;
    for (size_t cap = 0; cap < need; cap++) {
        memset(buf, FILL, sizeof buf);
        len = 0;
        int32_t status = mqseal_cipher_encrypt_into(c, (const uint8_t *)"0123456789", 10, ctx,
                                                    NULL, buf, cap, &len);
        int untouched = 1;
        for (size_t i = 0; i < sizeof buf; i++) {
            untouched &= buf[i] == FILL;
        }
        short_failures += status != MQSEAL_BUFFER_TOO_SMALL || len != need || !untouched;
    }
    CHECK(short_failures == 0);

    /* Options: unknown suites, a wrong struct_size, out-of-range limits. */
    mqseal_cipher_options o;
    mqseal_cipher *bad = (mqseal_cipher *)&len; /* sentinel, never dereferenced */
    uint32_t suites[] = {0, 3, 255, UINT32_MAX};
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++) {
        CHECK_OK(mqseal_cipher_options_init(&o));
        o.keyring_path = g_ring;
        o.suite = suites[i];
        CHECK_STATUS(mqseal_cipher_new(&o, &bad), MQSEAL_INVALID_CONFIG);
    }
    size_t sizes[] = {0, sizeof o - 1, sizeof o + 1, SIZE_MAX};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        CHECK_OK(mqseal_cipher_options_init(&o));
        o.keyring_path = g_ring;
        o.struct_size = sizes[i];
        CHECK_STATUS(mqseal_cipher_new(&o, &bad), MQSEAL_INVALID_CONFIG);
    }
    CHECK_OK(mqseal_cipher_options_init(&o));
    o.keyring_path = g_ring;
    o.max_messages = UINT64_MAX;
    CHECK_STATUS(mqseal_cipher_new(&o, &bad), MQSEAL_INVALID_CONFIG);
    CHECK_OK(mqseal_cipher_options_init(&o));
    o.keyring_path = g_ring;
    o.max_body_len = SIZE_MAX;
    CHECK_STATUS(mqseal_cipher_new(&o, &bad), MQSEAL_INVALID_CONFIG);
    CHECK(bad == (mqseal_cipher *)&len);

    mqseal_attributes_free(ctx);
    mqseal_cipher_free(c);
}

#define CHURN_THREADS 6
#define CHURN_ITERATIONS 150

typedef struct {
    mqseal_cipher **producers; /* two, one per key id */
    mqseal_cipher *consumer;   /* decrypt-only, one-entry cache */
    int index;
    int failures;
} churn_worker;

static void *churn_main(void *arg) {
    churn_worker *w = arg;
    static const char *const key_ids[] = {"orders", "payments"};
    char topic[32];
    snprintf(topic, sizeof topic, "churn-%d", w->index);
    mqseal_attributes *ctx = attrs_of("topic", topic);
    mqseal_attributes *wrong = attrs_of("topic", "elsewhere");
    uint8_t body[600];
    uint8_t env[1024];
    uint8_t back[600];
    for (int i = 0; i < CHURN_ITERATIONS; i++) {
        int which = (w->index + i) % 2;
        size_t body_len = (size_t)(i * 37 + w->index * 11) % sizeof body;
        for (size_t j = 0; j < body_len; j++) {
            body[j] = (uint8_t)(j * 31 + (size_t)i + 1);
        }
        size_t env_len = 0;
        size_t back_len = 0;
        mqseal_decrypt_info info;
        int ok = mqseal_cipher_encrypt_into(w->producers[which], body, body_len, ctx, NULL, env,
                                            sizeof env, &env_len) == MQSEAL_OK &&
                 mqseal_cipher_decrypt_into(w->consumer, env, env_len, ctx, back, sizeof back,
                                            &back_len, NULL, &info) == MQSEAL_OK &&
                 back_len == body_len && memcmp(back, body, body_len) == 0 &&
                 strcmp(info.key_id, key_ids[which]) == 0 &&
                 mqseal_cipher_decrypt_into(w->consumer, env, env_len, wrong, back, sizeof back,
                                            &back_len, NULL, NULL) == MQSEAL_AUTHENTICATION_FAILED;
        w->failures += !ok;
        if (i % 40 == 39) {
            mqseal_cipher_clear_caches(w->consumer);
        }
    }
    mqseal_attributes_free(wrong);
    mqseal_attributes_free(ctx);
    return NULL;
}

/* Threads encrypt through two key ids whose data keys retire every two messages, and
 * decrypt through a one-entry cache that evicts on almost every call. */
static void test_key_churn(void) {
    mqseal_cipher *producers[2] = {NULL, NULL};
    const char *key_ids[] = {"orders", "payments"};
    for (int i = 0; i < 2; i++) {
        mqseal_cipher_options o;
        CHECK_OK(mqseal_cipher_options_init(&o));
        o.keyring_path = g_ring;
        o.key_ids = key_ids[i];
        o.max_messages = 2;
        o.max_bytes = 2000;
        o.cache_capacity = 1;
        CHECK_OK(mqseal_cipher_new(&o, &producers[i]));
    }
    mqseal_cipher_options o;
    CHECK_OK(mqseal_cipher_options_init(&o));
    o.keyring_path = g_ring;
    o.cache_capacity = 1;
    o.cache_ttl_seconds = 1;
    mqseal_cipher *consumer = NULL;
    CHECK_OK(mqseal_cipher_new(&o, &consumer));

    churn_worker w[CHURN_THREADS];
    pthread_t t[CHURN_THREADS];
    for (int i = 0; i < CHURN_THREADS; i++) {
        w[i] = (churn_worker){.producers = producers, .consumer = consumer, .index = i};
        CHECK(pthread_create(&t[i], NULL, churn_main, &w[i]) == 0);
    }
    for (int i = 0; i < CHURN_THREADS; i++) {
        pthread_join(t[i], NULL);
        CHECK(w[i].failures == 0);
    }
    mqseal_counters k;
    CHECK_OK(mqseal_cipher_counters(consumer, &k));
    CHECK(k.decrypted == CHURN_THREADS * CHURN_ITERATIONS);
    CHECK(k.decrypt_failures == CHURN_THREADS * CHURN_ITERATIONS);
    CHECK(k.provider_failures == 0);
    uint64_t created = 0;
    for (int i = 0; i < 2; i++) {
        CHECK_OK(mqseal_cipher_counters(producers[i], &k));
        created += k.data_keys_created;
        mqseal_cipher_free(producers[i]);
    }
    /* At most two messages per data key. */
    CHECK(created >= CHURN_THREADS * CHURN_ITERATIONS / 2);
    mqseal_cipher_free(consumer);
}

/* ---- main ------------------------------------------------------------------------------- */

int main(int argc, char **argv) {
    int own_dir = 0;
    if (argc > 1) {
        snprintf(g_dir, sizeof g_dir, "%s", argv[1]);
        mkdir(g_dir, 0700);
    } else {
        snprintf(g_dir, sizeof g_dir, "/tmp/mqseal-ctest-XXXXXX");
        if (mkdtemp(g_dir) == NULL) {
            perror("mkdtemp");
            return 2;
        }
        own_dir = 1;
    }
    snprintf(g_ring, sizeof g_ring, "%s/keyring", g_dir);
    unlink(g_ring);

    test_version();
    test_error_names();
    test_keyring();
    test_attributes();
    test_round_trip();
    test_into_and_sizes();
    test_null_rules();
    test_failures();
    test_construction();
    test_inspect();
    test_rotate_rewrap_counters();
    test_callback_provider();
    test_panic_boundary();
    test_last_error_message();
    test_threads();
    test_hostile_envelopes();
    test_hostile_arguments();
    test_key_churn();

    if (own_dir) {
        char path[300];
        snprintf(path, sizeof path, "%s/mqseal.properties", g_dir);
        unlink(path);
        unlink(g_ring);
        rmdir(g_dir);
    }
    int passed = atomic_load(&g_passed);
    int failed = atomic_load(&g_failed);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
