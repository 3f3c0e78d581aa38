/* rpc_bus.h: typed publish/subscribe of protobuf events over nng pub0/sub0,
 * through a forwarder (the bus role): publishers dial its "in" side,
 * subscribers dial its "out" side. A frame is "TOPIC\0" + sb.rpc.BusEvent,
 * so nng's prefix filter selects topics. Every event carries its
 * publisher's id and sequence number; a subscriber that sees a jump calls
 * the gap callback, because pub/sub may drop messages: treat every event
 * as a hint and resync on a gap. */
#ifndef SB_RPC_BUS_H
#define SB_RPC_BUS_H

#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

typedef struct rpc_bus_pub rpc_bus_pub;
typedef struct rpc_bus_sub rpc_bus_sub;
typedef struct rpc_bus_forwarder rpc_bus_forwarder;

/** Opens a publisher that dials url (the forwarder's in side); id names
 * it in every event. Returns 0 or an nng error code. */
int rpc_bus_pub_open(rpc_bus_pub **out, const char *url, const char *id);

/** Publishes event on topic (no NUL in topic). Never blocks on slow
 * subscribers (pub/sub drops instead). Returns 0 or an nng error code. */
int rpc_bus_publish(rpc_bus_pub *p, const char *topic,
                    const ProtobufCMessage *event);

/** The sequence number the last publish used (on its topic). */
uint64_t rpc_bus_pub_seq(const rpc_bus_pub *p);

void rpc_bus_pub_close(rpc_bus_pub *p);

typedef struct rpc_bus_meta {
    const char *topic;
    const char *publisher;
    uint64_t seq;
    int64_t time_ms;
} rpc_bus_meta;

/** Event callback: runs on the subscriber's own thread; event is freed
 * when it returns. */
typedef void (*rpc_bus_fn)(void *arg, const rpc_bus_meta *meta,
                           const ProtobufCMessage *event);
/** Gap callback: events expected..got-1 of publisher on topic were lost. */
typedef void (*rpc_bus_gap_fn)(void *arg, const char *publisher,
                               const char *topic, uint64_t expected,
                               uint64_t got);

/** Opens a subscriber dialing url (the forwarder's out side); gap may be
 * NULL. Returns 0 or an nng error code. */
int rpc_bus_sub_open(rpc_bus_sub **out, const char *url, rpc_bus_gap_fn gap,
                     void *gap_arg);

/** Delivers events whose topic starts with prefix and whose type is desc
 * to fn. Returns 0 or an nng error code. */
int rpc_bus_subscribe(rpc_bus_sub *s, const char *prefix,
                      const ProtobufCMessageDescriptor *desc, rpc_bus_fn fn,
                      void *arg);

/** Count of events received and of gaps seen (for tests and stats). */
uint64_t rpc_bus_sub_received(const rpc_bus_sub *s);
uint64_t rpc_bus_sub_gaps(const rpc_bus_sub *s);

void rpc_bus_sub_close(rpc_bus_sub *s);

/** The forwarder: listens on in_url (publishers) and out_url
 * (subscribers) and copies every event across on its own thread. */
int rpc_bus_forwarder_open(rpc_bus_forwarder **out, const char *in_url,
                           const char *out_url);
void rpc_bus_forwarder_close(rpc_bus_forwarder *f);

#endif
