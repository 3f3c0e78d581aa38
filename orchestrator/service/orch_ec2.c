/* orch_ec2.c: the ec2 fleet driver. launch = RunInstances (tags, user
 * data, a ClientToken derived from the server id so a retried launch
 * never starts two instances), terminate = TerminateInstances (an
 * instance already gone counts as done), list = DescribeInstances by the
 * fleet tag, alive = DescribeInstances by id. The fleet serialises calls,
 * and the client has its own lock, so no lock here. */
#include "orch_ec2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ec2_client.h"
#include "fleet.h"
#include "sb_log.h"

#define TAG_FLEET "sb-fleet"
#define TAG_SERVER "sb-server"
#define MAX_SG 16

typedef struct ec2_ctx {
    ec2_client *c;
    char *fleet, *url, *image, *type, *subnet, *key, *profile, *app_args;
    char *sg_buf;
    const char *sg[MAX_SG];
    size_t nsg;
} ec2_ctx;

int orch_ec2_user_data(const char *orch_url, const char *server_id,
                       const char *app_args, char *buf, size_t cap)
{
    /* IMDSv2 gives the instance its own id, which it registers with. */
    int n = snprintf(
        buf, cap,
        "#!/bin/sh\n"
        "# cloud-init: start one Switchboard app server for the fleet.\n"
        "T=$(curl -s -X PUT http://169.254.169.254/latest/api/token "
        "-H 'X-aws-ec2-metadata-token-ttl-seconds: 300')\n"
        "I=$(curl -s -H \"X-aws-ec2-metadata-token: $T\" "
        "http://169.254.169.254/latest/meta-data/instance-id)\n"
        "IP=$(curl -s -H \"X-aws-ec2-metadata-token: $T\" "
        "http://169.254.169.254/latest/meta-data/local-ipv4)\n"
        "exec sbd app --orchestrator '%s' --id '%s' --instance-id \"$I\" "
        "--listen \"tcp://$IP:8892\" %s\n",
        orch_url, server_id, app_args != NULL ? app_args : "");
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static const char *ec2_name(void *ctx)
{
    (void)ctx;
    return "ec2";
}

/* The AWS error as an RPC status, logged. */
static int aws_fail(rpc_status *st, const char *what, const aws_error *e)
{
    sb_error("ec2", "%s failed: %s%s%s (HTTP %ld, request %s)", what, e->code,
             e->code[0] ? ": " : "", e->message, e->http_status,
             e->request_id[0] ? e->request_id : "-");
    return fleet_status(st, RPC_UNAVAILABLE, "ec2 %s: %s%s%s", what, e->code,
                        e->code[0] ? ": " : "", e->message);
}

static int ec2_launch(void *ctx, const char *server_id,
                      char instance_id[FLEET_INSTANCE_MAX], rpc_status *st)
{
    ec2_ctx *x = ctx;
    char ud[4096], token[65];
    ec2_tag tags[] = {
        {TAG_FLEET, x->fleet}, {TAG_SERVER, server_id}, {"Name", server_id}};
    ec2_run_params p = {.image_id = x->image,
                        .instance_type = x->type,
                        .subnet_id = x->subnet,
                        .security_group_ids = x->sg,
                        .n_security_group_ids = x->nsg,
                        .key_name = x->key,
                        .instance_profile = x->profile,
                        .user_data = ud,
                        .tags = tags,
                        .n_tags = 3,
                        .client_token = token};
    ec2_instance_list out = {0};
    aws_error e;

    if (orch_ec2_user_data(x->url, server_id, x->app_args, ud, sizeof(ud)))
        return fleet_status(st, RPC_INVALID_ARGUMENT,
                            "ec2: user data too long");
    /* One token per (fleet, server id): ids are never reused. */
    snprintf(token, sizeof(token), "%.30s-%.30s", x->fleet, server_id);
    if (ec2_run_instances(x->c, &p, &out, &e) != AWS_OK)
        return aws_fail(st, "RunInstances", &e);
    if (out.n < 1) {
        ec2_instance_list_free(&out);
        return fleet_status(st, RPC_UNAVAILABLE,
                            "ec2 RunInstances: no instance in the reply");
    }
    snprintf(instance_id, FLEET_INSTANCE_MAX, "%s", out.items[0].id);
    sb_info("ec2", "launched %s as %s", server_id, instance_id);
    ec2_instance_list_free(&out);
    return RPC_OK;
}

static int ec2_terminate(void *ctx, const char *instance_id, rpc_status *st)
{
    ec2_ctx *x = ctx;
    ec2_state_change_list out = {0};
    aws_error e;

    if (ec2_terminate_instances(x->c, &instance_id, 1, &out, &e) != AWS_OK) {
        if (strcmp(e.code, "InvalidInstanceID.NotFound") == 0)
            return RPC_OK; /* already gone: done */
        return aws_fail(st, "TerminateInstances", &e);
    }
    ec2_state_change_list_free(&out);
    return RPC_OK;
}

static int ec2_list(void *ctx, fleet_instance **out, size_t *n, rpc_status *st)
{
    ec2_ctx *x = ctx;
    const char *tagv[] = {x->fleet};
    const char *states[] = {"pending", "running", "stopping", "stopped",
                            "shutting-down"};
    ec2_filter f[] = {{"tag:" TAG_FLEET, tagv, 1},
                      {"instance-state-name", states, 5}};
    ec2_instance_list l = {0};
    aws_error e;

    *out = NULL;
    *n = 0;
    if (ec2_describe_instances(x->c, f, 2, NULL, 0, 0, &l, &e) != AWS_OK)
        return aws_fail(st, "DescribeInstances", &e);
    if (l.n > 0 && (*out = calloc(l.n, sizeof(**out))) == NULL) {
        ec2_instance_list_free(&l);
        return fleet_status(st, RPC_UNAVAILABLE, "ec2: out of memory");
    }
    for (size_t i = 0; i < l.n; i++) {
        const char *sid = ec2_instance_tag(&l.items[i], TAG_SERVER);
        const char *state = l.items[i].state ? l.items[i].state : "";

        snprintf((*out)[i].instance_id, FLEET_INSTANCE_MAX, "%s",
                 l.items[i].id);
        snprintf((*out)[i].server_id, FLEET_ID_MAX, "%s", sid ? sid : "");
        (*out)[i].running =
            strcmp(state, "pending") == 0 || strcmp(state, "running") == 0;
    }
    *n = l.n;
    ec2_instance_list_free(&l);
    return RPC_OK;
}

static int ec2_alive(void *ctx, const char *instance_id)
{
    ec2_ctx *x = ctx;
    ec2_instance_list l = {0};
    aws_error e;
    int alive;

    if (ec2_describe_instances(x->c, NULL, 0, &instance_id, 1, 0, &l, &e) !=
        AWS_OK)
        return strcmp(e.code, "InvalidInstanceID.NotFound") == 0 ? 0 : -1;
    alive = l.n > 0 && l.items[0].state != NULL &&
            strcmp(l.items[0].state, "terminated") != 0 &&
            strcmp(l.items[0].state, "shutting-down") != 0;
    ec2_instance_list_free(&l);
    return alive;
}

static void ec2_destroy(void *ctx)
{
    ec2_ctx *x = ctx;

    if (x == NULL)
        return;
    ec2_client_free(x->c);
    free(x->fleet), free(x->url), free(x->image), free(x->type);
    free(x->subnet), free(x->key), free(x->profile), free(x->app_args);
    free(x->sg_buf);
    free(x);
}

static char *dup_or_null(const char *s, int *oom)
{
    char *d;

    if (s == NULL || s[0] == '\0')
        return NULL;
    if ((d = strdup(s)) == NULL)
        *oom = 1;
    return d;
}

/* "sg-1,sg-2" into x->sg. Returns 0 or -1 (too many). */
static int split_groups(ec2_ctx *x)
{
    for (char *p = x->sg_buf, *save = NULL, *t;
         p != NULL && (t = strtok_r(p, ",", &save)) != NULL; p = NULL) {
        if (x->nsg == MAX_SG)
            return -1;
        x->sg[x->nsg++] = t;
    }
    return 0;
}

int orch_ec2_create(const orch_ec2_config *c, const char *fleet_name,
                    const char *orch_url, void **ctx, rpc_status *st)
{
    ec2_ctx *x = calloc(1, sizeof(*x));
    aws_error e;
    int oom = 0;

    *ctx = NULL;
    if (x == NULL)
        return fleet_status(st, RPC_INTERNAL, "ec2: out of memory");
    if (c->image_id == NULL || c->image_id[0] == '\0') {
        ec2_destroy(x);
        return fleet_status(st, RPC_INVALID_ARGUMENT,
                            "ec2: an image id is required (--ec2-image or "
                            "SB_EC2_IMAGE)");
    }
    x->fleet = dup_or_null(fleet_name ? fleet_name : "switchboard", &oom);
    x->url = dup_or_null(orch_url, &oom);
    x->image = dup_or_null(c->image_id, &oom);
    x->type =
        dup_or_null(c->instance_type ? c->instance_type : "t3.micro", &oom);
    x->subnet = dup_or_null(c->subnet_id, &oom);
    x->key = dup_or_null(c->key_name, &oom);
    x->profile = dup_or_null(c->instance_profile, &oom);
    x->app_args = dup_or_null(c->app_args, &oom);
    x->sg_buf = dup_or_null(c->security_groups, &oom);
    if (oom || split_groups(x) != 0) {
        ec2_destroy(x);
        return fleet_status(st, oom ? RPC_INTERNAL : RPC_INVALID_ARGUMENT,
                            oom ? "ec2: out of memory"
                                : "ec2: at most %d security groups",
                            MAX_SG);
    }
    if (ec2_client_new(NULL, &x->c, &e) != AWS_OK) {
        ec2_destroy(x);
        return aws_fail(st, "client setup", &e);
    }
    sb_info("ec2", "driver ready: endpoint %s, region %s, image %s, type %s",
            ec2_client_endpoint(x->c), ec2_client_region(x->c), x->image,
            x->type);
    *ctx = x;
    return RPC_OK;
}

const fleet_driver orch_ec2_driver = {
    .name = ec2_name,
    .launch = ec2_launch,
    .terminate = ec2_terminate,
    .list = ec2_list,
    .alive = ec2_alive,
    .poll = NULL,
    .destroy = ec2_destroy,
};
