/* aws_internal.h: declarations shared by the credential-chain files
 * (aws_profile.c, aws_imds.c, aws_creds.c); not part of the public API. */
#ifndef AWS_INTERNAL_H
#define AWS_INTERNAL_H

#include <stddef.h>

#include "aws_error.h"

/* Reads the keys named in keys[0..n) from section `section` of the INI
 * file at path. values[i] receives a malloc'd value or NULL when absent.
 * *found is set to 1 when the section exists. A missing file is not an
 * error (found stays 0). Returns AWS_OK, AWS_ECONFIG (unreadable) or
 * AWS_ENOMEM; on failure every values[i] is NULL. */
aws_rc aws_ini_read(const char *path, const char *section,
                    const char *const *keys, char **values, size_t n,
                    int *found, aws_error *err);

/* The path of the shared credentials (which=0) or config (which=1) file:
 * the environment override, else $HOME/.aws/credentials|config. Returns a
 * malloc'd path, or NULL when neither is available. */
char *aws_profile_path(int which);

/* The profile name: AWS_PROFILE or "default". *explicit_ set when it came
 * from the environment. */
const char *aws_profile_name(int *explicit_);

#endif
