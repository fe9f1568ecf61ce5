import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
const t0 = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' }, { from: 'a@b.c' });
const mail = (i: number) => ({ messageId: `<m${i}@x>`, to: { name: 'x', address: `x${i}@example.com` }, subject: 's', text: 't'.repeat(500), html: '<p>h</p>'.repeat(100), date: new Date(), headers: { 'X-A': 'b' } });
let t = performance.now();
await Promise.all(Array.from({ length: 1000 }, (_, i) => t0.sendMail(mail(i))));
console.log('build 1000', performance.now() - t);
const server = new SMTPServer({ authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'], logger: false, onData(stream, _s, cb) { stream.on('data', () => {}); stream.on('end', () => cb(null)); } });
await new Promise<void>((r) => server.listen(3711, '127.0.0.1', () => r()));
for (const conns of [1, 5, 10]) {
  const tr = nodemailer.createTransport({ host: '127.0.0.1', port: 3711, pool: true, maxConnections: conns, maxMessages: Infinity }, { from: 'a@b.c' });
  t = performance.now();
  await Promise.all(Array.from({ length: 1000 }, (_, i) => tr.sendMail(mail(i))));
  console.log('smtp 1000, conns', conns, performance.now() - t);
  tr.close();
}
server.close();
