/* aws_creds.h: where the AWS layer gets its credentials, region and EC2
 * endpoint, in the order the AWS SDKs and CLI use: environment, then the
 * shared profile files, then the EC2 instance role through IMDSv2. All
 * input comes from the environment and files at call time; nothing is
 * cached in globals. */
#ifndef AWS_CREDS_H
#define AWS_CREDS_H

#include <time.h>

#include "aws_error.h"

/** A set of credentials. Strings are malloc'd; free with aws_creds_free(). */
typedef struct aws_creds {
    char *access_key_id;
    char *secret_access_key;
    char *session_token; /**< NULL for long-term keys */
    char source[96];     /**< "environment", "profile default
                              (/home/u/.aws/credentials)", "imds role x" */
    time_t expiration;   /**< 0 = does not expire (env, profile) */
} aws_creds;

/** Resolves credentials through the chain:
 *  1. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN);
 *  2. profile AWS_PROFILE (else "default"): section [name] of
 *     AWS_SHARED_CREDENTIALS_FILE (else ~/.aws/credentials), then section
 *     [profile name] ([default] for default) of AWS_CONFIG_FILE (else
 *     ~/.aws/config); keys aws_access_key_id, aws_secret_access_key,
 *     aws_session_token;
 *  3. unless AWS_EC2_METADATA_DISABLED=true, IMDSv2 at
 *     AWS_EC2_METADATA_SERVICE_ENDPOINT (else http://169.254.169.254):
 *     PUT /latest/api/token, GET .../iam/security-credentials/ and the
 *     role; 1 s connect and 2 s total timeouts per request.
 * @param out  receives the credentials (zeroed on failure)
 * @param err  may be NULL; filled on failure
 * @return AWS_OK;
 *   AWS_EINVAL   only one of the two environment keys is set, or a profile
 *                has an access key without a secret (or the reverse);
 *   AWS_ECONFIG  AWS_PROFILE names a profile found in neither file, or a
 *                file cannot be read (other than not existing);
 *   AWS_ENOCREDS nothing in the chain had credentials (err->message lists
 *                what was tried, including why IMDS failed);
 *   AWS_ENOMEM. */
aws_rc aws_creds_resolve(aws_creds *out, aws_error *err);

/** Reads credentials from IMDSv2 only (step 3 above, ignoring
 * AWS_EC2_METADATA_DISABLED).
 * @param endpoint  base URL such as "http://127.0.0.1:8000"; NULL = the
 *                  environment's or the default
 * @return AWS_OK; AWS_ETRANSPORT (unreachable or timed out);
 *   AWS_ESERVICE (an HTTP error status, or the document's Code is not
 *   "Success"; err->http_status/code set); AWS_EPARSE (no role, malformed
 *   JSON or missing fields); AWS_ENOMEM. */
aws_rc aws_creds_from_imds(const char *endpoint, aws_creds *out,
                           aws_error *err);

/** Frees the strings in c and zeroes it (the secret is wiped first). */
void aws_creds_free(aws_creds *c);

/** Deep copy of src into dst. @return AWS_OK or AWS_ENOMEM. */
aws_rc aws_creds_copy(aws_creds *dst, const aws_creds *src);

/** Resolves the region: AWS_REGION, AWS_DEFAULT_REGION, then "region" in
 * the profile's section of the config file (see aws_creds_resolve).
 * @param out  receives a malloc'd region name
 * @return AWS_OK; AWS_ECONFIG when no region is configured anywhere, or
 *   AWS_PROFILE names a missing profile; AWS_ENOMEM. */
aws_rc aws_region_resolve(char **out, aws_error *err);

/** Resolves the EC2 endpoint URL: AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL,
 * else "https://ec2.<region>.amazonaws.com".
 * @param region  used only for the default; must then be non-NULL
 * @param out     receives a malloc'd URL
 * @return AWS_OK; AWS_EINVAL if the default is needed and region is NULL
 *   or empty, or the override is not an http:// or https:// URL;
 *   AWS_ENOMEM. */
aws_rc aws_ec2_endpoint_resolve(const char *region, char **out, aws_error *err);

#endif
