/* login_assign.h: the minimal orchestrator the login role uses until the
 * fleet service (orchestrator/) is wired in: a registry of running app
 * servers, sticky user assignment, at most `capacity` users per server,
 * and a launch callback when every server is full. */
#ifndef LOGIN_ASSIGN_H
#define LOGIN_ASSIGN_H

#include <stddef.h>

#define LOGIN_ID_MAX 64
#define LOGIN_EP_MAX 256

/** Starts a new app server named @id and writes its endpoint into @ep
 * (@n bytes). Returns 0, or an error code (the assignment then fails). */
typedef int (*login_launch_fn)(void *arg, const char *id, char *ep, size_t n);

typedef struct login_fleet login_fleet;

/** Creates the registry. @capacity users per server (0 = 10); @launch is
 * called (with @arg) under the registry's lock when all servers are full.
 * Returns 0 and sets *@out, or ENOMEM. */
int login_fleet_create(int capacity, login_launch_fn launch, void *arg,
                       login_fleet **out);

/** Assigns @user: the server it already has (sticky), else the fullest
 * server with room, else a newly launched one. Fills @id and @ep.
 * Returns 0; EINVAL for a name longer than the registry keeps; ENOSPC
 * when the server limit is reached; or the launch callback's error. */
int login_fleet_assign(login_fleet *f, const char *user,
                       char id[LOGIN_ID_MAX], char ep[LOGIN_EP_MAX]);

/** Forgets @user's assignment (logout, delete). Unknown users are ignored. */
void login_fleet_release(login_fleet *f, const char *user);

/** Number of servers launched so far. */
int login_fleet_servers(login_fleet *f);

/** Frees the registry (not the servers: their owner stops them). */
void login_fleet_free(login_fleet *f);

#endif
