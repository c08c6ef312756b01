/* Host-side rules of the simulated computenetwork.dll that a real HNS applies on its own:
   the DNS servers a new endpoint is given, and what a host restart leaves behind.
   See README.md, "Simulated computenetwork.dll". */
#ifndef HCSSIM_HCN_HOST_H
#define HCSSIM_HCN_HOST_H
#include "json.h"

/* The resolver the simulated host hands out (measured value; see hcn_host.c). */
#define HCNSIM_HOST_RESOLVER "192.168.1.1"

/* Fills in the DNS servers HNS would give endpoint `doc` on network `net` when the
   document names none. Other Dns members are kept as sent. */
void hcnsim_default_dns(jv *doc, const jv *net);

/* Drops what a host restart loses from state `st` (the HCN state file's object) and
   returns a malloc'd JSON report {"Networks":[ids],"Endpoints":[ids],"Namespaces":[ids],"LoadBalancers":[ids]}. */
char *hcnsim_host_restart(jv *st);
#endif
