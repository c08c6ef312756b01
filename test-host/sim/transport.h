/* The layer transport format (what HcsExportLayer writes and HcsImportLayer reads), for the simulated
   computestorage.dll. See transport.c for the rules and their evidence. */
#ifndef HCSSIM_TRANSPORT_H
#define HCSSIM_TRANSPORT_H
#include <windows.h>

#define TR_META_MARKER L".hcssim-transport.json"

/* Validates the transport folder `src` and decodes it into the (existing, empty) layer folder `layer`:
   Files\ blobs become plain files, their metadata goes to layer\.hcssim-transport.json. */
HRESULT tr_import(const WCHAR *src, const WCHAR *layer);

/* Writes `layer` (plain files + the metadata recorded at import) to the (existing, empty) folder `dst`
   in the transport format. `writable`: also the entries at the layer's root (a mounted volume's view). */
HRESULT tr_export(const WCHAR *layer, const WCHAR *dst, int writable);
#endif
