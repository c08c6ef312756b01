// threadpool.mjs with the pool sized from inside the process, as early as a
// program can: a CommonJS main module that sets UV_THREADPOOL_SIZE before any
// ES module loads (what a CLI entry module would do).
process.env.UV_THREADPOOL_SIZE = '16';
import('./threadpool.mjs');
