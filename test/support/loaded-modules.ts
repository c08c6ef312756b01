import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes, into `dir`, a module to pass to node's `--import` that reports on
 * stderr every file the process loads: ES modules through a loader hook as
 * they load, CommonJS modules and native addons from require's cache at exit.
 * Returns its path; {@link loadedFiles} reads the report back.
 */
export function writeLoadReporter(dir: string): string {
  const hook = join(dir, 'report-loaded.mjs');
  const hooks = `export async function load(url, context, next) {
    if (url.startsWith('file:')) process.stderr.write('LOADED ' + url + '\\n');
    return next(url, context);
  }`;
  writeFileSync(
    hook,
    [
      "import { createRequire, register } from 'node:module';",
      `register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hooks)}));`,
      "process.on('exit', () => {",
      "  for (const file of Object.keys(createRequire(import.meta.url).cache)) process.stderr.write('LOADED ' + file + '\\n');",
      '});',
    ].join('\n'),
  );
  return hook;
}

/**
 * The files a process run with {@link writeLoadReporter}'s module reported,
 * once each, as forward-slash paths (`file://` and a Windows drive's URL
 * form decoded: node.exe under Wine reports `file:///Z:/...` and `Z:\...`).
 */
export function loadedFiles(stderr: string): string[] {
  const files = stderr
    .split(/\r?\n/)
    .filter((line) => line.startsWith('LOADED '))
    .map((line) =>
      decodeURIComponent(line.slice('LOADED '.length))
        .replace(/^file:\/\/\/?(?=[A-Za-z]:)/, '')
        .replace(/^file:\/\//, '')
        .replace(/\\/g, '/'),
    );
  return [...new Set(files)];
}
