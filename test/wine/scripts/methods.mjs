// Every public method of the HCS layer, once, against the simulated host.
import { containerDocument, main, product, sim, trace } from './lib.mjs';

const {
  ComputeSystem,
  HcsProcess,
  HcsError,
  enumerateComputeSystems,
  serviceProperties,
  isFunctionAvailable,
} = product;

async function text(stream) {
  let out = '';
  if (stream) for await (const chunk of stream) out += chunk.toString();
  return out.replace(/\r\n/g, '\n');
}

function summary(error) {
  if (!(error instanceof HcsError)) throw error;
  return { name: error.hresultName, notFound: error.isNotFound(), invalidState: error.isInvalidState() };
}

await main(async () => {
  const r = {};
  const id = (s) => `m-${process.pid}-${s}`;

  // Service level
  trace(1);
  const service = await serviceProperties();
  r.schemaVersions = service.supportedSchemaVersions.map((v) => `${v.Major}.${v.Minor}`);
  r.hasCrash = isFunctionAvailable('HcsCrashComputeSystem');

  // Enumerate filters
  trace(2);
  const a = await ComputeSystem.create(id('a'), containerDocument({ Owner: 'owner-a' }));
  trace(3);
  const b = await ComputeSystem.create(id('b'), containerDocument({ Owner: 'owner-b' }));
  trace(4);
  r.byOwner = (await enumerateComputeSystems({ Owners: ['owner-a'] })).map((s) => s.Id);
  trace(5);
  r.byId = (await enumerateComputeSystems({ Ids: [id('b')] })).map((s) => s.Owner);
  trace(6);
  r.byType = (await enumerateComputeSystems({ Types: ['VirtualMachine'] })).length;
  trace(7);
  r.duplicate = await ComputeSystem.create(id('a'), containerDocument()).then(() => 'created', summary);
  trace(8);
  r.missing = await ComputeSystem.open(id('nope')).then(() => 'opened', summary);
  trace(9);
  r.startTwice = await a
    .start()
    .then(() => a.start())
    .then(() => 'ok', summary);

  // Properties with typed queries
  trace(10);
  const props = await a.properties({ PropertyTypes: ['Statistics', 'ProcessList', 'Memory'] });
  r.propertyKeys = Object.keys(props).sort();

  // Modify
  trace(11);
  await a.modify({
    ResourcePath: 'Container/MappedDirectories',
    RequestType: 'Add',
    Settings: { HostPath: 'C:\\data', ContainerPath: 'C:\\data' },
  });
  trace(12);
  r.modifyBad = await a.modify({ RequestType: 'Sideways' }).then(() => 'ok', summary);

  // Processes: stdin relay, exit code, signal, terminate, resize, properties, open by pid
  // `cmd /q` runs commands from stdin until EOF: its exit proves closeStdin() ended the pipe.
  trace(13);
  const shell = await HcsProcess.create(a, {
    CommandLine: 'cmd /q',
    CreateStdInPipe: true,
    CreateStdOutPipe: true,
  });
  const shellOut = text(shell.stdout);
  shell.stdin.write('echo from-stdin\r\n');
  trace(14);
  await shell.closeStdin();
  trace(15);
  r.stdinEcho = (await shellOut)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l === 'from-stdin');
  trace(16);
  r.stdinExit = (await shell.wait({ timeoutMs: 20000 })).exitCode;
  trace(17);
  await shell.close();

  trace(18);
  const exit7 = await HcsProcess.create(a, { CommandLine: 'cmd /c exit 7' });
  trace(19);
  r.exit7 = (await exit7.wait({ timeoutMs: 20000 })).exitCode;
  trace(20);
  await exit7.close();

  trace(21);
  const long1 = await HcsProcess.create(a, { CommandLine: 'ping -n 60 127.0.0.1', CreateStdOutPipe: true });
  long1.stdout.resume();
  trace(22);
  await long1.resizeConsole(120, 40);
  trace(23);
  r.runningProps = await long1.properties();
  trace(24);
  await long1.signal('CtrlC');
  trace(25);
  r.signalExit = (await long1.wait({ timeoutMs: 20000 })).exitCode;
  trace(26);
  r.badSignal = await long1.signal('CtrlZ').then(
    () => 'ok',
    (e) => e.name,
  );
  trace(27);
  await long1.close();

  trace(28);
  const long2 = await HcsProcess.create(a, { CommandLine: 'ping -n 60 127.0.0.1' });
  trace(29);
  const reopened = await HcsProcess.open(a, long2.pid);
  trace(30);
  await reopened.terminate();
  trace(31);
  r.terminateExit = (await long2.wait({ timeoutMs: 20000 })).exitCode;
  trace(32);
  r.reopenedSawExit = (await reopened.wait({ timeoutMs: 20000 })).exitCode;
  trace(33);
  await reopened.terminate(); // already exited: success
  trace(34);
  await reopened.close();
  trace(35);
  await long2.close();

  // Pause, save, resume; events as an async iterator; shutdown waits for exit
  trace(36);
  await a.pause();
  trace(37);
  r.saveWhilePaused = await a
    .save({ SaveType: 'ToFile', SaveStateFilePath: 'C:\\windows\\temp\\hcs-sandbox-test.vmrs' })
    .then(() => 'ok', summary);
  trace(38);
  await a.resume();
  const seen = [];
  const iterate = (async () => {
    for await (const event of a.events()) {
      seen.push(event.type);
      if (event.type === 'exited') break;
    }
  })();
  trace(39);
  const shutdownStatus = await a.shutdown();
  trace(40);
  await iterate;
  r.shutdown = shutdownStatus.ExitType;
  r.iterated = seen;
  trace(41);
  r.afterStop = await a.start().then(() => 'ok', summary);
  trace(42);
  await a.close();
  trace(43);
  r.afterClose = await a.start().then(
    () => 'ok',
    (e) => e.name,
  );

  // Crash: events before exit
  trace(44);
  await b.start();
  const bEvents = [];
  b.on((event) => bEvents.push(event.type));
  trace(45);
  await b.crash();
  trace(46);
  r.crashExit = (await b.waitForExit({ timeoutMs: 10000 })).ExitType;
  r.crashEvents = bEvents;
  trace(47);
  await b.close();

  sim({ Op: 'ClearFaults' });
  r.audit = sim({ Op: 'Audit' });
  return r;
});
