/* Test knobs of the simulated computestorage.dll: behaviours a real host shows that the plain
   simulation does not, switched on per process with HcsSimStorageControl {"Op":"SetConfig"}.
   See storage_knobs.c for the evidence behind each. */
#ifndef HCSSIM_STORAGE_KNOBS_H
#define HCSSIM_STORAGE_KNOBS_H
#include <windows.h>
#include "json.h"

/* Applies {"DetachRefusals":n,"DetachRefusalHResult":h,"MountPathTrailingBackslash":bool}; any subset. */
void stk_set_config(const jv *cfg);
/* Reset: back to the plain simulation. */
void stk_reset(void);
/* The knobs as a JSON object (malloc'd). */
char *stk_config_doc(void);
/* 1 (and *hr) when this HcsDetachLayerStorageFilter call, on an attached filter, is to be refused. */
int stk_refuse_detach(HRESULT *hr);
/* Whether HcsGetLayerVhdMountPath ends the path with a backslash. */
int stk_mount_path_separator(void);
#endif
