// The Linux end of mcp-stdio-relay.mjs: what the test's StdioClientTransport launches. Listens on
// a free loopback port (printed on stderr as `PORT n`), and once the relay connects, joins its
// own stdin/stdout to that connection. Runs in Linux node, not under Wine.
import { createServer } from 'node:net';

const server = createServer({ allowHalfOpen: true }, (socket) => {
  server.close();
  process.stdin.pipe(socket); // stdin's end (the client closing) ends the connection
  socket.pipe(process.stdout);
  socket.on('error', () => process.exit(1));
  socket.on('close', () => process.exit(0));
});
server.listen(0, '127.0.0.1', () => process.stderr.write(`PORT ${server.address().port}\n`));
