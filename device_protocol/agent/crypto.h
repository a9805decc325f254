/* The key operations the agent needs; crypto_mbedtls.c implements them on mbedTLS. */
#ifndef AGENT_CRYPTO_H
#define AGENT_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

typedef enum { KT_NONE = 0, KT_EC_P256 = 1, KT_EC_P384 = 2, KT_RSA_2048 = 3 } key_type_t;

/* Called now and then during long operations (the agent sends BUSY from it). */
typedef void (*crypto_tick_t)(void *ctx);

int crypto_init(void);
/* A new key pair as DER (written to key, *len set); 0 on success. */
int crypto_keygen(key_type_t kt, uint8_t *key, size_t cap, size_t *len, crypto_tick_t tick, void *ctx);
/* A DER PKCS#10 request, subject CN=cn, serialNumber=uid, signed with SHA-256; 0 on success. */
int crypto_csr(const uint8_t *key, size_t key_len, const char *cn, const char *uid, uint8_t *out,
               size_t cap, size_t *len, crypto_tick_t tick, void *ctx);
/* ECDSA (DER) or RSASSA-PKCS1-v1_5 over SHA-256 of msg; 0 on success. */
int crypto_sign(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t n, uint8_t *sig,
                size_t cap, size_t *len, crypto_tick_t tick, void *ctx);
void crypto_sha256(const uint8_t *data, size_t n, uint8_t out[32]);

#endif
