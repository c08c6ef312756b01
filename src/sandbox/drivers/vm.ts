import { type CallOptions, ComputeSystem, processUserSid } from '../../hcs/index.js';
import { InvalidArgumentError } from '../../internal/errors.js';
import { endpointName, HcnClient, HcnError, ownedId } from '../../network/index.js';
import {
  buildDiskBootVm,
  type ComputeSystemDocument,
  DEFAULT_OWNER,
  videoMonitorAccessSids,
  videoMonitorPipePath,
} from '../../schema/index.js';
import { GuestAgentRequiredError, SandboxNotFoundError } from '../errors.js';
import type { SandboxRecord } from '../record.js';
import { openIfExists, storageQoS, terminateById } from './container-common.js';
import type { IsolationDriver, StartedSandbox } from './driver.js';
import { agentSettings, connectVmAgent, LiveVm, settingsForImage } from './vm-agent.js';
import { prepareVmFiles, removeVmFiles, vmFilesIn } from './vm-files.js';
import { baseDiskOf, imageHasAgent, resolveVmImage, storeRootOf } from './vm-image.js';
import { checkVmOptions, vmLimitRequests } from './vm-options.js';

/**
 * How long `stop` gives Windows to shut down before it pulls the plug: a
 * desktop guest closes its session and services first (disco-vm measured a
 * boot in about 37 s; a shutdown is of the same order, UNCONFIRMED).
 */
export const VM_STOP_TIMEOUT_MS = 60_000;

/**
 * VM isolation: a whole Windows desktop VM per sandbox, booting its own OS
 * disk, a differencing VHDX over a VM image built once with `vm image build`
 * (shared/docs/VM-SANDBOXES.md, the full-VHDX route). It is copy-on-write
 * over that image, not over the host's files. The host holds no mount of it:
 * commands and files go through hcs-sandbox's guest agent inside the VM
 * (`vm-agent.ts`, docs/agent-protocol.md), reached through hvsock-relay.exe;
 * on a host with no relay configured they are refused with
 * {@link GuestAgentRequiredError}, and the screen is the way in
 * (`hcs-sandbox view`). Mapped folders are not wired to the agent yet.
 */
export const vmDriver: IsolationDriver = {
  isolation: 'vm',
  stopTimeoutMs: VM_STOP_TIMEOUT_MS,
  checkOptions: checkVmOptions,
  resolveImage: resolveVmImage,

  checkImage(image) {
    if (image.baseDisk === undefined) {
      throw new InvalidArgumentError('image', 'a VM image (see `hcs-sandbox vm image ls`)', image.reference);
    }
  },

  usesGuestAgent: true,

  checkCommands(record) {
    const settings = agentSettings();
    if ('unavailable' in settings)
      throw new GuestAgentRequiredError(record.name, 'commands', settings.unavailable);
  },

  async prepare(plan, undo, call) {
    if (plan.image.baseDisk === undefined) throw new InvalidArgumentError('image', 'a VM image', plan.image);
    await prepareVmFiles(plan.id, plan.scratchDir, plan.image.baseDisk, undo, call);
    return {};
  },

  async start(record: SandboxRecord, call: CallOptions): Promise<StartedSandbox> {
    if (!record.scratchDir) throw new SandboxNotFoundError(record.name);
    const document = buildVmDocument(record, record.scratchDir, await networkAdapters(record));
    // Read before anything is made: a bad setting fails the start with nothing to undo.
    const settings = settingsForImage(
      agentSettings(),
      record.image,
      await imageHasAgent(record.image, storeRootOf(record.scratchDir)),
    );
    const system = await ComputeSystem.create(record.id, document, call);
    try {
      await system.start(call);
      // Ready when the agent is: with no relay on this host there is nothing to wait for.
      const agent =
        'unavailable' in settings
          ? undefined
          : await connectVmAgent(record.name, system, settings, settings.readyTimeoutMs);
      return { live: new LiveVm(record.name, system, settings, agent) };
    } catch (error) {
      await system[Symbol.asyncDispose](); // terminates it: no VM is left running without its agent
      throw error;
    }
  },

  async attach(record) {
    const system = await openIfExists(record.id);
    if (!system) return undefined;
    // A bad setting must not keep stop/rm from a running VM: it surfaces at the first command.
    const settings = await (async () => {
      try {
        const hasAgent = record.scratchDir
          ? await imageHasAgent(record.image, storeRootOf(record.scratchDir))
          : false;
        return settingsForImage(agentSettings(), record.image, hasAgent);
      } catch (error) {
        return { unavailable: `and ${(error as Error).message}` };
      }
    })();
    return new LiveVm(record.name, system, settings);
  },

  async terminate(record, live) {
    if (live && !live.system.closed) await live.terminate();
    else await terminateById(record.id);
  },

  async teardown(record, scratchDir) {
    if (!scratchDir) return;
    await removeVmFiles(record.id, scratchDir, baseDiskOf(record.image, storeRootOf(scratchDir)));
  },

  limitRequests: vmLimitRequests,

  async mapFolder(live) {
    throw new GuestAgentRequiredError(live.system.id, 'mapped folders');
  },

  writableLayer() {
    return {
      unavailable:
        "its disk is a whole VM's Windows disk, not a container layer (turning a VM sandbox into a VM image is not there yet)",
    };
  },
};

