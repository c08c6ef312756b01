// Reaching a mounted writable layer without following its links (the files API).
export { copyIntoVolume, copyOutOfVolume, readInside, writeInside } from './copy.js';
export { SandboxPathLinkError, SandboxPathNotFoundError } from './errors.js';
export { sandboxNames } from './open.js';
