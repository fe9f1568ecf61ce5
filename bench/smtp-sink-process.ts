/**
 * A local SMTP server for the benchmarks, in a process of its own like a real one: accepts every
 * message and discards it. Prints `port N` when listening; `--port` (default: any free port).
 */
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { SMTPServer } from 'smtp-server';

// Not bench/support.ts: it loads every reaction, which a process that only listens does not need.
const { port } = parseArgs({ options: { port: { type: 'string', default: '0' } } }).values;

let accepted = 0;
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  onData(stream, _session, callback) {
    stream.resume();
    stream.on('end', () => callback(null, `queued as ${++accepted}`));
  },
});
server.listen(Number(port), '127.0.0.1', () => console.log(`port ${(server.server.address() as AddressInfo).port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