/** The disk-boot document of a sandbox, from its record and checked scratch folder. */
function buildVmDocument(
  record: SandboxRecord,
  scratchDir: string,
  adapters: { endpointId: string; macAddress: string }[],
): ComputeSystemDocument {
  const o = record.options;
  const files = vmFilesIn(scratchDir);
  const document = buildDiskBootVm({
    owner: o.owner ?? DEFAULT_OWNER,
    outliveCreator: record.persistent,
    osDiskPath: files.osDisk,
    guestStateFilePath: files.guestState,
    runtimeStateFilePath: files.runtimeState,
    // The pipe `view` opens (the same function names it there), for this user and Administrators.
    videoConnection: {
      namedPipe: videoMonitorPipePath(record.id),
      accessSids: videoMonitorAccessSids(processUserSid()),
    },
    ...(o.memoryMB !== undefined && { memoryMB: o.memoryMB }),
    ...(o.cpus !== undefined && { processorCount: o.cpus }),
    ...(o.cpuLimit !== undefined && { processor: { limit: Math.round(o.cpuLimit * 1000) } }),
    ...(o.cpuWeight !== undefined && { processor: { weight: o.cpuWeight } }),
    ...(adapters.length > 0 && { networkAdapters: adapters }),
  });
  const qos = storageQoS(record);
  if (qos && document.VirtualMachine) {
    document.VirtualMachine.StorageQoS = {
      ...(qos.iopsMaximum !== undefined && { IopsMaximum: qos.iopsMaximum }),
      ...(qos.bandwidthMaximum !== undefined && { BandwidthMaximum: qos.bandwidthMaximum }),
    };
  }
  return document;
}

/**
 * The VM's network adapter: the sandbox's HCN endpoint (made by create, or
 * again by start after a host restart), by id and the MAC HCN gave it, in the
 * create document as disco-vm and appsandbox attach theirs.
 */
async function networkAdapters(record: SandboxRecord): Promise<{ endpointId: string; macAddress: string }[]> {
  if (record.options.network === undefined || record.options.network === 'none') return [];
  const id = ownedId('endpoint', endpointName(record.id));
  const endpoint = await new HcnClient().endpoint(id);
  if (!endpoint?.MacAddress) {
    throw new HcnError({
      hresult: HCN_E_ENDPOINT_NOT_FOUND,
      operation: 'HcnOpenEndpoint',
      subject: `endpoint ${id}`,
    });
  }
  return [{ endpointId: endpoint.ID, macAddress: endpoint.MacAddress }];
}

const HCN_E_ENDPOINT_NOT_FOUND = 0x803b0002;
