/* ec2_actions.c: the EC2 actions the fleet uses, each one a form builder
 * and a response reader around ec2_call(): RunInstances,
 * DescribeInstances (every page), TerminateInstances and
 * DescribeInstanceAttribute userData. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ec2_internal.h"

#define MAX_USER_DATA 16384
#define MAX_PAGES 1000

static int check_str(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* --- result lists ------------------------------------------------------ */

void ec2_instance_list_free(ec2_instance_list *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->n; i++)
        ec2_instance_free(&l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

void ec2_state_change_list_free(ec2_state_change_list *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].id);
        free(l->items[i].previous_state);
        free(l->items[i].current_state);
    }
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

const char *ec2_instance_tag(const ec2_instance *inst, const char *key)
{
    for (size_t i = 0; i < inst->n_tags; i++)
        if (strcmp(inst->tags[i].key, key) == 0)
            return inst->tags[i].value;
    return NULL;
}

/* Appends every <item> of set (an instancesSet) to out. */
static aws_rc add_instances(xmlNodePtr set, ec2_instance_list *out,
                            aws_error *err)
{
    size_t n = 0;
    for (xmlNodePtr it = set ? set->children : NULL; it; it = it->next)
        n += it->type == XML_ELEMENT_NODE;
    if (n == 0)
        return AWS_OK;
    ec2_instance *grown = realloc(out->items, (out->n + n) * sizeof *grown);
    if (grown == NULL)
        return aws_error_set(err, AWS_ENOMEM, NULL, "out of memory");
    out->items = grown;
    for (xmlNodePtr it = set->children; it; it = it->next) {
        if (it->type != XML_ELEMENT_NODE)
            continue;
        aws_rc rc = ec2_xml_instance(it, &out->items[out->n]);
        if (rc != AWS_OK)
            return aws_error_set(err, rc, NULL,
                                 rc == AWS_EPARSE
                                     ? "instance item without instanceId"
                                     : "out of memory");
        out->n++;
    }
    return AWS_OK;
}

static aws_rc shape_error(aws_error *err, const char *action, const char *what)
{
    return aws_error_set(err, AWS_EPARSE, NULL,
                         "%s response is not what EC2 sends: %s", action, what);
}

/* --- RunInstances ------------------------------------------------------ */

static aws_rc run_form(const ec2_run_params *p, aws_buf *f, aws_error *err)
{
    int min = p->min_count > 0 ? p->min_count : 1;
    int max = p->max_count > 0 ? p->max_count : min;
    char num[16], token[40];
    if (!check_str(p->image_id) || !check_str(p->instance_type))
        return aws_error_set(err, AWS_EINVAL, NULL,
                             "RunInstances needs an image id and type");
    if (max < min || p->n_tags > 50 || p->n_security_group_ids > 16 ||
        (p->user_data && strlen(p->user_data) > MAX_USER_DATA) ||
        (p->client_token && strlen(p->client_token) > 64))
        return aws_error_set(err, AWS_EINVAL, NULL,
                             "RunInstances: max count below min, user data "
                             "over %d bytes, too many tags or groups, or "
                             "client token over 64 characters",
                             MAX_USER_DATA);
    ec2_form_add(f, "ImageId", p->image_id);
    ec2_form_add(f, "InstanceType", p->instance_type);
    snprintf(num, sizeof num, "%d", min);
    ec2_form_add(f, "MinCount", num);
    snprintf(num, sizeof num, "%d", max);
    ec2_form_add(f, "MaxCount", num);
    if (check_str(p->subnet_id))
        ec2_form_add(f, "SubnetId", p->subnet_id);
    for (size_t i = 0; i < p->n_security_group_ids; i++)
        ec2_form_addf(f, p->security_group_ids[i], "SecurityGroupId.%zu",
                      i + 1);
    if (check_str(p->key_name))
        ec2_form_add(f, "KeyName", p->key_name);
    if (check_str(p->instance_profile))
        ec2_form_add(f,
                     strncmp(p->instance_profile, "arn:", 4) == 0
                         ? "IamInstanceProfile.Arn"
                         : "IamInstanceProfile.Name",
                     p->instance_profile);
    if (p->user_data != NULL) {
        char *b64 = aws_base64_encode(p->user_data, strlen(p->user_data));
        if (b64 == NULL)
            return aws_error_set(err, AWS_ENOMEM, NULL, "out of memory");
        ec2_form_add(f, "UserData", b64);
        free(b64);
    }
    if (p->n_tags > 0)
        ec2_form_add(f, "TagSpecification.1.ResourceType", "instance");
    for (size_t i = 0; i < p->n_tags; i++) {
        if (!check_str(p->tags[i].key))
            return aws_error_set(err, AWS_EINVAL, NULL, "tag without key");
        ec2_form_addf(f, p->tags[i].key, "TagSpecification.1.Tag.%zu.Key",
                      i + 1);
        ec2_form_addf(f, p->tags[i].value ? p->tags[i].value : "",
                      "TagSpecification.1.Tag.%zu.Value", i + 1);
    }
    if (p->client_token == NULL) {
        uint8_t r[16];
        if (aws_random_bytes(r, sizeof r) != 0)
            return aws_error_set(err, AWS_ENOMEM, NULL, "getrandom failed");
        aws_hex(r, sizeof r, token);
    }
    ec2_form_add(f, "ClientToken", p->client_token ? p->client_token : token);
    return f->oom ? aws_error_set(err, AWS_ENOMEM, NULL, "out of memory")
                  : AWS_OK;
}

