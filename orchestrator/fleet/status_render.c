/* status_render.c: a fleet snapshot as HTML, JSON and Prometheus text.
 * Names are untrusted bytes: HTML gets entities, JSON gets \u escapes, and
 * bytes that are not UTF-8 become U+FFFD in both, so neither a browser nor
 * a JSON parser ever sees markup or invalid text we did not write. */
#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int status_buf_printf(status_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->oom)
        return -1;
    for (;;) {
        size_t room = b->cap - b->len;

        va_start(ap, fmt);
        n = vsnprintf(b->p != NULL ? b->p + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0)
            return -1;
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return 0;
        }
        size_t cap = (b->cap ? b->cap * 2 : 4096) + (size_t)n;
        char *p = realloc(b->p, cap);
        if (p == NULL) {
            b->oom = 1;
            return -1;
        }
        b->p = p;
        b->cap = cap;
    }
}

void status_buf_free(status_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len;
    unsigned cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        len = 2, cp = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        len = 3, cp = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        len = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

static void html(status_buf *b, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t n = strlen(str);

    for (size_t i = 0; i < n;) {
        size_t len = utf8_len(s + i, n - i);
        unsigned char c = s[i];

        if (len == 0 || c < 0x20 || c == 0x7f)
            status_buf_printf(b, "&#xFFFD;");
        else if (c == '&')
            status_buf_printf(b, "&amp;");
        else if (c == '<')
            status_buf_printf(b, "&lt;");
        else if (c == '>')
            status_buf_printf(b, "&gt;");
        else if (c == '"')
            status_buf_printf(b, "&quot;");
        else if (c == '\'')
            status_buf_printf(b, "&#39;");
        else
            status_buf_printf(b, "%.*s", (int)len, (const char *)s + i);
        i += len ? len : 1;
    }
}

static void json_str(status_buf *b, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t n = strlen(str);

    status_buf_printf(b, "\"");
    for (size_t i = 0; i < n;) {
        size_t len = utf8_len(s + i, n - i);
        unsigned char c = s[i];

        if (len == 0)
            status_buf_printf(b, "\\ufffd");
        else if (c == '"' || c == '\\')
            status_buf_printf(b, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            status_buf_printf(b, "\\u%04x", c);
        else
            status_buf_printf(b, "%.*s", (int)len, (const char *)s + i);
        i += len ? len : 1;
    }
    status_buf_printf(b, "\"");
}

/* For URL fragments: unreserved bytes as they are, the rest %XX. */
static void pct(status_buf *b, const char *str)
{
    for (const unsigned char *s = (const unsigned char *)str; *s; s++) {
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
            (*s >= '0' && *s <= '9') || strchr("-._~", *s) != NULL)
            status_buf_printf(b, "%c", *s);
        else
            status_buf_printf(b, "%%%02X", *s);
    }
}

static void html_servers(const fleet_snapshot *s, status_buf *b)
{
    status_buf_printf(b,
                      "<h2>App servers (%zu)</h2>\n<table>\n<tr><th>id</th>"
                      "<th>endpoint</th><th>instance</th><th>state</th>"
                      "<th>users</th><th>last heartbeat</th></tr>\n",
                      s->nservers);
    for (size_t i = 0; i < s->nservers; i++) {
        const fleet_server_info *v = &s->servers[i];

        status_buf_printf(b, "<tr id=\"srv-");
        pct(b, v->id);
        status_buf_printf(b, "\"><td>");
        html(b, v->id);
        status_buf_printf(b, "</td><td>");
        html(b, v->endpoint);
        status_buf_printf(b, "</td><td>");
        html(b, v->instance_id[0] ? v->instance_id : "-");
        status_buf_printf(b,
                          "</td><td class=\"%s\">%s</td><td>%u/%u "
                          "(reports %u)</td><td>%.1f s ago</td></tr>\n",
                          fleet_state_name(v->state),
                          fleet_state_name(v->state), v->users, v->capacity,
                          v->reported_users,
                          (double)(s->now_ms - v->last_heartbeat_ms) / 1000.0);
    }
    status_buf_printf(b, "</table>\n");
}

static void html_sessions(const fleet_snapshot *s, status_buf *b)
{
    status_buf_printf(b,
                      "<h2>Sessions (%zu)</h2>\n<table>\n<tr><th>user</th>"
                      "<th>server</th></tr>\n",
                      s->nsessions);
    for (size_t i = 0; i < s->nsessions; i++) {
        status_buf_printf(b, "<tr><td>");
        html(b, s->sessions[i].user);
        status_buf_printf(b, "</td><td><a href=\"#srv-");
        pct(b, s->sessions[i].server_id);
        status_buf_printf(b, "\">");
        html(b, s->sessions[i].server_id);
        status_buf_printf(b, "</a></td></tr>\n");
    }
    status_buf_printf(b, "</table>\n");
}

int status_render_html(const fleet_snapshot *s, status_buf *b)
{
    status_buf_printf(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8"
                         "\"><meta http-equiv=\"refresh\" content=\"5\"><title>"
                         "Switchboard fleet ");
    html(b, s->name);
    status_buf_printf(b, "</title></head><body>\n<h1>Fleet ");
    html(b, s->name);
    status_buf_printf(b, " (driver ");
    html(b, s->driver);
    status_buf_printf(b, ")</h1>\n<p><a href=\"/api/fleet\">JSON</a> | <a "
                         "href=\"/metrics\">metrics</a> | <a href=\"/healthz\">"
                         "health</a></p>\n");
    if (s->last_error[0]) {
        status_buf_printf(b, "<p class=\"error\">Last driver error: ");
        html(b, s->last_error);
        status_buf_printf(b, "</p>\n");
    }
    html_servers(s, b);
    html_sessions(s, b);
    status_buf_printf(b, "</body></html>\n");
    return b->oom ? -1 : 0;
}

static void json_counters(const fleet_counters *c, status_buf *b)
{
    status_buf_printf(
        b,
        "\"counters\":{\"assigns\":%llu,\"reassigns\":%llu,"
        "\"releases\":%llu,\"launches\":%llu,"
        "\"launch_failures\":%llu,\"terminations\":%llu,"
        "\"deaths\":%llu,\"adopted\":%llu,"
        "\"reaped_unknown\":%llu,\"waiting\":%llu}",
        (unsigned long long)c->assigns, (unsigned long long)c->reassigns,
        (unsigned long long)c->releases, (unsigned long long)c->launches,
        (unsigned long long)c->launch_failures,
        (unsigned long long)c->terminations, (unsigned long long)c->deaths,
        (unsigned long long)c->adopted, (unsigned long long)c->reaped_unknown,
        (unsigned long long)c->waiting);
}

int status_render_json(const fleet_snapshot *s, status_buf *b)
{
    status_buf_printf(b, "{\"fleet\":");
    json_str(b, s->name);
    status_buf_printf(b, ",\"driver\":");
    json_str(b, s->driver);
    status_buf_printf(b,
                      ",\"now_ms\":%lld,\"last_error\":", (long long)s->now_ms);
    json_str(b, s->last_error);
    status_buf_printf(b, ",\"servers\":[");
    for (size_t i = 0; i < s->nservers; i++) {
        const fleet_server_info *v = &s->servers[i];

        status_buf_printf(b, "%s{\"id\":", i ? "," : "");
        json_str(b, v->id);
        status_buf_printf(b, ",\"endpoint\":");
        json_str(b, v->endpoint);
        status_buf_printf(b, ",\"instance\":");
        json_str(b, v->instance_id);
        status_buf_printf(b,
                          ",\"state\":\"%s\",\"capacity\":%u,\"users\":%u,"
                          "\"reported_users\":%u,\"last_heartbeat_ms\":%lld}",
                          fleet_state_name(v->state), v->capacity, v->users,
                          v->reported_users, (long long)v->last_heartbeat_ms);
    }
    status_buf_printf(b, "],\"sessions\":[");
    for (size_t i = 0; i < s->nsessions; i++) {
        status_buf_printf(b, "%s{\"user\":", i ? "," : "");
        json_str(b, s->sessions[i].user);
        status_buf_printf(b, ",\"server\":");
        json_str(b, s->sessions[i].server_id);
        status_buf_printf(b, "}");
    }
    status_buf_printf(b, "],");
    json_counters(&s->counters, b);
    status_buf_printf(b, "}\n");
    return b->oom ? -1 : 0;
}

static void counter(status_buf *b, const char *name, const char *help,
                    uint64_t v)
{
    status_buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name,
                      help, name, name, (unsigned long long)v);
}

