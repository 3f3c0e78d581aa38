/* ec2_xml.c: reading EC2's XML answers with libxml2. The parser runs with
 * no network, no entity substitution and no DTD loading, and every lookup
 * tolerates a missing element, so a malformed or hostile body gives a
 * clear AWS_EPARSE, never a crash. */
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ec2_internal.h"

aws_rc ec2_xml_parse(const char *body, size_t len, xmlDocPtr *doc,
                     aws_error *err)
{
    char first[200] = "";
    *doc = NULL;
    if (body == NULL || len == 0)
        return aws_error_set(err, AWS_EPARSE, NULL, "empty body, XML expected");
    if (len > 64u << 20)
        return aws_error_set(err, AWS_EPARSE, NULL, "body too large");
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (ctxt == NULL)
        return aws_error_set(err, AWS_ENOMEM, NULL, "out of memory");
    *doc = xmlCtxtReadMemory(ctxt, body, (int)len, "ec2.xml", NULL,
                             XML_PARSE_NONET | XML_PARSE_NOERROR |
                                 XML_PARSE_NOWARNING | XML_PARSE_NOBLANKS);
    int ok = *doc != NULL && ctxt->wellFormed;
    xmlErrorPtr e = xmlCtxtGetLastError(ctxt);
    if (!ok && e != NULL && e->message != NULL) {
        /* NOERROR keeps libxml2 off stderr; its last error goes into err */
        snprintf(first, sizeof first, "line %d: %s", e->line, e->message);
        first[strcspn(first, "\n")] = '\0';
    }
    xmlFreeParserCtxt(ctxt);
    if (!ok || xmlDocGetRootElement(*doc) == NULL) {
        xmlFreeDoc(*doc);
        *doc = NULL;
        return aws_error_set(err, AWS_EPARSE, NULL,
                             "not well-formed XML (%zu bytes; %s)", len,
                             first[0] ? first : "no root element");
    }
    return AWS_OK;
}

xmlNodePtr ec2_xml_child(xmlNodePtr n, const char *name)
{
    for (xmlNodePtr c = n ? n->children : NULL; c != NULL; c = c->next)
        if (c->type == XML_ELEMENT_NODE &&
            strcmp((const char *)c->name, name) == 0)
            return c;
    return NULL;
}

xmlNodePtr ec2_xml_path(xmlNodePtr n, const char *const *names)
{
    for (; n != NULL && *names != NULL; names++)
        n = ec2_xml_child(n, *names);
    return n;
}

char *ec2_xml_text(xmlNodePtr n, const char *name)
{
    xmlNodePtr c = ec2_xml_child(n, name);
    if (c == NULL)
        return NULL;
    xmlChar *t = xmlNodeGetContent(c);
    char *s = strdup(t != NULL ? (const char *)t : "");
    xmlFree(t);
    return s;
}

static void copy_text(xmlNodePtr n, const char *name, char *out, size_t cap)
{
    char *t = ec2_xml_text(n, name);
    if (t != NULL)
        snprintf(out, cap, "%s", t);
    free(t);
}

int ec2_xml_error(xmlDocPtr doc, aws_error *err)
{
    static const char *path[] = {"Errors", "Error", NULL};
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (root == NULL || strcmp((const char *)root->name, "Response") != 0)
        return 0;
    xmlNodePtr e = ec2_xml_path(root, path);
    if (e == NULL || ec2_xml_child(e, "Code") == NULL)
        return 0;
    err->code[0] = err->message[0] = '\0';
    copy_text(e, "Code", err->code, sizeof err->code);
    copy_text(e, "Message", err->message, sizeof err->message);
    copy_text(root, "RequestID", err->request_id, sizeof err->request_id);
    if (err->message[0] == '\0')
        snprintf(err->message, sizeof err->message, "(no message)");
    return 1;
}

void ec2_xml_request_id(xmlDocPtr doc, char *out, size_t cap)
{
    out[0] = '\0';
    copy_text(xmlDocGetRootElement(doc), "requestId", out, cap);
}

void ec2_instance_free(ec2_instance *inst)
{
    free(inst->id);
    free(inst->state);
    free(inst->private_ip);
    free(inst->launch_time);
    free(inst->image_id);
    free(inst->instance_type);
    for (size_t i = 0; i < inst->n_tags; i++) {
        free((char *)inst->tags[i].key);
        free((char *)inst->tags[i].value);
    }
    free(inst->tags);
    memset(inst, 0, sizeof *inst);
}

static aws_rc read_tags(xmlNodePtr item, ec2_instance *out)
{
    xmlNodePtr set = ec2_xml_child(item, "tagSet");
    size_t n = 0;
    for (xmlNodePtr t = set ? set->children : NULL; t; t = t->next)
        n += t->type == XML_ELEMENT_NODE;
    if (n == 0)
        return AWS_OK;
    if ((out->tags = calloc(n, sizeof *out->tags)) == NULL)
        return AWS_ENOMEM;
    for (xmlNodePtr t = set->children; t; t = t->next) {
        if (t->type != XML_ELEMENT_NODE)
            continue;
        char *k = ec2_xml_text(t, "key"), *v = ec2_xml_text(t, "value");
        if (k == NULL) { /* a tag without key is skipped, not fatal */
            free(v);
            continue;
        }
        out->tags[out->n_tags].key = k;
        out->tags[out->n_tags++].value = v != NULL ? v : strdup("");
        if (out->tags[out->n_tags - 1].value == NULL)
            return AWS_ENOMEM;
    }
    return AWS_OK;
}

aws_rc ec2_xml_instance(xmlNodePtr item, ec2_instance *out)
{
    static const char *state_path[] = {"instanceState", NULL};
    aws_rc rc = AWS_OK;
    memset(out, 0, sizeof *out);
    if ((out->id = ec2_xml_text(item, "instanceId")) == NULL ||
        out->id[0] == '\0') {
        rc = AWS_EPARSE;
        goto fail;
    }
    out->state = ec2_xml_text(ec2_xml_path(item, state_path), "name");
    out->private_ip = ec2_xml_text(item, "privateIpAddress");
    out->launch_time = ec2_xml_text(item, "launchTime");
    out->image_id = ec2_xml_text(item, "imageId");
    out->instance_type = ec2_xml_text(item, "instanceType");
    if ((rc = read_tags(item, out)) != AWS_OK)
        goto fail;
    return AWS_OK;
fail:
    ec2_instance_free(out);
    return rc;
}
