import nodemailer from 'nodemailer';
const t0 = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' }, { from: 'a@b.c' });
const mail = (i: number) => ({ messageId: `<m${i}@x>`, to: { name: 'x', address: `x${i}@example.com` }, subject: 's', text: 't'.repeat(500), html: '<p>h</p>'.repeat(100), date: new Date(), headers: { 'X-A': 'b' } });
let t = performance.now();
for (let i = 0; i < 300; i++) await t0.sendMail(mail(i));
console.log('build 300 sequential', performance.now() - t);
