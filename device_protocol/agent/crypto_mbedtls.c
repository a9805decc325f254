/* crypto.h on mbedTLS 2.28 (3.x differs in a few signatures, marked): pk keys in DER, ECDSA and
 * RSA key generation, PKCS#10 requests with mbedtls_x509write_csr, SHA-256 signatures. */
#include "crypto.h"

#include <string.h>

#include "hal.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/ecp.h"
#include "mbedtls/entropy.h"
#include "mbedtls/pk.h"
#include "mbedtls/rsa.h"
#include "mbedtls/sha256.h"
#include "mbedtls/version.h"
#include "mbedtls/x509_csr.h"

static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;
static crypto_tick_t tick_fn;
static void *tick_ctx;

static int hal_source(void *data, unsigned char *out, size_t len, size_t *olen)
{
    (void)data;
    if (hal_entropy(out, len)) return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
    *olen = len;
    return 0;
}

/* The DRBG, with a keep-alive tick: prime search and signing call it often. */
static int rng(void *p, unsigned char *out, size_t len)
{
    (void)p;
    if (tick_fn) tick_fn(tick_ctx);
    return mbedtls_ctr_drbg_random(&drbg, out, len);
}

int crypto_init(void)
{
    static const unsigned char pers[] = "station-agent";
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    if (mbedtls_entropy_add_source(&entropy, hal_source, NULL, 32, MBEDTLS_ENTROPY_SOURCE_STRONG))
        return -1;
    return mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, pers, sizeof pers - 1);
}

/* mbedtls writes DER at the end of the buffer: move it to the front. */
static int take_der(int ret, uint8_t *buf, size_t cap, size_t *len)
{
    if (ret <= 0) return -1;
    memmove(buf, buf + cap - (size_t)ret, (size_t)ret);
    *len = (size_t)ret;
    return 0;
}

static int load(mbedtls_pk_context *pk, const uint8_t *key, size_t key_len)
{
    mbedtls_pk_init(pk);
#if MBEDTLS_VERSION_MAJOR >= 3
    return mbedtls_pk_parse_key(pk, key, key_len, NULL, 0, rng, NULL);
#else
    return mbedtls_pk_parse_key(pk, key, key_len, NULL, 0);
#endif
}

int crypto_keygen(key_type_t kt, uint8_t *key, size_t cap, size_t *len, crypto_tick_t tick, void *ctx)
{
    mbedtls_pk_context pk;
    int ret;
    tick_fn = tick;
    tick_ctx = ctx;
    mbedtls_pk_init(&pk);
    if (kt == KT_RSA_2048) {
        ret = mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA));
        if (ret == 0) ret = mbedtls_rsa_gen_key(mbedtls_pk_rsa(pk), rng, NULL, 2048, 65537);
    } else {
        mbedtls_ecp_group_id grp = kt == KT_EC_P384 ? MBEDTLS_ECP_DP_SECP384R1 : MBEDTLS_ECP_DP_SECP256R1;
        ret = mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
        if (ret == 0) ret = mbedtls_ecp_gen_key(grp, mbedtls_pk_ec(pk), rng, NULL);
    }
    if (ret == 0) ret = take_der(mbedtls_pk_write_key_der(&pk, key, cap), key, cap, len);
    mbedtls_pk_free(&pk);
    tick_fn = NULL;
    return ret;
}

int crypto_csr(const uint8_t *key, size_t key_len, const char *cn, const char *uid, uint8_t *out,
               size_t cap, size_t *len, crypto_tick_t tick, void *ctx)
{
    mbedtls_pk_context pk;
    mbedtls_x509write_csr csr;
    char subject[64 * 2 + 32 + 64];
    size_t o = 0, i;
    int ret;
    /* mbedTLS's name parser takes "CN=...,serialNumber=..."; ',' is escaped as "\," */
    memcpy(subject, "CN=", 3);
    o = 3;
    for (i = 0; cn[i] && o + 2 < sizeof subject; i++) {
        if (cn[i] == ',') subject[o++] = '\\';
        subject[o++] = cn[i];
    }
    if (o + strlen(",serialNumber=") + strlen(uid) + 1 > sizeof subject) return -1;
    strcpy(subject + o, ",serialNumber=");
    strcat(subject, uid);
    tick_fn = tick;
    tick_ctx = ctx;
    ret = load(&pk, key, key_len);
    mbedtls_x509write_csr_init(&csr);
    mbedtls_x509write_csr_set_md_alg(&csr, MBEDTLS_MD_SHA256);
    mbedtls_x509write_csr_set_key(&csr, &pk);
    if (ret == 0) ret = mbedtls_x509write_csr_set_subject_name(&csr, subject);
    if (ret == 0) ret = take_der(mbedtls_x509write_csr_der(&csr, out, cap, rng, NULL), out, cap, len);
    mbedtls_x509write_csr_free(&csr);
    mbedtls_pk_free(&pk);
    tick_fn = NULL;
    return ret;
}

int crypto_sign(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t n, uint8_t *sig,
                size_t cap, size_t *len, crypto_tick_t tick, void *ctx)
{
    mbedtls_pk_context pk;
    uint8_t hash[32];
    int ret;
    tick_fn = tick;
    tick_ctx = ctx;
    crypto_sha256(msg, n, hash);
    ret = load(&pk, key, key_len);
    /* 2.x writes without a size: our keys sign in at most 256 bytes (RSA-2048) */
    if (ret == 0 && cap < 256) ret = -1;
#if MBEDTLS_VERSION_MAJOR >= 3
    if (ret == 0) ret = mbedtls_pk_sign(&pk, MBEDTLS_MD_SHA256, hash, 32, sig, cap, len, rng, NULL);
#else
    if (ret == 0) ret = mbedtls_pk_sign(&pk, MBEDTLS_MD_SHA256, hash, 32, sig, len, rng, NULL);
#endif
    mbedtls_pk_free(&pk);
    tick_fn = NULL;
    return ret;
}

void crypto_sha256(const uint8_t *data, size_t n, uint8_t out[32])
{
#if MBEDTLS_VERSION_MAJOR >= 3
    mbedtls_sha256(data, n, out, 0);
#else
    mbedtls_sha256_ret(data, n, out, 0);
#endif
}
