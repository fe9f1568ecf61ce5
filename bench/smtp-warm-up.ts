import type { Mailer } from '../src/reactions/email/mailer.ts';
import { welcomeEmail } from '../src/reactions/email/templates.ts';
import { rate } from './support.ts';

/**
 * Sends `count` welcome emails straight through a mailer (no consumer, no database) and answers
 * their rate. Before the timed SMTP rounds of bench:consumers: otherwise the first round alone
 * pays for opening the pool's connections (smtp-server holds each greeting 100 ms) and for
 * nodemailer's send path running cold (about four times the CPU per email), as the mailbox's
 * path ran in the all-consumers phase before its rounds.
 */
export async function warmUpMailer(mailer: Mailer, count: number): Promise<number> {
  const started = performance.now();
  await Promise.all(
    Array.from({ length: count }, (_, index) =>
      mailer.send({
        messageId: `<warm-up-${index}@tributary>`,
        to: { name: `Warm Up ${index}`, address: `warm-up-${index}@example.com` },
        ...welcomeEmail({ name: `Warm Up ${index}`, planName: 'Pro Monthly' }),
        date: new Date(),
        headers: {},
      }),
    ),
  );
  return rate(count, performance.now() - started);
}
