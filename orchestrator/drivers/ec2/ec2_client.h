/* ec2_client.h: a small client for the EC2 Query API (Version 2016-11-15)
 * with what the fleet's ec2 driver needs: launch, list, terminate and read
 * back user data. Requests are POST forms signed with SigV4; responses are
 * parsed with libxml2. Throttling, HTTP 5xx and connection errors are
 * retried with exponential backoff and full jitter, a bounded number of
 * times; every failure comes back as an aws_error (HTTP status, AWS code,
 * message, request id) and is logged (sb_warn per retry, sb_error when the
 * call gives up) under the component "ec2".
 *
 * A client is safe to share between threads: calls are serialised on an
 * internal lock. Programs with threads should call
 * curl_global_init(CURL_GLOBAL_DEFAULT) in main before the first client. */
#ifndef EC2_CLIENT_H
#define EC2_CLIENT_H

#include <stddef.h>

#include "aws_creds.h"
#include "aws_error.h"

typedef struct ec2_client ec2_client;

/** Client settings; zero or NULL fields take the default shown. */
typedef struct ec2_config {
    const char *region;      /**< NULL: aws_region_resolve() */
    const char *endpoint;    /**< NULL: aws_ec2_endpoint_resolve(region);
                                  may carry a path ("http://h:1/p/") */
    const aws_creds *creds;  /**< NULL: aws_creds_resolve(), re-resolved
                                  5 minutes before they expire; else copied */
    int max_attempts;        /**< 5; attempts per call, first one included */
    int base_delay_ms;       /**< 100; backoff before retry n is a uniform
                                  random in [0, min(max, base * 2^(n-1))] */
    int max_delay_ms;        /**< 5000 */
    long connect_timeout_ms; /**< 3000 */
    long timeout_ms;         /**< 30000; whole request, per attempt */
} ec2_config;

/** A tag. In inputs the strings are the caller's; in results they belong
 * to the list and are freed with it. */
typedef struct ec2_tag {
    const char *key;
    const char *value;
} ec2_tag;

/** An instance as RunInstances and DescribeInstances report it. Any string
 * the response lacked is NULL. */
typedef struct ec2_instance {
    char *id;    /**< "i-0123..." (never NULL) */
    char *state; /**< "pending", "running", "shutting-down",
                      "terminated", "stopping", "stopped" */
    char *private_ip;
    char *launch_time; /**< ISO 8601 as sent, "2026-11-22T10:00:00.000Z" */
    char *image_id;
    char *instance_type;
    ec2_tag *tags;
    size_t n_tags;
} ec2_instance;

typedef struct ec2_instance_list {
    ec2_instance *items;
    size_t n;
} ec2_instance_list;

/** One instance's state change from TerminateInstances. */
typedef struct ec2_state_change {
    char *id;
    char *previous_state;
    char *current_state;
} ec2_state_change;

typedef struct ec2_state_change_list {
    ec2_state_change *items;
    size_t n;
} ec2_state_change_list;

/** RunInstances parameters. Required: image_id, instance_type. */
typedef struct ec2_run_params {
    const char *image_id;
    const char *instance_type;             /**< "t3.micro" */
    int min_count;                         /**< 0 means 1 */
    int max_count;                         /**< 0 means min_count */
    const char *subnet_id;                 /**< NULL: the default subnet */
    const char *const *security_group_ids; /**< "sg-..." */
    size_t n_security_group_ids;
    const char *key_name;         /**< NULL: no SSH key */
    const char *instance_profile; /**< name, or ARN ("arn:..."); NULL:
                                       none */
    const char *user_data;        /**< plain text (e.g. a cloud-init
                                       script); base64-encoded here.
                                       At most 16384 bytes. NULL: none */
    const ec2_tag *tags;          /**< instance tags (fleet name etc.) */
    size_t n_tags;
    const char *client_token; /**< idempotency token (<= 64 ASCII);
                                   NULL: a random one per call, so
                                   the call's own retries never launch
                                   twice */
} ec2_run_params;

