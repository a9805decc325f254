/* mbedTLS 2.28 for the agent on a Cortex-M: only what keygen, CSR writing and signing need.
 * The heap is a static pool (MBEDTLS_MEMORY_BUFFER_ALLOC_C); MBEDTLS_MEMORY_DEBUG keeps the
 * allocator's peak figures, which the board reports (main_mps2.c). Selected by
 * -DMBEDTLS_CONFIG_FILE='"mbedtls_config.h"'. */
#ifndef AGENT_MBEDTLS_CONFIG_H
#define AGENT_MBEDTLS_CONFIG_H

/* system */
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_NO_PLATFORM_ENTROPY /* the HAL's entropy source is the only one */
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C
#define MBEDTLS_MEMORY_DEBUG
/* no libc heap, stdio or exit(): the allocator's complaints go to the board's console */
#define MBEDTLS_PLATFORM_NO_STD_FUNCTIONS
#include <stdio.h>
int board_fprintf(FILE *stream, const char *format, ...);
void board_halt(int status);
#define MBEDTLS_PLATFORM_FPRINTF_MACRO board_fprintf
#define MBEDTLS_PLATFORM_EXIT_MACRO board_halt
#define MBEDTLS_PLATFORM_SNPRINTF_MACRO snprintf

/* random numbers: CTR-DRBG (AES) seeded from hal_entropy */
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_CTR_DRBG_C
#define MBEDTLS_AES_C
#define MBEDTLS_AES_ROM_TABLES /* tables in flash, not 8 KiB of RAM */
#define MBEDTLS_AES_FEWER_TABLES

/* hashes */
#define MBEDTLS_MD_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA256_SMALLER

/* keys: EC P-256/P-384 and RSA-2048 */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_GENPRIME
#define MBEDTLS_ECP_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECP_WINDOW_SIZE 2       /* less heap than the default 6, a little slower */
#define MBEDTLS_ECP_FIXED_POINT_OPTIM 0 /* no precomputed table in RAM */
#define MBEDTLS_MPI_WINDOW_SIZE 2
#define MBEDTLS_MPI_MAX_SIZE 256 /* RSA-2048 at most */
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15

/* key and CSR encodings */
#define MBEDTLS_OID_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PK_WRITE_C
#define MBEDTLS_X509_CREATE_C
#define MBEDTLS_X509_CSR_WRITE_C

#include "mbedtls/check_config.h"

#endif
