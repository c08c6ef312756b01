import { storageBindings } from '../native/index.js';

export interface LibraryCheck {
  library: string;
  ok: boolean;
  error?: string;
}

/** Whether computestorage.dll and virtdisk.dll load here (they come with the Containers feature). */
export function checkStorageLibraries(): LibraryCheck[] {
  const bindings = storageBindings();
  const check = (library: string, load: () => unknown): LibraryCheck => {
    try {
      load();
      return { library, ok: true };
    } catch (error) {
      return { library, ok: false, error: (error as Error).message };
    }
  };
  return [
    check('computestorage.dll', () => bindings.storage),
    check('virtdisk.dll', () => bindings.virtDisk),
  ];
}
