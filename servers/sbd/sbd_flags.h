/* sbd_flags.h: sbd's settings as data. One row per flag (its name, the
 * kind of value, where it lives in sbd_opts, its bounds, the roles that
 * take it, its help), and the three things done with the rows: set a
 * value from the command line or a config file, print a role's --help,
 * print a role's effective configuration (--print-config). A later flag
 * is one more row in sbd_flags.c; nothing else parses it. */
#ifndef SBD_FLAGS_H
#define SBD_FLAGS_H

#include <stddef.h>
#include <stdio.h>

#include "sbd.h"

typedef enum sbd_flag_kind {
    SBD_STR,    /* const char *; hi = longest (0 = any), never empty */
    SBD_INT,    /* int in lo..hi */
    SBD_U32,    /* uint32_t in lo..hi */
    SBD_SECS,   /* uint32_t milliseconds, written as seconds ("0.5");
                   lo = the least ms (1: zero refused) */
    SBD_CHOICE, /* int: the index of the value in choices "a|b|c" */
} sbd_flag_kind;

typedef struct sbd_flag {
    const char *name;    /* without the leading "--" */
    const char *metavar; /* what the help shows for the value */
    sbd_flag_kind kind;
    size_t off; /* offsetof(sbd_opts, the field) */
    long lo, hi;
    const char *choices; /* SBD_CHOICE only */
    const char *roles;   /* role names, space-separated; "*": every role */
    const char *help;    /* NULL: accepted, never listed (tests only, or
                            kept for old command lines) */
    const char *unset;   /* what an unset string means, for --help */
} sbd_flag;

/** The row named @name (without "--"), or NULL. */
const sbd_flag *sbd_flag_find(const char *name);

/** 1 when @role takes @f. */
int sbd_flag_for_role(const sbd_flag *f, const char *role);

/** Sets @f in @o from the text @v (which must outlive @o). Returns 0, or
 * -1 with the reason in @err ("a whole number from 1 to 64"). */
int sbd_flag_set(const sbd_flag *f, const char *v, sbd_opts *o, char *err,
                 size_t n);

/** Prints the flags @role takes, one a line with its help and its value
 * in @defaults (the role's defaults) - hidden rows left out. */
void sbd_flags_help(FILE *out, const char *role, const sbd_opts *defaults);

/** Prints @o as a config file for @role: `name = value` for every flag
 * the role takes, `# name =` for one unset. Hidden rows only when their
 * value differs from @defaults. */
void sbd_flags_print_config(FILE *out, const char *role, const sbd_opts *o,
                            const sbd_opts *defaults);

/** Reads the config file @path into @o for @role: `name = value` lines
 * (a flag's name without "--"; blank lines and lines starting with # are
 * skipped; a value may be wrapped in double quotes). A key that is a
 * flag of another role only is ignored, so one file may serve several
 * roles. Keeps the file's text in o->config_text (free it). Returns 0,
 * or -1 after printing "sbd: FILE:LINE: why" on stderr. */
int sbd_config_load(const char *path, const char *role, sbd_opts *o);

#endif