aws_rc ec2_run_instances(ec2_client *c, const ec2_run_params *p,
                         ec2_instance_list *out, aws_error *err)
{
    aws_buf f;
    xmlDocPtr doc = NULL;
    aws_rc rc;
    memset(out, 0, sizeof *out);
    aws_error_clear(err);
    aws_buf_init(&f);
    if (p == NULL)
        return aws_error_set(err, AWS_EINVAL, NULL, "no parameters");
    if ((rc = run_form(p, &f, err)) != AWS_OK)
        goto out;
    if ((rc = ec2_call(c, "RunInstances", f.data, &doc, err)) != AWS_OK)
        goto out;
    xmlNodePtr set = ec2_xml_child(xmlDocGetRootElement(doc), "instancesSet");
    if (set == NULL) {
        rc = shape_error(err, "RunInstances", "no instancesSet");
        goto out;
    }
    if ((rc = add_instances(set, out, err)) == AWS_OK && out->n == 0)
        rc = shape_error(err, "RunInstances", "no instance launched");
out:
    if (rc != AWS_OK)
        ec2_instance_list_free(out);
    xmlFreeDoc(doc);
    aws_buf_free(&f);
    return rc;
}

/* --- DescribeInstances ------------------------------------------------- */

static aws_rc describe_form(const ec2_filter *fl, size_t nf,
                            const char *const *ids, size_t n_ids, int page_size,
                            aws_buf *f, aws_error *err)
{
    if ((page_size != 0 && (page_size < 5 || page_size > 1000)) ||
        (page_size != 0 && n_ids > 0))
        return aws_error_set(err, AWS_EINVAL, NULL,
                             "page size must be 5..1000 and not used with "
                             "instance ids");
    for (size_t i = 0; i < nf; i++) {
        if (!check_str(fl[i].name) || fl[i].n_values == 0)
            return aws_error_set(err, AWS_EINVAL, NULL,
                                 "filter %zu has no name or no values", i + 1);
        ec2_form_addf(f, fl[i].name, "Filter.%zu.Name", i + 1);
        for (size_t j = 0; j < fl[i].n_values; j++)
            ec2_form_addf(f, fl[i].values[j] ? fl[i].values[j] : "",
                          "Filter.%zu.Value.%zu", i + 1, j + 1);
    }
    for (size_t i = 0; i < n_ids; i++) {
        if (!check_str(ids[i]))
            return aws_error_set(err, AWS_EINVAL, NULL, "empty instance id");
        ec2_form_addf(f, ids[i], "InstanceId.%zu", i + 1);
    }
    if (page_size != 0)
        aws_buf_printf(f, "&MaxResults=%d", page_size);
    return f->oom ? aws_error_set(err, AWS_ENOMEM, NULL, "out of memory")
                  : AWS_OK;
}

/* Reads one page; *next gets the malloc'd NextToken or NULL. */
static aws_rc describe_page(xmlDocPtr doc, ec2_instance_list *out, char **next,
                            aws_error *err)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    xmlNodePtr rs = ec2_xml_child(root, "reservationSet");
    if (rs == NULL)
        return shape_error(err, "DescribeInstances", "no reservationSet");
    for (xmlNodePtr r = rs->children; r; r = r->next) {
        if (r->type != XML_ELEMENT_NODE)
            continue;
        aws_rc rc = add_instances(ec2_xml_child(r, "instancesSet"), out, err);
        if (rc != AWS_OK)
            return rc;
    }
    *next = ec2_xml_text(root, "nextToken");
    if (*next != NULL && (*next)[0] == '\0') {
        free(*next);
        *next = NULL;
    }
    return AWS_OK;
}

aws_rc ec2_describe_instances(ec2_client *c, const ec2_filter *filters,
                              size_t n_filters, const char *const *ids,
                              size_t n_ids, int page_size,
                              ec2_instance_list *out, aws_error *err)
{
    aws_buf base, f;
    char *next = NULL;
    aws_rc rc;
    memset(out, 0, sizeof *out);
    aws_error_clear(err);
    aws_buf_init(&base);
    aws_buf_init(&f);
    if ((rc = describe_form(filters, n_filters, ids, n_ids, page_size, &base,
                            err)) != AWS_OK)
        goto out;
    for (int page = 0;; page++) {
        xmlDocPtr doc = NULL;
        char *prev = next;
        aws_buf_free(&f);
        aws_buf_init(&f);
        aws_buf_adds(&f, base.data ? base.data : "");
        if (prev != NULL)
            ec2_form_add(&f, "NextToken", prev);
        if (f.oom) {
            rc = aws_error_set(err, AWS_ENOMEM, NULL, "out of memory");
            goto out; /* next == prev: freed once, at out */
        }
        rc = ec2_call(c, "DescribeInstances", f.data, &doc, err);
        next = NULL;
        if (rc == AWS_OK)
            rc = describe_page(doc, out, &next, err);
        xmlFreeDoc(doc);
        /* a service handing back the same token would loop forever */
        if (rc == AWS_OK && next != NULL &&
            ((prev != NULL && strcmp(prev, next) == 0) ||
             page + 1 >= MAX_PAGES))
            rc = shape_error(err, "DescribeInstances",
                             "NextToken repeats or too many pages");
        free(prev);
        if (rc != AWS_OK || next == NULL)
            break;
    }
out:
    free(next);
    if (rc != AWS_OK)
        ec2_instance_list_free(out);
    aws_buf_free(&base);
    aws_buf_free(&f);
    return rc;
}

