/* aws_sigv4.h: AWS Signature Version 4 for header-signed requests, stage by
 * stage (canonical request, string to sign, signing key, Authorization
 * header) so that each stage can be checked against AWS's test suite. The
 * EC2 client calls aws_sigv4_sign(); the stages are public for the tests.
 * Paths are normalised (dot segments, repeated slashes) as every service
 * except S3 expects. */
#ifndef AWS_SIGV4_H
#define AWS_SIGV4_H

#include <stddef.h>
#include <stdint.h>

#include "aws_error.h"

/** One request header as it will be sent. Names are matched without regard
 * to case; a name given more than once is signed as one header whose value
 * is the values joined with ',' in the order given. */
typedef struct aws_sigv4_header {
    const char *name;
    const char *value;
} aws_sigv4_header;

/** The request to sign. */
typedef struct aws_sigv4_request {
    const char *method; /**< "GET", "POST", ... */
    const char *path;   /**< unencoded path ("/", "/a b/"); NULL = "/" */
    const char *query;  /**< text after '?', "a=1&b=2"; %XX in it is
                             decoded before re-encoding; NULL = none */
    const aws_sigv4_header *headers; /**< every header to sign, including
                                          host and x-amz-date */
    size_t n_headers;
    const void *payload; /**< body bytes (hashed); may be NULL if 0 long */
    size_t payload_len;
} aws_sigv4_request;

/** Who signs, where and when. */
typedef struct aws_sigv4_params {
    const char *access_key_id;
    const char *secret_access_key;
    const char *region;   /**< "us-east-1" */
    const char *service;  /**< "ec2" */
    const char *amz_date; /**< "YYYYMMDDTHHMMSSZ", equal to the x-amz-date
                               header the request carries */
} aws_sigv4_params;

/** Everything aws_sigv4_sign() computes; free with
 * aws_sigv4_result_free(). */
typedef struct aws_sigv4_result {
    char *canonical_request;
    char *signed_headers; /**< "content-type;host;x-amz-date" */
    char *string_to_sign;
    char signature[65];  /**< lower-case hex */
    char *authorization; /**< value of the Authorization header */
} aws_sigv4_result;

/** Builds the canonical request: method, canonical URI, canonical query,
 * canonical headers, signed headers and the payload's SHA-256, one per line.
 * @param req      the request; method must be non-empty and headers valid
 * @param out      receives a malloc'd string (caller frees)
 * @param signed_headers  if not NULL, receives the malloc'd SignedHeaders
 *                 list (caller frees)
 * @return AWS_OK; AWS_EINVAL if method is missing or a header has no name
 *         or contains CR/LF; AWS_ENOMEM. */
aws_rc aws_sigv4_canonical_request(const aws_sigv4_request *req, char **out,
                                   char **signed_headers);

/** Builds the string to sign: "AWS4-HMAC-SHA256", amz_date, scope and the
 * canonical request's SHA-256 hex.
 * @param amz_date  "YYYYMMDDTHHMMSSZ"
 * @param scope     "YYYYMMDD/region/service/aws4_request"
 * @param canonical_request  from aws_sigv4_canonical_request()
 * @param out       receives a malloc'd string
 * @return AWS_OK; AWS_EINVAL on NULL input; AWS_ENOMEM. */
aws_rc aws_sigv4_string_to_sign(const char *amz_date, const char *scope,
                                const char *canonical_request, char **out);

/** Derives the signing key: HMAC chain "AWS4"+secret → date → region →
 * service → "aws4_request".
 * @param date8  "YYYYMMDD"
 * @param key    receives the 32-byte key
 * @return AWS_OK; AWS_EINVAL on NULL input; AWS_ENOMEM if the crypto
 *         library fails. */
aws_rc aws_sigv4_signing_key(const char *secret_access_key, const char *date8,
                             const char *region, const char *service,
                             uint8_t key[32]);

/** Signs string_to_sign with key; sig_hex receives 64 hex digits and NUL.
 * @return AWS_OK; AWS_ENOMEM if the crypto library fails. */
aws_rc aws_sigv4_signature(const uint8_t key[32], const char *string_to_sign,
                           char sig_hex[65]);

/** Formats the Authorization header value:
 * "AWS4-HMAC-SHA256 Credential=AK/scope, SignedHeaders=..., Signature=...".
 * @return AWS_OK; AWS_EINVAL on NULL input; AWS_ENOMEM. */
aws_rc aws_sigv4_authorization(const char *access_key_id, const char *scope,
                               const char *signed_headers, const char *sig_hex,
                               char **out);

/** All four stages. On failure *res is left empty (nothing to free).
 * @return AWS_OK; AWS_EINVAL if a parameter is NULL, amz_date is not
 *         16 characters "YYYYMMDDTHHMMSSZ", or the request is invalid (see
 *         aws_sigv4_canonical_request); AWS_ENOMEM. */
aws_rc aws_sigv4_sign(const aws_sigv4_request *req,
                      const aws_sigv4_params *params, aws_sigv4_result *res);

/** Frees what aws_sigv4_sign() stored in res (res itself is the caller's). */
void aws_sigv4_result_free(aws_sigv4_result *res);

/** Formats t (seconds since the epoch, UTC) as "YYYYMMDDTHHMMSSZ".
 * out: 17 bytes. */
void aws_sigv4_amz_date(long long t, char out[17]);

#endif
