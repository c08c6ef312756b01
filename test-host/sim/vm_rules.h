/* Rules a real host applies to utility VMs (test-host/sim/vm_rules.c): disk access
   grants, SCSI controller keys, the guest network requests. Hooked from service.c. */
#ifndef HCSSIM_VM_RULES_H
#define HCSSIM_VM_RULES_H
#include <windows.h>
#include <stddef.h>
#include "json.h"

/* Grants recorded by HcsGrantVmAccess & co. (service.c). */
extern jv *g_grants;

/* Rule 1: is `path` granted to VM `vmid` (HcsGrantVmAccess) or to every VM (HcsGrantVmGroupAccess)? */
int vm_rules_granted(const char *vmid, const char *path);

/* SetConfig members this file owns; Reset turns them off again. */
void vm_rules_config(const jv *config);
void vm_rules_reset(void);
/* `,"RefuseGuidScsiControllers":false` for the ServiceState Config document. */
const char *vm_rules_config_json(void);

/* HcsCreateComputeSystem(id, doc): S_OK or the failure and its message. `hostModifies` are the
   accepted modify requests of the hosting system named by HostingSystemId (NULL when none). */
HRESULT vm_rules_create(const char *id, const jv *doc, const jv *hostModifies, char *msg, size_t n);

/* HcsModifyComputeSystem on system `id` (document `doc`, accepted requests so far `modifies`). */
HRESULT vm_rules_modify(const char *id, const jv *doc, const jv *modifies, const jv *req, char *msg, size_t n);
#endif
