/* sbd_config.c: sbd's config file (--config FILE). The keys are the
 * flags' names without "--", one `name = value` a line, so a config file
 * and a command line say the same things in the same words; both go
 * through the flag table's setter (sbd_flags.c), and the command line
 * is applied after the file, so a flag overrides the file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbd_flags.h"

#define CONFIG_MAX (1 << 20)

/* The whole file, NUL-ended, or NULL (printed). */
static char *read_all(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t n = 0;

    if (f == NULL) {
        fprintf(stderr, "sbd: cannot read the config file %s: %s\n", path,
                strerror(errno));
        return NULL;
    }
    if ((buf = malloc(CONFIG_MAX + 1)) != NULL)
        n = fread(buf, 1, CONFIG_MAX + 1, f);
    if (buf == NULL || ferror(f) || n > CONFIG_MAX ||
        memchr(buf, '\0', n) != NULL) {
        fprintf(stderr, "sbd: cannot read the config file %s: %s\n", path,
                buf == NULL      ? "out of memory"
                : ferror(f)      ? strerror(errno)
                : n > CONFIG_MAX ? "larger than 1 MiB"
                                 : "it holds a NUL byte");
        free(buf);
        buf = NULL;
    } else {
        buf[n] = '\0';
    }
    fclose(f);
    return buf;
}

static char *trim(char *s)
{
    char *end;

    s += strspn(s, " \t\r");
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        *--end = '\0';
    return s;
}

/* One line: 0 (set, skipped or ignored) or -1 (printed). */
static int config_line(const char *path, int lineno, char *line,
                       const char *role, sbd_opts *o)
{
    char *key, *val, *eq, err[160];
    const sbd_flag *f;
    size_t n;

    line = trim(line);
    if (line[0] == '\0' || line[0] == '#')
        return 0;
    if ((eq = strchr(line, '=')) == NULL) {
        fprintf(stderr, "sbd: %s:%d: expected `name = value`, got '%s'\n", path,
                lineno, line);
        return -1;
    }
    *eq = '\0';
    key = trim(line);
    val = trim(eq + 1);
    n = strlen(val);
    if (n >= 2 && val[0] == '"' && val[n - 1] == '"') {
        val[n - 1] = '\0';
        val++;
    }
    if (strncmp(key, "--", 2) == 0)
        key += 2; /* "--data-dir = x" means what the flag means */
    if ((f = sbd_flag_find(key)) == NULL) {
        fprintf(stderr,
                "sbd: %s:%d: unknown setting '%s' (keys are sbd's "
                "flag names: sbd --help)\n",
                path, lineno, key);
        return -1;
    }
    if (!sbd_flag_for_role(f, role))
        return 0; /* another role's setting in a shared file */
    if (sbd_flag_set(f, val, o, err, sizeof err) != 0) {
        fprintf(stderr, "sbd: %s:%d: bad value for %s: '%s' (%s)\n", path,
                lineno, key, val, err);
        return -1;
    }
    return 0;
}

int sbd_config_load(const char *path, const char *role, sbd_opts *o)
{
    char *text = read_all(path), *line, *next;
    int lineno = 0;

    if (text == NULL)
        return -1;
    free(o->config_text);
    o->config_text = text; /* values point into it */
    for (line = text; line != NULL; line = next) {
        if ((next = strchr(line, '\n')) != NULL)
            *next++ = '\0';
        if (config_line(path, ++lineno, line, role, o) != 0)
            return -1;
    }
    return 0;
}
