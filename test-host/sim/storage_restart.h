#ifndef HCSSIM_STORAGE_RESTART_H
#define HCSSIM_STORAGE_RESTART_H
/* Detaches every disk attached on the host (any process) and the filters on their volumes;
   returns malloc'd {"FiltersDetached":[paths],"DisksDetached":[paths]}. Takes the storage lock. */
char *stc_host_restart(void);
#endif
