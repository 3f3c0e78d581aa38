/* aws_creds.c: the credential chain (environment, profile files, instance
 * role), the region and the EC2 endpoint, resolved the way the AWS CLI
 * does so that an operator's usual setup just works. Each failure says
 * which source was looked at and why it did not give credentials. */
#include "aws_creds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws_internal.h"
#include "aws_util.h"

void aws_creds_free(aws_creds *c)
{
    if (c == NULL)
        return;
    if (c->secret_access_key != NULL)
        memset(c->secret_access_key, 0, strlen(c->secret_access_key));
    free(c->access_key_id);
    free(c->secret_access_key);
    free(c->session_token);
    memset(c, 0, sizeof *c);
}

aws_rc aws_creds_copy(aws_creds *dst, const aws_creds *src)
{
    memset(dst, 0, sizeof *dst);
    dst->access_key_id = aws_strdup0(src->access_key_id);
    dst->secret_access_key = aws_strdup0(src->secret_access_key);
    dst->session_token = aws_strdup0(src->session_token);
    memcpy(dst->source, src->source, sizeof dst->source);
    dst->expiration = src->expiration;
    if ((src->access_key_id && !dst->access_key_id) ||
        (src->secret_access_key && !dst->secret_access_key) ||
        (src->session_token && !dst->session_token)) {
        aws_creds_free(dst);
        return AWS_ENOMEM;
    }
    return AWS_OK;
}

static const char *env_nonempty(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' ? v : NULL;
}

/* Fills out from three strings (stolen on success); *found set. */
static aws_rc take_keys(aws_creds *out, const char *where, char *ak, char *sk,
                        char *tok, aws_error *err)
{
    if (ak == NULL || sk == NULL) {
        free(ak);
        free(sk);
        free(tok);
        return aws_error_set(err, AWS_EINVAL, NULL,
                             "%s: an access key id without a secret access "
                             "key (or the reverse)",
                             where);
    }
    out->access_key_id = ak;
    out->secret_access_key = sk;
    out->session_token = tok;
    snprintf(out->source, sizeof out->source, "%s", where);
    return AWS_OK;
}

static aws_rc from_env(aws_creds *out, int *found, aws_error *err)
{
    const char *ak = env_nonempty("AWS_ACCESS_KEY_ID");
    const char *sk = env_nonempty("AWS_SECRET_ACCESS_KEY");
    const char *tok = env_nonempty("AWS_SESSION_TOKEN");
    *found = ak != NULL || sk != NULL;
    if (!*found)
        return AWS_OK;
    char *a = aws_strdup0(ak), *s = aws_strdup0(sk), *t = aws_strdup0(tok);
    if ((ak && !a) || (sk && !s) || (tok && !t)) {
        free(a);
        free(s);
        free(t);
        return aws_error_set(err, AWS_ENOMEM, NULL, "out of memory");
    }
    return take_keys(out, "environment", a, s, t, err);
}

/* Reads keys[0..n) for the current profile: the credentials file's
 * [name] first, then the config file's [profile name] ([default]). A value
 * from the credentials file wins. *found: the profile exists somewhere.
 * where: receives the file the first value came from. */
static aws_rc profile_read(const char *const *keys, char **vals, size_t n,
                           int *found, char *where, size_t wlen, aws_error *err)
{
    int expl, f0 = 0, f1 = 0;
    const char *name = aws_profile_name(&expl);
    char *paths[2] = {aws_profile_path(0), aws_profile_path(1)};
    char sect[2][300], *tmp[8];
    aws_rc rc = AWS_OK;
    snprintf(sect[0], sizeof sect[0], "%s", name);
    snprintf(sect[1], sizeof sect[1], "%s%s",
             strcmp(name, "default") ? "profile " : "", name);
    for (size_t i = 0; i < n; i++)
        vals[i] = NULL;
    where[0] = '\0';
    for (int w = 0; w < 2 && rc == AWS_OK; w++) {
        int *fw = w == 0 ? &f0 : &f1;
        if (paths[w] == NULL)
            continue;
        rc = aws_ini_read(paths[w], sect[w], keys, tmp, n, fw, err);
        for (size_t i = 0; rc == AWS_OK && i < n; i++) {
            if (vals[i] == NULL && tmp[i] != NULL) {
                vals[i] = tmp[i];
                if (where[0] == '\0')
                    snprintf(where, wlen, "profile %.40s (%.40s)", name,
                             paths[w]);
            } else {
                free(tmp[i]);
            }
        }
    }
    *found = f0 || f1;
    if (rc == AWS_OK && expl && !*found)
        rc = aws_error_set(err, AWS_ECONFIG, NULL,
                           "AWS_PROFILE=%s: no such profile in %s or %s", name,
                           paths[0] ? paths[0] : "(no credentials file)",
                           paths[1] ? paths[1] : "(no config file)");
    if (rc != AWS_OK)
        for (size_t i = 0; i < n; i++) {
            free(vals[i]);
            vals[i] = NULL;
        }
    free(paths[0]);
    free(paths[1]);
    return rc;
}

