import { lstat, mkdir, mkdtemp, open, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileSecurityBindings } from '../../native/index.js';
import { STORE_ROOT_SDDL, secureStoreRoot } from '../../storage/index.js';
import { fail, type ProbeItem, type ProbeItemResult, pass, type RowVerdict, skip } from '../types.js';

/** BUILTIN\Administrators: who owns what an elevated administrator creates (the default owner policy). */
const ADMINISTRATORS = 'S-1-5-32-544';

const confirmed = (observed: string): RowVerdict => ({ status: 'confirmed', observed });
const refuted = (observed: string): RowVerdict => ({ status: 'refuted', observed });

/** The ACEs of an SDDL's DACL (`(A;OICI;FA;;;SY)`...), in order. */
function aces(sddl: string): string[] {
  return sddl.slice(sddl.indexOf('D:')).match(/\([^)]*\)/g) ?? [];
}

/**
 * S1: a new store root reads back owned by Administrators (or this user) with
 * exactly our protected DACL, and a record made below inherits it.
 */
async function storeRootAsCreated(workDir: string): Promise<{ verdict: RowVerdict; details: unknown }> {
  const api = fileSecurityBindings();
  const root = join(workDir, 'store-root');
  const made = await secureStoreRoot(root);
  const rootInfo = api.read(root);
  await mkdir(join(root, 'sandboxes'));
  await writeFile(join(root, 'sandboxes', 'probe.json'), '{}');
  const child = api.read(join(root, 'sandboxes', 'probe.json'));
  const details = { made, root: rootInfo, record: child, expected: STORE_ROOT_SDDL };
  const want = aces(STORE_ROOT_SDDL).length;
  const ownerOk = rootInfo.owner === ADMINISTRATORS || rootInfo.owner === api.processUserSid();
  if (!made.created) return { verdict: refuted('the root was not created by secureStoreRoot'), details };
  if (!ownerOk) return { verdict: refuted(`owned by ${rootInfo.owner}`), details };
  if (!/D:P/.test(rootInfo.sddl) || aces(rootInfo.sddl).length !== want)
    return { verdict: refuted(`DACL ${rootInfo.sddl}`), details };
  // Inherited ACEs carry the ID flag; nothing but the root's three (OW resolved to the owner).
  const inherited = aces(child.sddl);
  if (inherited.length !== want || !inherited.every((ace) => /;[^;]*ID[^;]*;/.test(ace)))
    return { verdict: refuted(`a record below has ${child.sddl}`), details };
  return { verdict: confirmed(`${rootInfo.sddl}; a record below: ${child.sddl}`), details };
}

/**
 * S2: an older root made with the inherited ACEs of %ProgramData% (Users may
 * read) is tightened in place: protected, only our ACEs.
 */
async function olderRootTightened(): Promise<{ verdict: RowVerdict; details: unknown; cleanup: string }> {
  const api = fileSecurityBindings();
  const programData = process.env.ProgramData ?? 'C:\\ProgramData';
  const old = await mkdtemp(join(programData, 'hcs-sandbox-probe-'));
  const before = api.read(old);
  const result = await secureStoreRoot(old);
  const after = api.read(old);
  const details = { before, after, result };
  if (!/\(A;[^)]*;;;BU\)/.test(before.sddl))
    return {
      verdict: refuted(`%ProgramData% gave no Users ACE to inherit: ${before.sddl}`),
      details,
      cleanup: old,
    };
  if (!result.tightened)
    return { verdict: refuted('secureStoreRoot did not tighten it'), details, cleanup: old };
  if (!/D:P/.test(after.sddl) || /;;;BU\)/.test(after.sddl))
    return { verdict: refuted(`after: ${after.sddl}`), details, cleanup: old };
  return { verdict: confirmed(`${before.sddl} -> ${after.sddl}`), details, cleanup: old };
}

/** S3: Node's lstat sees a junction at `<hex>.partial` as a link; a handle's stat names the same file as lstat. */
async function partialFileIdentity(workDir: string): Promise<{ verdict: RowVerdict; details: unknown }> {
  const dir = join(workDir, 'blobs');
  await mkdir(join(dir, 'target'), { recursive: true });
  const junction = join(dir, 'aa.partial');
  await symlink(join(dir, 'target'), junction, 'junction');
  const file = join(dir, 'bb.partial');
  await writeFile(file, 'partial');
  const linkStat = await lstat(junction);
  const byPath = await lstat(file, { bigint: true });
  const handle = await open(file, 'r');
  const byHandle = await handle.stat({ bigint: true }).finally(() => handle.close());
  const details = {
    junctionIsLink: linkStat.isSymbolicLink(),
    byPath: { ino: String(byPath.ino), dev: String(byPath.dev) },
    byHandle: { ino: String(byHandle.ino), dev: String(byHandle.dev) },
  };
  if (!linkStat.isSymbolicLink()) return { verdict: refuted('lstat of a junction is not a link'), details };
  if (byPath.ino !== byHandle.ino || byPath.dev !== byHandle.dev)
    return { verdict: refuted('the handle and lstat disagree on ino/dev'), details };
  return { verdict: confirmed(`junction is a link; ino ${byPath.ino} on both`), details };
}

export const storeItems: ProbeItem[] = [
  {
    id: 'store.security',
    title:
      "the store root's owner and protected DACL, an older root tightened, a partial download's identity",
    rows: ['S1', 'S2', 'S3'],
    async run(ctx): Promise<ProbeItemResult> {
      // Wine keeps no security descriptors (it answers from the Unix owner and mode): nothing to learn.
      if (ctx.host.wine) skip(`Wine ${ctx.host.wine} stores no security descriptors`);
      if (ctx.host.elevated === false) skip('needs an elevated (administrator) shell, as the store does');
      const s1 = await storeRootAsCreated(ctx.workDir);
      const s2 = await olderRootTightened();
      ctx.defer(`remove ${s2.cleanup}`, () => rm(s2.cleanup, { recursive: true, force: true }));
      const s3 = await partialFileIdentity(ctx.workDir);
      const verdicts = { S1: s1.verdict, S2: s2.verdict, S3: s3.verdict };
      const details = { S1: s1.details, S2: s2.details, S3: s3.details };
      const refutedRows = Object.entries(verdicts).filter(([, v]) => v.status === 'refuted');
      const result =
        refutedRows.length === 0
          ? pass(
              'S1-S3 hold: protected DACL inherited below, older root tightened, partial identity',
              details,
            )
          : fail(`refuted: ${refutedRows.map(([row, v]) => `${row} (${v.observed})`).join('; ')}`, details);
      return { ...result, verdicts };
    },
  },
];
