/* orch_ec2.h: the `ec2` fleet driver: fleet_driver.h over the EC2 client
 * (orchestrator/drivers/ec2). Instances are tagged sb-fleet=<fleet name>
 * and sb-server=<server id> (so a restarted orchestrator lists them) and
 * boot a cloud-init script that starts `sbd app --orchestrator URL --id ID
 * --instance-id <from IMDS>`. Every AWS failure's code and message go to
 * the log and, through the fleet's last error, to the status page. */
#ifndef ORCH_EC2_H
#define ORCH_EC2_H

#include "fleet_driver.h"
#include "orch_role.h"

/** The operations table; pass with a context from orch_ec2_create. */
extern const fleet_driver orch_ec2_driver;

/** Creates an ec2 driver context (region, endpoint and credentials from
 * the standard AWS chain: see ec2_client.h).
 * @param c image, type, network and app settings (copied).
 * @param fleet_name the tag value; NULL = "switchboard".
 * @param orch_url the orchestrator URL the instances dial.
 * @param ctx out: the context (destroyed by the fleet).
 * @return RPC_OK; RPC_INVALID_ARGUMENT (no image id, a setting too long);
 *         RPC_UNAVAILABLE (no region or credentials: st has the AWS
 *         error). */
int orch_ec2_create(const orch_ec2_config *c, const char *fleet_name,
                    const char *orch_url, void **ctx, rpc_status *st);

/** The cloud-init user data for one server (for tests): written into buf.
 * Returns 0, or -1 if it does not fit. */
int orch_ec2_user_data(const char *orch_url, const char *server_id,
                       const char *app_args, char *buf, size_t cap);

#endif
