/* sbd_app.c: one app server alone (`sbd app`): the App service over a
 * remote store (--store URL, sb.store.Store), hints over the bus
 * (--bus-in/--bus-out, the bus role's P+4/P+5 by default), listening on
 * --listen (tcp://HOST:0: a free port) and reached by others as
 * --advertise HOST. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app_service.h"
#include "sb_log.h"
#include "sbd.h"

int sbd_run_app(const sbd_opts *o)
{
	const char *host = strcmp(o->host, "0.0.0.0") == 0 ? "127.0.0.1" : o->host;
	char listen[256], bus_in[256], bus_out[256], id[64];
	app_server *a = NULL;
	int rv;

	if (o->store_url == NULL) {
		sb_error("app", "--store URL is required (the store role's "
		         "sb.store.Store, e.g. tcp://127.0.0.1:%d)", o->base_port + 3);
		return -1;
	}
	snprintf(listen, sizeof listen, "tcp://%s:0", host);
	snprintf(bus_in, sizeof bus_in, "tcp://127.0.0.1:%d", o->base_port + 4);
	snprintf(bus_out, sizeof bus_out, "tcp://127.0.0.1:%d", o->base_port + 5);
	snprintf(id, sizeof id, "app-%ld", (long)getpid());
	app_config cfg = {
		.id = o->app_id != NULL ? o->app_id : id,
		.listen_url = o->draw_listen != NULL ? o->draw_listen : listen,
		.bus_in = o->bus_in != NULL ? o->bus_in : bus_in,
		.bus_out = o->bus_out != NULL ? o->bus_out : bus_out,
		.store_url = o->store_url,
		.advertise = o->advertise,
		.draw_url = o->draw_url,
		.idle_ms = o->session_idle_ms,
		.clock_skew_ms = o->clock_skew_ms,
	};
	if ((rv = app_server_start(&cfg, &a)) != 0)
		return -1;
	sbd_wait_signal();
	app_server_stop(a);
	sb_info("sbd", "stopped");
	return 0;
}
