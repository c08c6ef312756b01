// Raw binding checks: GUIDs round-trip, port reservations decode, strings freed.
import { main } from './lib.mjs';
import { native, networkSim } from './network-lib.mjs';

await main(async () => {
  networkSim({ Op: 'Reset' });
  networkSim({ Op: 'ResetAudit' });
  const api = native.networkBindings();
  const id = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
  const created = await api.createNetwork(
    id,
    JSON.stringify({ SchemaVersion: { Major: 2, Minor: 0 }, Name: 'raw', Type: 'NAT' }),
  );
  const props = await api.queryNetworkProperties(created.handle, null);
  const bad = await api.createNetwork(id, '{}');
  await api.closeNetwork(created.handle);
  const closedAgain = await api.closeNetwork(created.handle);
  const svc = await api.createGuestNetworkService(
    '',
    JSON.stringify({ SchemaVersion: { Major: 2, Minor: 0 } }),
  );
  const port = await api.reservePort(
    svc.handle,
    native.HcnPortProtocol.Tcp,
    native.HcnPortAccess.Exclusive,
    5000,
  );
  const range = await api.reservePortRange(svc.handle, 4);
  const list = await api.enumeratePortReservations();
  await api.releasePortReservation(port.handle);
  await api.releasePortReservation(range.handle);
  await api.closeGuestNetworkService(svc.handle);
  const del = await api.deleteNetwork(id);
  return {
    createHr: created.hr,
    id: JSON.parse(props.value).ID,
    badHr: bad.hr >>> 0,
    badRecord: bad.errorRecord,
    closedAgain: closedAgain >>> 0,
    range: { start: range.startingPort, end: range.endingPort },
    list: list.entries.map((e) => ({ protocol: e.protocol, start: e.startingPort, end: e.endingPort })),
    delHr: del.hr,
    audit: networkSim({ Op: 'Audit' }),
  };
});