/* --- TerminateInstances ------------------------------------------------ */

static aws_rc read_changes(xmlNodePtr set, ec2_state_change_list *out,
                           aws_error *err)
{
    size_t n = 0;
    for (xmlNodePtr it = set->children; it; it = it->next)
        n += it->type == XML_ELEMENT_NODE;
    if (n == 0)
        return shape_error(err, "TerminateInstances", "empty instancesSet");
    if ((out->items = calloc(n, sizeof *out->items)) == NULL)
        return aws_error_set(err, AWS_ENOMEM, NULL, "out of memory");
    for (xmlNodePtr it = set->children; it; it = it->next) {
        if (it->type != XML_ELEMENT_NODE)
            continue;
        ec2_state_change *s = &out->items[out->n++];
        s->id = ec2_xml_text(it, "instanceId");
        s->previous_state =
            ec2_xml_text(ec2_xml_child(it, "previousState"), "name");
        s->current_state =
            ec2_xml_text(ec2_xml_child(it, "currentState"), "name");
        if (s->id == NULL || s->current_state == NULL)
            return shape_error(err, "TerminateInstances",
                               "item without instanceId or currentState");
    }
    return AWS_OK;
}

aws_rc ec2_terminate_instances(ec2_client *c, const char *const *ids,
                               size_t n_ids, ec2_state_change_list *out,
                               aws_error *err)
{
    aws_buf f;
    xmlDocPtr doc = NULL;
    aws_rc rc = AWS_OK;
    memset(out, 0, sizeof *out);
    aws_error_clear(err);
    aws_buf_init(&f);
    if (ids == NULL || n_ids == 0)
        return aws_error_set(err, AWS_EINVAL, NULL, "no instance ids");
    for (size_t i = 0; i < n_ids && rc == AWS_OK; i++)
        if (!check_str(ids[i]))
            rc = aws_error_set(err, AWS_EINVAL, NULL, "empty instance id");
        else
            ec2_form_addf(&f, ids[i], "InstanceId.%zu", i + 1);
    if (rc == AWS_OK && f.oom)
        rc = aws_error_set(err, AWS_ENOMEM, NULL, "out of memory");
    if (rc != AWS_OK ||
        (rc = ec2_call(c, "TerminateInstances", f.data, &doc, err)) != AWS_OK)
        goto out;
    xmlNodePtr set = ec2_xml_child(xmlDocGetRootElement(doc), "instancesSet");
    rc = set ? read_changes(set, out, err)
             : shape_error(err, "TerminateInstances", "no instancesSet");
out:
    if (rc != AWS_OK)
        ec2_state_change_list_free(out);
    xmlFreeDoc(doc);
    aws_buf_free(&f);
    return rc;
}

/* --- DescribeInstanceAttribute userData -------------------------------- */

aws_rc ec2_get_user_data(ec2_client *c, const char *instance_id, char **out,
                         size_t *len, aws_error *err)
{
    static const char *path[] = {"userData", NULL};
    aws_buf f;
    xmlDocPtr doc = NULL;
    char *b64 = NULL;
    aws_rc rc;
    size_t n = 0;
    *out = NULL;
    aws_error_clear(err);
    if (!check_str(instance_id))
        return aws_error_set(err, AWS_EINVAL, NULL, "no instance id");
    aws_buf_init(&f);
    ec2_form_add(&f, "InstanceId", instance_id);
    ec2_form_add(&f, "Attribute", "userData");
    if (f.oom) {
        rc = aws_error_set(err, AWS_ENOMEM, NULL, "out of memory");
        goto out;
    }
    if ((rc = ec2_call(c, "DescribeInstanceAttribute", f.data, &doc, err)) !=
        AWS_OK)
        goto out;
    xmlNodePtr ud = ec2_xml_path(xmlDocGetRootElement(doc), path);
    if (ud == NULL) {
        rc = shape_error(err, "DescribeInstanceAttribute", "no userData");
        goto out;
    }
    b64 = ec2_xml_text(ud, "value");
    *out = aws_base64_decode(b64 ? b64 : "", &n);
    if (*out == NULL)
        rc = aws_error_set(err, AWS_EPARSE, NULL,
                           "user data of %s is not valid base64", instance_id);
out:
    if (len != NULL)
        *len = rc == AWS_OK ? n : 0;
    free(b64);
    xmlFreeDoc(doc);
    aws_buf_free(&f);
    return rc;
}