int status_render_metrics(const fleet_snapshot *s, status_buf *b)
{
    unsigned by_state[5] = {0};
    uint64_t users = 0;

    for (size_t i = 0; i < s->nservers; i++) {
        if ((unsigned)s->servers[i].state < 5)
            by_state[s->servers[i].state]++;
        if (s->servers[i].state == FLEET_UP)
            users += s->servers[i].users;
    }
    status_buf_printf(b, "# HELP sb_fleet_servers App servers by state.\n"
                         "# TYPE sb_fleet_servers gauge\n");
    for (int st = 0; st < 5; st++)
        status_buf_printf(b, "sb_fleet_servers{state=\"%s\"} %u\n",
                          fleet_state_name((fleet_state)st), by_state[st]);
    status_buf_printf(b,
                      "# HELP sb_fleet_users Users assigned to up "
                      "servers.\n# TYPE sb_fleet_users gauge\n"
                      "sb_fleet_users %llu\n# HELP sb_fleet_sessions Sessions "
                      "in the record.\n# TYPE sb_fleet_sessions gauge\n"
                      "sb_fleet_sessions %zu\n# HELP sb_fleet_waiting_users "
                      "Users waiting for a launch.\n# TYPE "
                      "sb_fleet_waiting_users gauge\nsb_fleet_waiting_users "
                      "%llu\n",
                      (unsigned long long)users, s->nsessions,
                      (unsigned long long)s->counters.waiting);
    counter(b, "sb_fleet_assigns_total", "Users assigned a server.",
            s->counters.assigns);
    counter(b, "sb_fleet_reassigns_total", "Users moved off a dead server.",
            s->counters.reassigns);
    counter(b, "sb_fleet_releases_total", "Sessions released.",
            s->counters.releases);
    counter(b, "sb_fleet_launches_total", "Servers launched.",
            s->counters.launches);
    counter(b, "sb_fleet_launch_failures_total",
            "Launches that failed or never registered.",
            s->counters.launch_failures);
    counter(b, "sb_fleet_terminations_total", "Instances terminated.",
            s->counters.terminations);
    counter(b, "sb_fleet_deaths_total", "Servers declared dead.",
            s->counters.deaths);
    return b->oom ? -1 : 0;
}
