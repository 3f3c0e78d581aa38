/* ec2_internal.h: what ec2_client.c (transport, signing, retries),
 * ec2_xml.c (response parsing) and ec2_actions.c (the four actions) share;
 * not part of the public API. */
#ifndef EC2_INTERNAL_H
#define EC2_INTERNAL_H

#include <libxml/tree.h>

#include "aws_util.h"
#include "ec2_client.h"

#define EC2_API_VERSION "2016-11-15"
#define EC2_LOG "ec2"

/* Appends "&key=value" to a form, both percent-encoded. */
void ec2_form_add(aws_buf *b, const char *key, const char *value);
/* Same with a printf-formatted key ("TagSpecification.1.Tag.%zu.Key"). */
void ec2_form_addf(aws_buf *b, const char *value, const char *keyfmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Performs Action with the encoded params ("&k=v..." or "") and, on a
 * 2xx answer, returns its parsed document in *doc (free with xmlFreeDoc).
 * Retries as ec2_client.h describes; logs failures. */
aws_rc ec2_call(ec2_client *c, const char *action, const char *params,
                xmlDocPtr *doc, aws_error *err);

/* Parses an XML body without network access or entity expansion.
 * AWS_EPARSE (err says why) when it is not one well-formed document. */
aws_rc ec2_xml_parse(const char *body, size_t len, xmlDocPtr *doc,
                     aws_error *err);
/* Fills err's code, message and request id from an EC2 error document
 * (<Response><Errors><Error><Code>/<Message>, <RequestID>). Returns 1 if
 * the document was one, else 0 (err untouched). */
int ec2_xml_error(xmlDocPtr doc, aws_error *err);
/* The first element child of n named name (namespaces ignored), or NULL. */
xmlNodePtr ec2_xml_child(xmlNodePtr n, const char *name);
/* Follows a path of child names ("instanceState", "name", NULL). */
xmlNodePtr ec2_xml_path(xmlNodePtr n, const char *const *names);
/* malloc'd text content of n's child `name`; NULL when absent (or oom). */
char *ec2_xml_text(xmlNodePtr n, const char *name);
/* The request id of a success document (<requestId>), or "". */
void ec2_xml_request_id(xmlDocPtr doc, char *out, size_t cap);
/* Reads one <item> of an instancesSet. AWS_EPARSE when it has no
 * instanceId; AWS_ENOMEM. On failure out is freed and zeroed. */
aws_rc ec2_xml_instance(xmlNodePtr item, ec2_instance *out);
void ec2_instance_free(ec2_instance *inst);

#endif
