// Reaching a mounted writable layer without following its links (the files API).
export { copyIntoVolume, copyOutOfVolume, readInside, writeInside } from './copy.js';
export { SandboxPathLinkError, SandboxPathNotFoundError, SandboxPathNotRemovableError } from './errors.js';
export { listInside, removeInside, type VolumeEntry } from './manage.js';
export { sandboxNames } from './open.js';
