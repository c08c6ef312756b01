import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/internal/errors.js';
import {
  addGuestNetworkNamespaceRequest,
  buildHypervContainer,
  UVM_SCSI_CONTROLLER,
  utilityVmNicRequests,
} from '../../../src/schema/index.js';
import {
  HCN_ENDPOINT,
  HCN_NAMESPACE,
  HCSSHIM_ADD_NETNS,
  HCSSHIM_NIC_ADD,
  HCSSHIM_NIC_PREADD,
  NIC_ID,
} from './fixtures/hcsshim-uvm-network.js';

// Issue 12 items 6 and 12: the utility VM's network requests and the SCSI controller key.

describe('utility VM network requests (golden: hcsshim internal/uvm/network.go)', () => {
  it('AddNetNS: a guest-only NetworkNamespace Add carrying the HCN namespace', () => {
    expect(addGuestNetworkNamespaceRequest(HCN_NAMESPACE)).toStrictEqual(HCSSHIM_ADD_NETNS);
  });

  it('addNIC: the guest PreAdd with the endpoint, then the host adapter with the guest Add', () => {
    const [preAdd, add] = utilityVmNicRequests({ nicId: NIC_ID, endpoint: HCN_ENDPOINT });
    expect(preAdd).toStrictEqual(HCSSHIM_NIC_PREADD);
    expect(add).toStrictEqual(HCSSHIM_NIC_ADD);
  });

  it('refuses an endpoint without a MAC address, a NIC id that is not a GUID, a namespace without ID', () => {
    const { MacAddress: _, ...noMac } = HCN_ENDPOINT;
    expect(() => utilityVmNicRequests({ nicId: NIC_ID, endpoint: noMac })).toThrow(InvalidArgumentError);
    expect(() => utilityVmNicRequests({ nicId: 'nic0', endpoint: HCN_ENDPOINT })).toThrow(/nicId/);
    expect(() => addGuestNetworkNamespaceRequest({ Type: 'HostDefault' } as never)).toThrow(/namespace\.ID/);
  });
});

describe('buildHypervContainer scsiController', () => {
  const options = {
    uvmId: 'sbx-01-uvm',
    utilityVmFilesPath: 'C:\\l\\base\\UtilityVM\\Files',
    uvmScratchVhdxPath: 'C:\\s\\uvm.vhdx',
    layers: [{ id: '0b2f0d8e-1c4a-5e6f-8a9b-1c2d3e4f5a6b', path: 'C:\\l\\base' }],
    containerScratchVhdxPath: 'C:\\s\\sandbox.vhdx',
  };
  const scsiKeys = (d: ReturnType<typeof buildHypervContainer>) => ({
    document: Object.keys(d.uvm.VirtualMachine?.Devices?.Scsi ?? {}),
    hotAdd: d.prepareRequests.map((r) => r.ResourcePath).filter((p) => p?.includes('/Scsi/')),
  });

  it("defaults to hcsshim's GUID key, in the document and in the scratch disk's hot-add", () => {
    expect(scsiKeys(buildHypervContainer(options))).toEqual({
      document: [UVM_SCSI_CONTROLLER],
      hotAdd: [`VirtualMachine/Devices/Scsi/${UVM_SCSI_CONTROLLER}/Attachments/1`],
    });
  });

  it('takes "0", the key hcsshim used with the internal guest connection, in both places', () => {
    expect(scsiKeys(buildHypervContainer({ ...options, scsiController: '0' }))).toEqual({
      document: ['0'],
      hotAdd: ['VirtualMachine/Devices/Scsi/0/Attachments/1'],
    });
    expect(() => buildHypervContainer({ ...options, scsiController: 'primary' })).toThrow(/scsiController/);
  });
});