static aws_rc from_profile(aws_creds *out, int *found, aws_error *err)
{
    static const char *keys[] = {"aws_access_key_id", "aws_secret_access_key",
                                 "aws_session_token"};
    char *v[3], where[96];
    int exists;
    aws_rc rc = profile_read(keys, v, 3, &exists, where, sizeof where, err);
    *found = rc == AWS_OK && (v[0] != NULL || v[1] != NULL);
    if (rc != AWS_OK || !*found) {
        for (int i = 0; i < 3; i++)
            free(v[i]);
        return rc;
    }
    return take_keys(out, where, v[0], v[1], v[2], err);
}

aws_rc aws_creds_resolve(aws_creds *out, aws_error *err)
{
    aws_rc rc;
    int found = 0;
    aws_error ierr;
    memset(out, 0, sizeof *out);
    if ((rc = from_env(out, &found, err)) != AWS_OK || found)
        return rc;
    if ((rc = from_profile(out, &found, err)) != AWS_OK || found)
        return rc;
    const char *dis = getenv("AWS_EC2_METADATA_DISABLED");
    if (dis != NULL && strcasecmp(dis, "true") == 0)
        return aws_error_set(err, AWS_ENOCREDS, NULL,
                             "no AWS credentials: none in the environment or "
                             "profile %s, and IMDS is disabled "
                             "(AWS_EC2_METADATA_DISABLED=true)",
                             aws_profile_name(&found));
    aws_error_clear(&ierr);
    rc = aws_creds_from_imds(NULL, out, &ierr);
    if (rc == AWS_OK || rc == AWS_ENOMEM)
        return rc == AWS_OK ? AWS_OK
                            : aws_error_set(err, rc, NULL, "%s", ierr.message);
    aws_error_set(err, AWS_ENOCREDS, ierr.code,
                  "no AWS credentials: none in the environment or profile "
                  "%s; instance role: %.300s",
                  aws_profile_name(&found), ierr.message);
    if (err != NULL)
        err->http_status = ierr.http_status;
    return AWS_ENOCREDS;
}

aws_rc aws_region_resolve(char **out, aws_error *err)
{
    static const char *keys[] = {"region"};
    const char *env = env_nonempty("AWS_REGION");
    char *v = NULL, where[96];
    int exists;
    *out = NULL;
    if (env == NULL)
        env = env_nonempty("AWS_DEFAULT_REGION");
    if (env != NULL) {
        *out = strdup(env);
        return *out ? AWS_OK
                    : aws_error_set(err, AWS_ENOMEM, NULL, "out of memory");
    }
    aws_rc rc = profile_read(keys, &v, 1, &exists, where, sizeof where, err);
    if (rc != AWS_OK)
        return rc;
    if (v == NULL || v[0] == '\0') {
        free(v);
        return aws_error_set(err, AWS_ECONFIG, NULL,
                             "no AWS region: set AWS_REGION or "
                             "AWS_DEFAULT_REGION, or region in the profile's "
                             "config");
    }
    *out = v;
    return AWS_OK;
}

aws_rc aws_ec2_endpoint_resolve(const char *region, char **out, aws_error *err)
{
    const char *name = "AWS_ENDPOINT_URL_EC2";
    const char *url = env_nonempty(name);
    aws_buf b;
    *out = NULL;
    if (url == NULL)
        url = env_nonempty(name = "AWS_ENDPOINT_URL");
    if (url != NULL) {
        if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
            return aws_error_set(err, AWS_EINVAL, NULL,
                                 "%s=%s: not an http:// or https:// URL", name,
                                 url);
        *out = strdup(url);
    } else {
        if (region == NULL || region[0] == '\0' ||
            strpbrk(region, "/:@?# ") != NULL)
            return aws_error_set(err, AWS_EINVAL, NULL,
                                 "no EC2 endpoint: no valid region");
        aws_buf_init(&b);
        aws_buf_printf(&b, "https://ec2.%s.amazonaws.com", region);
        *out = aws_buf_take(&b);
    }
    return *out ? AWS_OK
                : aws_error_set(err, AWS_ENOMEM, NULL, "out of memory");
}
