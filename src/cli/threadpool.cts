/**
 * Sizes libuv's thread pool for the CLI; loaded first by entry.cts. koffi runs
 * every `.async` native call on that pool (4 threads unless UV_THREADPOOL_SIZE
 * says otherwise). One HcsImportLayer or HcsExportLayer can hold a thread for
 * minutes; a few such calls (a commit exports and imports, virtdisk calls wait
 * on a busy disk) and the fs, zlib and short HCS calls of the same process
 * (closing an operation or a process handle is an `.async` call too) queue
 * behind them.
 *
 * libuv reads UV_THREADPOOL_SIZE once, when the pool is first used, and
 * loading an ES module already reads files on the pool (measured on Node 20:
 * set from the body of an ESM entry, it has no effect). So this module is
 * CommonJS, loaded with synchronous reads, before any ES module. Sizing the
 * pool was chosen over running imports in a worker thread: the pool is shared
 * by every thread of the process, so a worker would help only by calling the
 * DLL synchronously, which needs the native bindings loaded a second time,
 * inside it. A value the user set is kept.
 */

/** Pool threads for the CLI: room for several multi-minute layer calls plus the ordinary work. */
const CLI_THREADPOOL_SIZE = 16;

if (!process.env.UV_THREADPOOL_SIZE) process.env.UV_THREADPOOL_SIZE = String(CLI_THREADPOOL_SIZE);
