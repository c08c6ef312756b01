// Runs `hcs-sandbox mcp` (the built CLI) in node.exe under Wine with its stdio on Windows pipes,
// relayed to a TCP connection to 127.0.0.1:PORT. Why: node.exe under Wine cannot open a Linux
// pipe or socket as its stdin/stdout (EBADF), which is what an MCP client's stdio transport
// gives it; Windows pipes between two node.exe processes, and Winsock, work. The test's
// StdioClientTransport launches mcp-stdio-bridge.mjs (Linux), which holds the other end.
//   node.exe mcp-stdio-relay.mjs PORT CLI
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';

const [port, cli] = process.argv.slice(2);
const socket = connect({ port: Number(port), host: '127.0.0.1', allowHalfOpen: true });
const child = spawn(process.execPath, [cli, 'mcp'], { stdio: ['pipe', 'pipe', 'inherit'] });
socket.pipe(child.stdin); // the client closing its end closes the server's stdin: the session ends
child.stdout.pipe(socket);
// The bridge may be killed once the client has closed: the server still ends its session.
socket.on('error', () => child.stdin.end());
child.stdin.on('error', () => {});
child.on('exit', (exitCode) => {
  writeFileSync(process.env.HCS_TEST_RESULT_FILE, JSON.stringify({ exitCode }));
  socket.destroy();
  process.exitCode = exitCode ?? 1;
});
