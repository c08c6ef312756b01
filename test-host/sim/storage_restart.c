/* The storage half of the simulated host restart (HcsSimStorageControl {"Op":"HostRestart"}):
   what a reboot does to attached virtual disks and the layer filters on their volumes.
   Compiled into computestorage.dll; uses only the on-disk state of storage_common.c, so it sees
   the attachments of every process. See README.md, "Simulated storage". */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"
#include "storage_common.h"
#include "storage_restart.h"

static void push_path(sb *b, int *first, const WCHAR *p) {
    char *u = w2u(p);
    if (!*first) sb_puts(b, ",");
    sb_jstr(b, u); free(u); *first = 0;
}

/* Drops the filter recorded on the volume of attached disk `meta`; 1 if one was attached. */
static int drop_filter(const jv *meta, WCHAR vol[STC_PATH]) {
    stc_disk_data_dir(jgets(meta, "DiskId"), 1, vol);
    WCHAR mk[STC_PATH]; stc_join(mk, vol, STC_WRITABLE_MARKER);
    jv *m = NULL;
    if (stc_read_json(mk, &m)) return 0;
    int was = jgetb(m, "FilterAttached", 0);
    if (was) { jset(m, "FilterAttached", jbool(0)); jset(m, "FilterPid", jnew_int(0)); was = !stc_write_json(mk, m); }
    json_free(m);
    return was;
}

/* - Every attached disk is detached. Evidence: AttachVirtualDisk's PERMANENT_LIFETIME keeps a disk
     attached "until the DetachVirtualDisk function is called, even if all open handles ... are
     closed" (https://learn.microsoft.com/windows/win32/api/virtdisk/ne-virtdisk-attach_virtual_disk_flag);
     GUESS: nothing re-attaches it at boot (Windows re-attaches a VHD at boot only when a tool set
     that up, which neither hcsshim nor this project does).
   - The layer filter attached on such a volume goes with it. GUESS: HcsAttachLayerStorageFilter is
     kernel filter state (hcsshim computestorage/attach.go only attaches it; nothing persists it).
   Filters on plain folders (no disk) are not listed on disk and are not seen here. */
char *stc_host_restart(void) {
    sb filters, disks; sb_init(&filters); sb_init(&disks);
    int ff = 1, fd = 1;
    WCHAR root[STC_PATH], drives[STC_PATH];
    stc_lock();
    stc_root(root);
    stc_join(drives, root, L"drives");
    for (int n = 1; n < 1000; n++) {
        WCHAR f[STC_PATH], num[16];
        _snwprintf(num, 16, L"%d", n); num[15] = 0;
        stc_join(f, drives, num);
        char *data = NULL; DWORD len = 0;
        if (stc_read_all(f, &data, &len)) continue;
        char *path = malloc(len + 1); memcpy(path, data, len); path[len] = 0; free(data);
        WCHAR *pw = u2w(path); free(path);
        jv *meta = NULL;
        if (!stc_disk_read(pw, &meta)) {
            WCHAR vol[STC_PATH];
            if (drop_filter(meta, vol)) push_path(&filters, &ff, vol);
            if (!stc_disk_detach(pw, NULL)) push_path(&disks, &fd, pw);
            json_free(meta);
        } else DeleteFileW(f); /* the disk file is gone: so is its drive */
        free(pw);
    }
    stc_unlock();
    char *fs = sb_take(&filters), *ds = sb_take(&disks);
    sb out; sb_init(&out);
    sb_printf(&out, "{\"FiltersDetached\":[%s],\"DisksDetached\":[%s]}", fs ? fs : "", ds ? ds : "");
    free(fs); free(ds);
    return sb_take(&out);
}
