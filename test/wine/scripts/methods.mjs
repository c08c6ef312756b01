// Every public method of the HCS layer, once, against the simulated host.
import { containerDocument, main, product, sim } from './lib.mjs';

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
  const service = await serviceProperties();
  r.schemaVersions = service.supportedSchemaVersions.map((v) => `${v.Major}.${v.Minor}`);
  r.hasCrash = isFunctionAvailable('HcsCrashComputeSystem');

  // Enumerate filters
  const a = await ComputeSystem.create(id('a'), containerDocument({ Owner: 'owner-a' }));
  const b = await ComputeSystem.create(id('b'), containerDocument({ Owner: 'owner-b' }));
  r.byOwner = (await enumerateComputeSystems({ Owners: ['owner-a'] })).map((s) => s.Id);
  r.byId = (await enumerateComputeSystems({ Ids: [id('b')] })).map((s) => s.Owner);
  r.byType = (await enumerateComputeSystems({ Types: ['VirtualMachine'] })).length;
  r.duplicate = await ComputeSystem.create(id('a'), containerDocument()).then(() => 'created', summary);
  r.missing = await ComputeSystem.open(id('nope')).then(() => 'opened', summary);
  r.startTwice = await a
    .start()
    .then(() => a.start())
    .then(() => 'ok', summary);

  // Properties with typed queries
  const props = await a.properties({ PropertyTypes: ['Statistics', 'ProcessList', 'Memory'] });
  r.propertyKeys = Object.keys(props).sort();

  // Modify
  await a.modify({
    ResourcePath: 'Container/MappedDirectories',
    RequestType: 'Add',
    Settings: { HostPath: 'C:\\data', ContainerPath: 'C:\\data' },
  });
  r.modifyBad = await a.modify({ RequestType: 'Sideways' }).then(() => 'ok', summary);

  // Processes: stdin relay, exit code, signal, terminate, resize, properties, open by pid
  // `cmd /q` runs commands from stdin until EOF: its exit proves closeStdin() ended the pipe.
  const shell = await HcsProcess.create(a, {
    CommandLine: 'cmd /q',
    CreateStdInPipe: true,
    CreateStdOutPipe: true,
  });
  const shellOut = text(shell.stdout);
  shell.stdin.write('echo from-stdin\r\n');
  await shell.closeStdin();
  r.stdinEcho = (await shellOut)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l === 'from-stdin');
  r.stdinExit = (await shell.wait({ timeoutMs: 20000 })).exitCode;
  await shell.close();

  const exit7 = await HcsProcess.create(a, { CommandLine: 'cmd /c exit 7' });
  r.exit7 = (await exit7.wait({ timeoutMs: 20000 })).exitCode;
  await exit7.close();

  const long1 = await HcsProcess.create(a, { CommandLine: 'ping -n 60 127.0.0.1', CreateStdOutPipe: true });
  long1.stdout.resume();
  await long1.resizeConsole(120, 40);
  r.runningProps = await long1.properties();
  await long1.signal('CtrlC');
  r.signalExit = (await long1.wait({ timeoutMs: 20000 })).exitCode;
  r.badSignal = await long1.signal('CtrlZ').then(
    () => 'ok',
    (e) => e.name,
  );
  await long1.close();

  const long2 = await HcsProcess.create(a, { CommandLine: 'ping -n 60 127.0.0.1' });
  const reopened = await HcsProcess.open(a, long2.pid);
  await reopened.terminate();
  r.terminateExit = (await long2.wait({ timeoutMs: 20000 })).exitCode;
  r.reopenedSawExit = (await reopened.wait({ timeoutMs: 20000 })).exitCode;
  await reopened.terminate(); // already exited: success
  await reopened.close();
  await long2.close();

  // Pause, save, resume; events as an async iterator; shutdown waits for exit
  await a.pause();
  r.saveWhilePaused = await a
    .save({ SaveType: 'ToFile', SaveStateFilePath: 'C:\\windows\\temp\\hcs-sandbox-test.vmrs' })
    .then(() => 'ok', summary);
  await a.resume();
  const seen = [];
  const iterate = (async () => {
    for await (const event of a.events()) {
      seen.push(event.type);
      if (event.type === 'exited') break;
    }
  })();
  const shutdownStatus = await a.shutdown();
  await iterate;
  r.shutdown = shutdownStatus.ExitType;
  r.iterated = seen;
  r.afterStop = await a.start().then(() => 'ok', summary);
  await a.close();
  r.afterClose = await a.start().then(
    () => 'ok',
    (e) => e.name,
  );

  // Crash: events before exit
  await b.start();
  const bEvents = [];
  b.on((event) => bEvents.push(event.type));
  await b.crash();
  r.crashExit = (await b.waitForExit({ timeoutMs: 10000 })).ExitType;
  r.crashEvents = bEvents;
  await b.close();

  sim({ Op: 'ClearFaults' });
  r.audit = sim({ Op: 'Audit' });
  return r;
});