/** A DescribeInstances filter: "tag:KEY" with values, or
 * "instance-state-name" with "pending", "running", ... */
typedef struct ec2_filter {
    const char *name;
    const char *const *values;
    size_t n_values;
} ec2_filter;

/** Creates a client: resolves region, endpoint and credentials (see
 * ec2_config) and opens a curl handle.
 * @param cfg  may be NULL for all defaults
 * @param out  receives the client; free with ec2_client_free()
 * @return AWS_OK; AWS_EINVAL (bad endpoint URL or settings); AWS_ECONFIG
 *   (no region); AWS_ENOCREDS and the other aws_creds_resolve() errors;
 *   AWS_ENOMEM. */
aws_rc ec2_client_new(const ec2_config *cfg, ec2_client **out, aws_error *err);

/** Frees the client (NULL is fine). No call may be in progress. */
void ec2_client_free(ec2_client *c);

/** The endpoint URL and region in use (owned by the client). */
const char *ec2_client_endpoint(const ec2_client *c);
const char *ec2_client_region(const ec2_client *c);

/** Launches instances (RunInstances). On success out holds the instances
 * launched, in "pending" state, with their private IPs when the response
 * has them.
 * @return AWS_OK; AWS_EINVAL (missing image or type, counts out of order,
 *   user data over 16384 bytes, more than 50 tags or 16 groups);
 *   AWS_ESERVICE (EC2 refused: err->code e.g. "InvalidAMIID.NotFound",
 *   "AuthFailure", "InstanceLimitExceeded"; or throttled/5xx after every
 *   attempt); AWS_ETRANSPORT (no connection after every attempt);
 *   AWS_EPARSE (the response is not the XML expected); AWS_ENOMEM. */
aws_rc ec2_run_instances(ec2_client *c, const ec2_run_params *p,
                         ec2_instance_list *out, aws_error *err);

/** Lists instances (DescribeInstances), following NextToken through every
 * page (at most 1000 pages). A filter's values are ORed, filters ANDed.
 * @param ids          restrict to these ids (NULL/0: any)
 * @param page_size    MaxResults per page, 5..1000 (0: the service's
 *                     default); only allowed when ids is empty
 * @return as ec2_run_instances(); a filter with no name or no values, or
 *   page_size out of range, is AWS_EINVAL. An unknown id is AWS_ESERVICE
 *   with code "InvalidInstanceID.NotFound". */
aws_rc ec2_describe_instances(ec2_client *c, const ec2_filter *filters,
                              size_t n_filters, const char *const *ids,
                              size_t n_ids, int page_size,
                              ec2_instance_list *out, aws_error *err);

/** Terminates instances (TerminateInstances); out gets each one's previous
 * and current state ("shutting-down" or "terminated").
 * @return as ec2_run_instances(); no ids is AWS_EINVAL; an unknown id is
 *   AWS_ESERVICE with code "InvalidInstanceID.NotFound" (and nothing is
 *   terminated). */
aws_rc ec2_terminate_instances(ec2_client *c, const char *const *ids,
                               size_t n_ids, ec2_state_change_list *out,
                               aws_error *err);

/** Reads an instance's user data back (DescribeInstanceAttribute
 * userData), base64-decoded.
 * @param out  receives a malloc'd NUL-terminated buffer ("" when the
 *             instance has none); *len its length (NULL allowed)
 * @return as ec2_run_instances(); AWS_EPARSE when the value is not
 *   valid base64. */
aws_rc ec2_get_user_data(ec2_client *c, const char *instance_id, char **out,
                         size_t *len, aws_error *err);

/** Free the contents of a result list (the list struct is the caller's;
 * it is zeroed). NULL is fine. */
void ec2_instance_list_free(ec2_instance_list *l);
void ec2_state_change_list_free(ec2_state_change_list *l);

/** Returns the tag value for key on inst, or NULL. */
const char *ec2_instance_tag(const ec2_instance *inst, const char *key);

#endif
