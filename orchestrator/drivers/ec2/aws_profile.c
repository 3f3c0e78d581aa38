/* aws_profile.c: the shared AWS profile files (~/.aws/credentials and
 * ~/.aws/config) as the CLI reads them: "[name]" sections, "key = value"
 * lines, '#' and ';' comments. Indented lines belong to nested settings
 * (e.g. "s3 =" blocks) and are skipped. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws_internal.h"
#include "aws_util.h"

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' ||
                     s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

/* "[  profile   x ]" → "profile x", so either spacing matches. */
static void normalise_section(char *s)
{
    char *o = s;
    int space = 0;
    for (char *p = s; *p; p++) {
        if (*p == ' ' || *p == '\t') {
            space = o != s;
            continue;
        }
        if (space)
            *o++ = ' ';
        space = 0;
        *o++ = *p;
    }
    *o = '\0';
}

static aws_rc take_line(char *line, const char *section,
                        const char *const *keys, char **values, size_t n,
                        int *in_section, int *found)
{
    if (line[0] == ' ' || line[0] == '\t')
        return AWS_OK; /* nested setting */
    char *t = trim(line);
    if (*t == '\0' || *t == '#' || *t == ';')
        return AWS_OK;
    if (*t == '[') {
        char *end = strrchr(t, ']');
        if (end == NULL)
            return AWS_OK; /* not a header; the CLI would reject the file */
        *end = '\0';
        normalise_section(t + 1);
        *in_section = strcmp(t + 1, section) == 0;
        *found |= *in_section;
        return AWS_OK;
    }
    char *eq = strchr(t, '=');
    if (!*in_section || eq == NULL)
        return AWS_OK;
    *eq = '\0';
    char *k = trim(t), *v = trim(eq + 1);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(k, keys[i]) != 0)
            continue;
        free(values[i]); /* a later line wins, as in configparser */
        if ((values[i] = strdup(v)) == NULL)
            return AWS_ENOMEM;
    }
    return AWS_OK;
}

aws_rc aws_ini_read(const char *path, const char *section,
                    const char *const *keys, char **values, size_t n,
                    int *found, aws_error *err)
{
    aws_rc rc = AWS_OK;
    char *line = NULL;
    size_t cap = 0;
    int in_section = 0;
    for (size_t i = 0; i < n; i++)
        values[i] = NULL;
    *found = 0;
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        if (errno == ENOENT || errno == ENOTDIR)
            return AWS_OK;
        return aws_error_set(err, AWS_ECONFIG, NULL, "cannot read %s: %s", path,
                             strerror(errno));
    }
    while (getline(&line, &cap, f) >= 0)
        if ((rc = take_line(line, section, keys, values, n, &in_section,
                            found)) != AWS_OK)
            break;
    if (rc == AWS_OK && ferror(f))
        rc = aws_error_set(err, AWS_ECONFIG, NULL, "error reading %s", path);
    else if (rc != AWS_OK)
        aws_error_set(err, rc, NULL, "out of memory");
    free(line);
    fclose(f);
    if (rc != AWS_OK)
        for (size_t i = 0; i < n; i++) {
            free(values[i]);
            values[i] = NULL;
        }
    return rc;
}

char *aws_profile_path(int which)
{
    const char *env =
        getenv(which == 0 ? "AWS_SHARED_CREDENTIALS_FILE" : "AWS_CONFIG_FILE");
    if (env != NULL && env[0] != '\0')
        return strdup(env);
    const char *home = getenv("HOME");
    if (home == NULL || home[0] == '\0')
        return NULL;
    aws_buf b;
    aws_buf_init(&b);
    aws_buf_printf(&b, "%s/.aws/%s", home,
                   which == 0 ? "credentials" : "config");
    return aws_buf_take(&b);
}

const char *aws_profile_name(int *explicit_)
{
    const char *p = getenv("AWS_PROFILE");
    *explicit_ = p != NULL && p[0] != '\0';
    return *explicit_ ? p : "default";
}
