/* login_assign.c: see login_assign.h. Small fixed tables: the minimal
 * orchestrator is for one host; the fleet service replaces it. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "login_assign.h"
#include "sb_log.h"

#define FLEET_MAX_SERVERS 64
#define FLEET_MAX_CAP 64
#define FLEET_NAME_MAX 65

typedef struct fleet_srv {
	char id[LOGIN_ID_MAX];
	char ep[LOGIN_EP_MAX];
	int n;
	char users[FLEET_MAX_CAP][FLEET_NAME_MAX];
} fleet_srv;

struct login_fleet {
	pthread_mutex_t mu;
	int capacity;
	login_launch_fn launch;
	void *arg;
	int nsrv;
	fleet_srv srv[FLEET_MAX_SERVERS];
};

int login_fleet_create(int capacity, login_launch_fn launch, void *arg,
                       login_fleet **out)
{
	login_fleet *f = calloc(1, sizeof *f);

	if (f == NULL)
		return ENOMEM;
	pthread_mutex_init(&f->mu, NULL);
	f->capacity = capacity <= 0 ? 10 : capacity > FLEET_MAX_CAP ? FLEET_MAX_CAP
	                                                           : capacity;
	f->launch = launch;
	f->arg = arg;
	*out = f;
	return 0;
}

static int find_user(login_fleet *f, const char *user, int *slot)
{
	for (int i = 0; i < f->nsrv; i++)
		for (int j = 0; j < f->srv[i].n; j++)
			if (strcmp(f->srv[i].users[j], user) == 0) {
				*slot = j;
				return i;
			}
	return -1;
}

/* Fullest server with room packs users, so idle servers can drain. */
static int pick(login_fleet *f)
{
	int best = -1;

	for (int i = 0; i < f->nsrv; i++)
		if (f->srv[i].n < f->capacity &&
		    (best < 0 || f->srv[i].n > f->srv[best].n))
			best = i;
	return best;
}

static int launch_one(login_fleet *f)
{
	fleet_srv *s;
	int rv;

	if (f->nsrv >= FLEET_MAX_SERVERS)
		return -ENOSPC;
	s = &f->srv[f->nsrv];
	memset(s, 0, sizeof *s);
	snprintf(s->id, sizeof s->id, "app-%d", f->nsrv + 1);
	if ((rv = f->launch(f->arg, s->id, s->ep, sizeof s->ep)) != 0)
		return -rv;
	sb_info("orchestrator", "launched %s at %s", s->id, s->ep);
	return f->nsrv++;
}

int login_fleet_assign(login_fleet *f, const char *user,
                       char id[LOGIN_ID_MAX], char ep[LOGIN_EP_MAX])
{
	int slot, i, rv = 0;

	if (strlen(user) >= FLEET_NAME_MAX)
		return EINVAL;
	pthread_mutex_lock(&f->mu);
	if ((i = find_user(f, user, &slot)) < 0) {
		if ((i = pick(f)) < 0)
			i = launch_one(f);
		if (i < 0) {
			rv = -i;
			goto out;
		}
		snprintf(f->srv[i].users[f->srv[i].n++], FLEET_NAME_MAX, "%s", user);
	}
	snprintf(id, LOGIN_ID_MAX, "%s", f->srv[i].id);
	snprintf(ep, LOGIN_EP_MAX, "%s", f->srv[i].ep);
out:
	pthread_mutex_unlock(&f->mu);
	return rv;
}

void login_fleet_release(login_fleet *f, const char *user)
{
	int slot, i;

	pthread_mutex_lock(&f->mu);
	if ((i = find_user(f, user, &slot)) >= 0) {
		fleet_srv *s = &f->srv[i];
		memmove(s->users[slot], s->users[slot + 1],
		        (size_t)(s->n - slot - 1) * FLEET_NAME_MAX);
		s->n--;
	}
	pthread_mutex_unlock(&f->mu);
}

int login_fleet_servers(login_fleet *f)
{
	int n;

	pthread_mutex_lock(&f->mu);
	n = f->nsrv;
	pthread_mutex_unlock(&f->mu);
	return n;
}

void login_fleet_free(login_fleet *f)
{
	if (f == NULL)
		return;
	pthread_mutex_destroy(&f->mu);
	free(f);
}
