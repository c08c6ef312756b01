/* The video monitor pipe of a simulated VM (video_pipe.c): while a VM whose document has
   Devices.VideoMonitor.ConnectionOptions.NamedPipe runs, that pipe is served, and each client is
   relayed to the TCP address in HCSSIM_VIDEO_TCP (host:port, e.g. a freerdp-shadow-cli), or held
   open when the knob is unset. Two hooks, called by service.c under its own lock: */
#ifndef HCSSIM_VIDEO_PIPE_H
#define HCSSIM_VIDEO_PIPE_H
#include "json.h"

/* The VM `system_id` (document `doc`) has started running. */
void video_pipe_start(const char *system_id, const jv *doc);
/* The VM `system_id` has stopped: the pipe goes away and its client is cut off. */
void video_pipe_stop(const char *system_id);
#endif
