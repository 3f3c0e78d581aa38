/* sb_draw.c: `sb draw HOST PORT`, the loot-box front end (PROTOCOL.md):
 * reads `draw <count>` lines from stdin, calls sb.draw.Draw/Draw on
 * HOST:PORT and prints each number on its own line. Bad lines get a usage
 * line, a drained pool the server's "No numbers left"; both go to
 * stdout in order with the numbers, and the session goes on. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "draw.sb.h"
#include "sb_internal.h"

#define SB_DRAW_USAGE "Usage: draw <count>"

int sb_draw_run(const char *host, int port);

/* "draw <count>" with count a decimal up to UINT32_MAX (the server checks
 * the per-call maximum). Returns 0 and *count, 1 for a blank line, 2 for
 * exit/quit, -1 for anything else. */
static int parse_line(char *line, uint32_t *count)
{
    char *save = NULL, *w0 = strtok_r(line, " \t\r\n", &save);
    char *w1 = strtok_r(NULL, " \t\r\n", &save);
    char *w2 = strtok_r(NULL, " \t\r\n", &save), *end;

    if (w0 == NULL)
        return 1;
    if ((strcmp(w0, "exit") == 0 || strcmp(w0, "quit") == 0) && w1 == NULL)
        return 2;
    if (strcmp(w0, "draw") != 0 || w1 == NULL || w2 != NULL || *w1 == '-')
        return -1;
    errno = 0;
    unsigned long v = strtoul(w1, &end, 10);
    if (*end != '\0' || errno != 0 || v > UINT32_MAX)
        return -1;
    *count = (uint32_t)v;
    return 0;
}

/* 0, or 1 when the server could not be reached. */
static int do_draw(rpc_client *c, const char *url, uint32_t count)
{
    Sb__Draw__DrawRequest req = SB__DRAW__DRAW_REQUEST__INIT;
    Sb__Draw__DrawReply *rep = NULL;
    rpc_status st;

    int rc;

    req.count = count;
    if ((rc = sb_draw_Draw_Draw(c, &req, &rep, NULL, &st)) != RPC_OK) {
        /* as script mode prints a failure: the server's own words ("No
         * numbers left", "Count must be between 1 and 10000"), or libsb's
         * "cannot connect to HOST:PORT: ..." */
        sb_explain_unreachable(url, &st);
        if (st.message[0] != '\0')
            printf("%s\n", st.message);
        else
            printf("Error: %s\n", rpc_code_name(st.code));
    } else {
        for (size_t i = 0; i < rep->n_numbers; i++)
            printf("%u\n", rep->numbers[i]);
    }
    sb_draw_Draw_free(rep);
    fflush(stdout);
    return rc != RPC_OK && sb_status_unreachable(&st);
}

int sb_draw_run(const char *host, int port)
{
    char url[512], *line = NULL;
    size_t cap = 0;
    rpc_client *c = NULL;
    uint32_t count;
    int unreachable = 0;

    snprintf(url, sizeof url, "tcp://%s:%d", host, port);
    if (rpc_client_open(&c, url, NULL) != 0) {
        fprintf(stderr, "sb: cannot open a client for %s\n", url);
        return 1;
    }
    while (getline(&line, &cap, stdin) >= 0) {
        int r = parse_line(line, &count);
        if (r == 2)
            break;
        if (r == 1)
            continue;
        if (r < 0) {
            printf("%s\n", SB_DRAW_USAGE);
            fflush(stdout);
            continue;
        }
        unreachable += do_draw(c, url, count);
    }
    free(line);
    rpc_client_close(c);
    if (unreachable > 0)
        fprintf(stderr, "sb: some draws could not reach the server\n");
    return unreachable > 0 ? 1 : 0;
}
