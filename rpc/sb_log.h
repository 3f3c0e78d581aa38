/* sb_log.h: one line per event worth knowing, on stderr:
 *   2026-11-22T10:15:02.123Z INFO login: alice logged in, assigned app-2
 * The level comes from SB_LOG (debug, info, warn, error, quiet; info). */
#ifndef SB_LOG_H
#define SB_LOG_H

enum { SB_LOG_DEBUG = 0, SB_LOG_INFO, SB_LOG_WARN, SB_LOG_ERROR, SB_LOG_QUIET };

void sb_log(int level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** Overrides SB_LOG. */
void sb_log_set_level(int level);
int sb_log_enabled(int level);

#define sb_debug(comp, ...) sb_log(SB_LOG_DEBUG, comp, __VA_ARGS__)
#define sb_info(comp, ...) sb_log(SB_LOG_INFO, comp, __VA_ARGS__)
#define sb_warn(comp, ...) sb_log(SB_LOG_WARN, comp, __VA_ARGS__)
#define sb_error(comp, ...) sb_log(SB_LOG_ERROR, comp, __VA_ARGS__)

#endif
