/**
 * A local SMTP server for the benchmarks, in a process of its own like a real one: accepts every
 * message and discards it. Prints `port N` when listening; `--port` (default: any free port).
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { argOf } from './support.ts';

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
server.listen(Number(argOf('port') ?? 0), '127.0.0.1', () =>
  console.log(`port ${(server.server.address() as AddressInfo).port}`),
);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
