/* wc.c: the web-client session helper (see wc.h). */
#define _GNU_SOURCE
#include "wc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void take_cookie(wc *c, const hc_resp *r)
{
    char v[256];

    if (hc_header(r, "Set-Cookie", v, sizeof v) != NULL) {
        size_t n = strcspn(v, ";");
        snprintf(c->cookie, sizeof c->cookie, "%.*s", (int)n, v);
    }
}

int wc_open(wc *c, int port)
{
    char hdr[200];
    hc_resp r;
    json_t *j;

    memset(c, 0, sizeof *c);
    c->port = port;
    if (hc_request(port, "GET", "/api/session", NULL, NULL, &r, 10000) != 0 ||
        r.status != 200) {
        hc_free(&r);
        return -1;
    }
    take_cookie(c, &r);
    j = json_loads(r.body, 0, NULL);
    snprintf(c->csrf, sizeof c->csrf, "%s",
             j ? json_string_value(json_object_get(j, "csrf")) : "");
    json_decref(j);
    hc_free(&r);
    (void)hdr;
    return c->cookie[0] && c->csrf[0] ? 0 : -1;
}

json_t *wc_post(wc *c, const char *path, const char *body, const char *extra,
                int *status)
{
    char hdr[1024];
    hc_resp r;
    json_t *j = NULL, *cs;

    snprintf(hdr, sizeof hdr,
             "Cookie: %s\r\nX-CSRF-Token: %s\r\nContent-Type: "
             "application/json\r\n%s",
             c->cookie, c->csrf, extra ? extra : "");
    *status = 0;
    if (hc_request(c->port, "POST", path, hdr, body, &r, 30000) == 0) {
        *status = r.status;
        take_cookie(c, &r);
        j = json_loads(r.body, 0, NULL);
        if ((cs = json_object_get(j, "csrf")) != NULL)
            snprintf(c->csrf, sizeof c->csrf, "%s", json_string_value(cs));
    }
    hc_free(&r);
    return j;
}

char *wc_lines(json_t *j)
{
    json_t *lines = json_object_get(j, "lines"), *l;
    size_t i, n = 1;
    char *out;

    json_array_foreach(lines, i, l) n += strlen(json_string_value(l)) + 1;
    if ((out = malloc(n)) == NULL)
        return NULL;
    out[0] = '\0';
    json_array_foreach(lines, i, l)
    {
        if (i > 0)
            strcat(out, "\n");
        strcat(out, json_string_value(l));
    }
    return out;
}

char *wc_cmd(wc *c, const char *cmd, int nargs, const char *const *args)
{
    json_t *req = json_pack("{sss[]}", "cmd", cmd, "args"), *rep;
    char *body, *out;
    int st;

    for (int i = 0; i < nargs; i++)
        json_array_append_new(json_object_get(req, "args"),
                              json_string(args[i]));
    body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    rep = wc_post(c, "/api/cmd", body, NULL, &st);
    free(body);
    out = rep != NULL ? wc_lines(rep) : NULL;
    json_decref(rep);
    return out;
}

int wc_join(wc *c, int port, const char *name, const char *password)
{
    json_t *b = json_pack("{sssssssssssi}", "name", name, "password", password,
                          "first", name, "last", "Test", "gender", "x", "age",
                          30),
           *r;
    char *body = json_dumps(b, JSON_COMPACT);
    int st, ok;

    json_decref(b);
    if (wc_open(c, port) != 0) {
        free(body);
        return -1;
    }
    json_decref(wc_post(c, "/api/register", body, NULL, &st));
    free(body);
    b = json_pack("{ssss}", "name", name, "password", password);
    body = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    r = wc_post(c, "/api/login", body, NULL, &st);
    free(body);
    ok = json_is_true(json_object_get(r, "ok"));
    json_decref(r);
    snprintf(c->user, sizeof c->user, "%s", name);
    return ok ? 0 : -1;
}
