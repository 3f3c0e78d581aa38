/* draw_test_util.h: helpers shared by the draw pool tests: a private pool
 * directory under the temp dir, removed afterwards, and a duplicate check. */
#ifndef DRAW_TEST_UTIL_H
#define DRAW_TEST_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Makes a fresh directory; returns its path in buf (or NULL). */
static inline char *draw_test_mkdtemp(char *buf, size_t len)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(buf, len, "%s/sb-draw-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(buf);
}

/* Removes the files a pool leaves and the directory itself. */
static inline void draw_test_rmdir(const char *dir)
{
    static const char *const files[] = {"data.mdb", "lock.mdb", "draw.lock"};
    char path[4200];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if (snprintf(path, sizeof path, "%s/%s", dir, files[i]) <
            (int)sizeof path)
            unlink(path);
    }
    rmdir(dir);
}

#endif
