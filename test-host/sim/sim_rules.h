/* Rules of a real host that the simulated computestorage.dll enforces on top of its folder model
   (privileges.c; README.md, "Host rules"). Each rule cites its evidence in privileges.c. */
#ifndef HCSSIM_SIM_RULES_H
#define HCSSIM_SIM_RULES_H
#include <windows.h>
#include "json.h"

HRESULT simr_privileges(void);                 /* import/export/destroy: backup+restore enabled? */
int simr_unelevated(void);                     /* the "filtered token" knob */
int simr_destroy_leaves_folder(void);          /* consumes one "leave the folder" from the knob */
HRESULT simr_base_setup(const jv *parents);    /* the base (last) parent was set up where it now is */
HRESULT simr_setup_base_os(const WCHAR *layer, int isVm); /* preconditions of HcsSetupBaseOSLayer */
HRESULT simr_set_config(const jv *config, char **out);    /* HcsSimStorageControl {"Op":"SetConfig"} */
#endif
