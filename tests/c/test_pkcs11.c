/*
 * The C ABI with provider = pkcs11: a cipher built from configuration text encrypts and
 * decrypts through a SoftHSM2 token, and token errors reach C as mqseal status codes.
 *
 * Run by `make test-pkcs11` after tests/hsm/softhsm.sh init, with the variables of
 * `softhsm.sh env` set. Prints "N passed, M failed" and exits non-zero on a failure.
 *
 * Usage: test_pkcs11 SCRATCH_DIR
 */
#define _GNU_SOURCE

#include <mqseal.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int g_passed;
static int g_failed;

static void expect_status(int line, const char *what, int32_t got, int32_t want) {
    if (got == want) {
        g_passed++;
        return;
    }
    char msg[512];
    mqseal_last_error_message(msg, sizeof msg, NULL);
    fprintf(stderr, "test_pkcs11.c:%d: FAILED: %s returned %s, expected %s; last error: %s\n", line,
            what, mqseal_error_name(got), mqseal_error_name(want), msg);
    g_failed++;
}

static void expect(int line, const char *what, int ok) {
    if (ok) {
        g_passed++;
    } else {
        fprintf(stderr, "test_pkcs11.c:%d: FAILED: %s\n", line, what);
        g_failed++;
    }
}

#define STATUS(expr, want) expect_status(__LINE__, #expr, (expr), (want))
#define CHECK(cond) expect(__LINE__, #cond, (cond))

static const char *env(const char *name) {
    const char *v = getenv(name);
    if (v == NULL || *v == '\0') {
        fprintf(stderr, "test_pkcs11: %s is not set; run `eval \"$(tests/hsm/softhsm.sh env)\"`\n",
                name);
        exit(2);
    }
    return v;
}

static void config_text(char *out, size_t cap, const char *token, const char *pin_line) {
    snprintf(out, cap,
             "provider = pkcs11\n"
             "pkcs11.module = %s\n"
             "pkcs11.token_label = %s\n"
             "%s\n"
             "key_id = pkcs11:mqseal-test\n",
             env("MQSEAL_PKCS11_MODULE"), token, pin_line);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: test_pkcs11 SCRATCH_DIR\n");
        return 2;
    }
    char pin_line[600];
    snprintf(pin_line, sizeof pin_line, "pkcs11.pin_file = %s", env("MQSEAL_PKCS11_PIN_FILE"));
    char config[2048];
    config_text(config, sizeof config, env("MQSEAL_PKCS11_TOKEN"), pin_line);

    /* A round trip under KEK pkcs11:mqseal-test, which softhsm.sh init created. */
    mqseal_cipher *c = NULL;
    STATUS(mqseal_cipher_new_from_config(config, NULL, &c), MQSEAL_OK);
    static const char body[] = "{\"order\":42,\"card\":\"4111-1111-1111-1111\"}";
    mqseal_buffer *sealed = NULL;
    mqseal_buffer *plain = NULL;
    mqseal_decrypt_info info;
    if (c != NULL) {
        STATUS(mqseal_cipher_encrypt(c, (const uint8_t *)body, strlen(body), NULL, NULL, &sealed),
               MQSEAL_OK);
    }
    if (sealed != NULL) {
        /* A second cipher, so the data key is unwrapped in the token. */
        mqseal_cipher *consumer = NULL;
        STATUS(mqseal_cipher_new_from_config(config, NULL, &consumer), MQSEAL_OK);
        if (consumer != NULL) {
            STATUS(mqseal_cipher_decrypt(consumer, mqseal_buffer_data(sealed),
                                         mqseal_buffer_len(sealed), NULL, &plain, NULL, &info),
                   MQSEAL_OK);
            mqseal_cipher_free(consumer);
        }
    }
    if (plain != NULL) {
        CHECK(mqseal_buffer_len(plain) == strlen(body) &&
              memcmp(mqseal_buffer_data(plain), body, strlen(body)) == 0);
        CHECK(strcmp(info.key_id, "pkcs11:mqseal-test") == 0 && info.key_version == 1);
    }
    mqseal_buffer_free(plain);
    mqseal_buffer_free(sealed);
    mqseal_cipher_free(c);

    /* Errors: an unknown token, then a wrong PIN on the token no one is logged in to. */
    mqseal_cipher *bad = NULL;
    config_text(config, sizeof config, "no-such-token", pin_line);
    STATUS(mqseal_cipher_new_from_config(config, NULL, &bad), MQSEAL_INVALID_CONFIG);
    char wrong[512];
    snprintf(wrong, sizeof wrong, "%s/wrong.pin", argv[1]);
    FILE *f = fopen(wrong, "w");
    CHECK(f != NULL);
    if (f != NULL) {
        fputs("0000-wrong-test-pin\n", f);
        fclose(f);
        chmod(wrong, 0600);
    }
    snprintf(pin_line, sizeof pin_line, "pkcs11.pin_file = %s", wrong);
    config_text(config, sizeof config, env("MQSEAL_PKCS11_PIN_TOKEN"), pin_line);
    STATUS(mqseal_cipher_new_from_config(config, NULL, &bad), MQSEAL_PROVIDER_DENIED);
    CHECK(bad == NULL);

    printf("test_pkcs11: %d passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}
