/* sb_log.c: timestamped, levelled log lines on stderr. One fprintf per line
 * so lines from different threads do not interleave. */
#include "sb_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static int sb_log_level = -1; /* -1: not yet read from SB_LOG */

static int level_from_env(void)
{
    const char *v = getenv("SB_LOG");
    static const char *names[] = {"debug", "info", "warn", "error", "quiet"};
    if (v != NULL)
        for (int i = 0; i < 5; i++)
            if (strcasecmp(v, names[i]) == 0)
                return i;
    return SB_LOG_INFO;
}

void sb_log_set_level(int level)
{
    __atomic_store_n(&sb_log_level, level, __ATOMIC_RELAXED);
}

int sb_log_enabled(int level)
{
    int cur = __atomic_load_n(&sb_log_level, __ATOMIC_RELAXED);
    if (cur < 0) {
        cur = level_from_env();
        __atomic_store_n(&sb_log_level, cur, __ATOMIC_RELAXED);
    }
    return level >= cur && level < SB_LOG_QUIET;
}

void sb_log(int level, const char *component, const char *fmt, ...)
{
    static const char *tags[] = {"DEBUG", "INFO", "WARN", "ERROR"};
    if (!sb_log_enabled(level))
        return;
    char msg[1024], stamp[32];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s.%03ldZ %s %s: %s\n", stamp, ts.tv_nsec / 1000000L,
            tags[level], component, msg);
}
