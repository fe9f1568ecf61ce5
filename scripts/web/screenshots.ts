/**
 * The README's screenshots of the web front, taken from the running platform: starts it as
 * `npm start` does (embedded, a scratch DATA_DIR), registers a few customers through the API so
 * the map has traffic, and photographs the sign-up page and the console's event-flow map.
 *
 *   npm run build:web && npx tsx scripts/web/screenshots.ts   # writes docs/web-*.png
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium } from '../../test/support/browser.ts';
import { startPlatformProcess } from '../../test/support/platform-process.ts';
import { waitFor } from '../../test/support/wait-for.ts';

const ADMIN_TOKEN = 'screenshots-admin-token-0123456789';
const dataDir = mkdtempSync(join(tmpdir(), 'tributary-screenshots-'));
const platform = await startPlatformProcess(
  {
    DATABASE_URL: '',
    KAFKA_BROKERS: '',
    DATA_DIR: dataDir,
    ADMIN_TOKEN,
    REGISTER_RATE_LIMIT: '1000',
    LOG_LEVEL: 'warn',
  },
  { waitForHealth: false },
);
const browser = await launchChromium();
try {
  await waitFor('the platform to be ready', async () => (await fetch(`${platform.url}/ready`)).ok, 180_000);
  const register = (i: number, card: string, planId: string) =>
    fetch(`${platform.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `customer-${i}@example.com`, name: `Customer ${i}`, planId, paymentMethod: card }),
    });
  const plans = ['starter-monthly', 'pro-monthly', 'pro-yearly'];
  for (let i = 0; i < 12; i++)
    await register(i, i % 5 === 4 ? 'pm_card_chargeDeclined' : 'pm_card_visa', plans[i % plans.length]!);

  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 }, deviceScaleFactor: 1 });
  await page.goto(`${platform.url}/`);
  await page.getByRole('radio', { name: /^Pro €/ }).waitFor();
  await page.getByLabel('Email', { exact: true }).fill('ada@example.com');
  await page.getByLabel('Name', { exact: true }).fill('Ada Lovelace');
  await page.screenshot({ path: 'docs/web-signup.png', fullPage: true });
  await page.getByRole('button', { name: 'Subscribe' }).click();
  await page.getByTestId('welcome').waitFor();
  await page.getByTestId('subscription-status').filter({ hasText: 'active' }).waitFor();
  await page.screenshot({ path: 'docs/web-signup-done.png', fullPage: true });

  const ops = await browser.newPage({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
  await ops.goto(`${platform.url}/console`);
  await ops.getByLabel('Admin token').fill(ADMIN_TOKEN);
  await ops.getByRole('button', { name: 'Sign in' }).click();
  await ops.locator('.react-flow__node.consumer').nth(8).waitFor();
  // Traffic while the map is open: the topics it crosses light up.
  for (let i = 12; i < 16; i++) await register(i, 'pm_card_mastercard', plans[i % plans.length]!);
  await ops.locator('.react-flow__node.topic.hot').first().waitFor();
  await ops.locator('.react-flow__node[data-id="topic:payment.processed"]').click();
  await ops.getByRole('table', { name: 'Latest events on payment.processed' }).waitFor();
  await ops.waitForTimeout(500);
  await ops.screenshot({ path: 'docs/web-event-flow.png' });
  console.log('wrote docs/web-signup.png, docs/web-signup-done.png, docs/web-event-flow.png');
} finally {
  await browser.close();
  await platform.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
