import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEB_DIST } from '../src/http/web/web-front.ts';
import { launchChromium, openPage } from './support/browser.ts';
import { startPlatformProcess, type PlatformProcess } from './support/platform-process.ts';
import { SmtpSink } from './support/smtp-sink.ts';
import { waitFor } from './support/wait-for.ts';

const ADMIN_TOKEN = 'web-e2e-admin-token-0123456789';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
// Generous: the embedded store serialises every query, and CI machines are shared.
const STEP_TIMEOUT = 45_000;

/**
 * The web front in headless Chromium against the platform as `npm start` runs it (embedded, its
 * own data directory, email over SMTP to a local sink so an address can bounce into a dead letter).
 */
describe('web front in a browser', { timeout: 120_000 }, () => {
  let platform: PlatformProcess;
  let sink: SmtpSink;
  let browser: Browser;
  let context: BrowserContext;
  let dataDir: string;
  const errors: string[] = [];
  let customerPage: Page;
  let customerEmail: string;

  const api = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${platform.url}${path}`, {
      ...init,
      headers: { ...admin, 'content-type': 'application/json', ...(init.headers ?? {}) },
    });
    return { status: response.status, body: (await response.json().catch(() => null)) as Record<string, unknown> };
  };

  const signUp = async (page: Page, email: string, card: string) => {
    await page.goto(`${platform.url}/`);
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByLabel('Name', { exact: true }).fill('Ada Lovelace');
    await page.locator(`input[name="card"][value="${card}"]`).check();
    await page.getByRole('button', { name: 'Subscribe' }).click();
  };

  beforeAll(async () => {
    if (!existsSync(join(WEB_DIST, 'index.html')))
      throw new Error('web/dist is missing: run `npm run build:web` (npm install runs it)');
    sink = await SmtpSink.start();
    dataDir = mkdtempSync(join(tmpdir(), 'tributary-web-e2e-'));
    platform = await startPlatformProcess(
      {
        // Embedded, as `npm start` runs it: no PostgreSQL or Kafka from the test environment.
        DATABASE_URL: '',
        KAFKA_BROKERS: '',
        DATA_DIR: dataDir,
        ADMIN_TOKEN,
        SMTP_URL: sink.url,
        CONSUMER_MAX_ATTEMPTS: '2',
        CONSUMER_RETRY_BASE_MS: '20',
        REGISTER_RATE_LIMIT: '1000',
        LOG_LEVEL: 'warn',
      },
      { waitForHealth: false },
    );
    // A loaded machine can take a minute or two to start PGlite and catch the views up.
    await waitFor('the platform to be ready', async () => (await fetch(`${platform.url}/ready`)).ok, 180_000);
    browser = await launchChromium();
    context = await browser.newContext({ acceptDownloads: true });
  }, 240_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await platform?.stop();
    await sink?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('signs up with a succeeding card: the saga steps tick and the subscription is active', async () => {
    customerPage = await openPage(context, errors);
    const scripts: Response[] = [];
    customerPage.on('response', (response) => {
      if (new URL(response.url()).pathname.endsWith('.js')) scripts.push(response);
    });
    customerEmail = `ada-${Date.now()}@example.com`;
    await signUp(customerPage, customerEmail, 'pm_card_visa');
    const welcome = customerPage.getByTestId('welcome');
    await welcome.waitFor({ timeout: STEP_TIMEOUT });
    const steps = welcome.getByRole('list', { name: 'Registration steps' }).locator('li');
    await expect
      .poll(() =>
        steps.evaluateAll((items) =>
          items.map((li) => [li.querySelector('.step-label')?.textContent, li.getAttribute('data-status')]),
        ),
      )
      .toEqual([
        ['Customer created', 'completed'],
        ['Payment', 'completed'],
        ['Subscription started, welcome email queued', 'completed'],
      ]);
    expect(await steps.first().locator('.step-time').textContent()).toMatch(/\d\d:\d\d:\d\d/);
    await expect.poll(() => welcome.getByTestId('subscription-status').textContent()).toBe('active');
    expect(await welcome.textContent()).toContain('Current period');
    // The console is split off: the sign-up page loads none of its views, nor the map or the charts
    // (all in one bundle, the page loaded 876 kB of script).
    const urls = scripts.map((script) => script.url());
    expect(urls.length).toBeGreaterThan(0);
    expect(urls.filter((url) => /\/assets\/(ConsolePage|\w+View)-/.test(url))).toEqual([]);
    const sizes = await Promise.all(scripts.map(async (script) => (await script.body()).length));
    expect(sizes.reduce((sum, n) => sum + n, 0)).toBeLessThan(400_000);
  });

  it.each([
    ['pm_card_chargeDeclined', 'declined the payment'],
    ['pm_card_chargeDeclinedInsufficientFunds', 'not have enough funds'],
    ['pm_card_chargeDeclinedExpiredCard', 'card has expired'],
  ])('declines %s with the reason in plain words and shows the compensation', async (card, reason) => {
    const page = await openPage(context, errors);
    await signUp(page, `declined-${card}-${Date.now()}@example.com`, card);
    const declined = page.getByTestId('declined');
    await declined.waitFor({ timeout: STEP_TIMEOUT });
    expect(await declined.textContent()).toContain(reason);
    expect(await declined.textContent()).toContain('customer record we had started was removed');
    const compensation = page.locator('li.step-compensation', { hasText: 'Customer record removed' });
    await compensation.waitFor({ timeout: STEP_TIMEOUT });
    expect(await compensation.getAttribute('data-status')).toBe('compensated');
    expect(await page.locator('li[data-status="failed"]', { hasText: 'Payment' }).count()).toBe(1);
    await page.close();
  });

  it('shows a field error from the problem+json next to its field, and registers a double click once', async () => {
    const page = await openPage(context, errors);
    await signUp(page, customerEmail, 'pm_card_visa');
    const emailError = page.locator('#email-error');
    await emailError.waitFor({ timeout: STEP_TIMEOUT });
    expect(await emailError.textContent()).toContain('already belongs to a customer');
    expect(await page.getByLabel('Email', { exact: true }).getAttribute('aria-invalid')).toBe('true');

    const email = `twice-${Date.now()}@example.com`;
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByRole('button', { name: 'Subscribe' }).dblclick();
    await page.getByTestId('welcome').waitFor({ timeout: STEP_TIMEOUT });
    const { body } = await api(`/customers?email=${encodeURIComponent(email)}`);
    expect((body.customers as unknown[]).length).toBe(1);
    const { body: workflows } = await api('/admin/workflows?limit=200');
    const mine = (workflows.items as { customerId?: string }[]).filter(
      (w) => w.customerId === (body.customers as { customerId: string }[])[0]!.customerId,
    );
    expect(mine).toHaveLength(1);
    await page.close();
  });

  it('on /account downloads an invoice PDF and cancels at period end', async () => {
    await customerPage.getByRole('link', { name: 'Go to your account' }).click();
    await customerPage.waitForURL('**/account');
    const download = customerPage.getByRole('button', { name: /^Download INV-/ });
    await waitFor(
      'the invoice on the account page',
      async () => {
        if ((await download.count()) > 0) return true;
        await customerPage.reload();
        await customerPage.getByRole('heading', { name: 'Invoices' }).waitFor();
        return false;
      },
      STEP_TIMEOUT,
    );
    const [file] = await Promise.all([customerPage.waitForEvent('download'), download.first().click()]);
    expect(file.suggestedFilename()).toMatch(/^INV-\d{4}-\d{6}\.pdf$/);
    const pdf = await readFile((await file.path())!);
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');

    await customerPage.getByRole('button', { name: 'Cancel at period end' }).click();
    const dialog = customerPage.getByRole('dialog');
    expect(await dialog.textContent()).toContain('You will not be charged again');
    await dialog.getByRole('button', { name: 'Cancel at period end' }).click();
    await customerPage.getByTestId('cancel-at').waitFor({ timeout: STEP_TIMEOUT });
    expect(await customerPage.getByRole('status').textContent()).toContain('end of this period');
  });

  it('on /account lists the emails sent to the customer, readable with their token only', async () => {
    const welcome = customerPage.locator('tr[data-email-type="welcome-email"]');
    await waitFor(
      'the welcome email on the account page',
      async () => {
        if ((await welcome.count()) > 0) return true;
        await customerPage.reload();
        await customerPage.getByRole('heading', { name: 'Emails' }).waitFor();
        return false;
      },
      STEP_TIMEOUT,
    );
    const cells = await welcome.first().locator('td').allTextContents();
    expect(cells[0]).toBe('Welcome');
    expect(cells[1]).toMatch(/welcome/i);
    expect(cells[2]).toMatch(/\d\d:\d\d:\d\d/);
    expect(cells[3]).toBe('sent');

    // The customer's own list carries no address; another customer's answers 404 to this token.
    const token = await customerPage.evaluate(() => sessionStorage.getItem('tributary.customerToken'));
    const { customerId } = JSON.parse(
      (await customerPage.evaluate(() => sessionStorage.getItem('tributary.customer')))!,
    ) as { customerId: string };
    const asCustomer = { authorization: `Bearer ${token}` };
    const own = await api(`/customers/${customerId}/emails`, { headers: asCustomer });
    expect(own.status).toBe(200);
    expect(JSON.stringify(own.body)).not.toContain(customerEmail);
    const { body: others } = await api('/customers?limit=5');
    const other = (others.customers as { customerId: string }[]).find((c) => c.customerId !== customerId)!;
    expect((await api(`/customers/${other.customerId}/emails`, { headers: asCustomer })).status).toBe(404);
  });

  describe('the console', () => {
    let ops: Page;

    it('asks for the admin token and renders nothing of itself without it', async () => {
      ops = await openPage(context, errors);
      await ops.goto(`${platform.url}/console`);
      await ops.getByLabel('Admin token').fill('not-the-token');
      await ops.getByRole('button', { name: 'Sign in' }).click();
      await ops.getByText('That is not the admin token.').waitFor();
      expect(await ops.getByTestId('flow-map').count()).toBe(0);
      await ops.getByLabel('Admin token').fill(ADMIN_TOKEN);
      await ops.getByRole('button', { name: 'Sign in' }).click();
      await ops.getByTestId('flow-map').waitFor({ timeout: STEP_TIMEOUT });
      const cookies = await context.cookies(platform.url);
      const session = cookies.find((cookie) => cookie.name === 'tributary_admin')!;
      expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
      expect(ops.url()).not.toContain(ADMIN_TOKEN);
    });

    it('draws the five topics and nine consumers on the event-flow map', async () => {
      const node = (id: string) => ops.locator(`.react-flow__node[data-id="${id}"]`);
      for (const topic of [
        'customer.registered',
        'payment.processed',
        'subscription.created',
        'subscription.renewed',
        'subscription.cancelled',
      ]) {
        await node(`topic:${topic}`).waitFor({ timeout: STEP_TIMEOUT });
      }
      const consumers = [
        'welcome-email',
        'payment-receipt',
        'renewal-notice',
        'invoice-generator',
        'gl-posting',
        'audit-logger',
        'compliance-check',
        'analytics',
        'ml-training',
      ];
      for (const consumer of consumers) await node(`consumer:${consumer}`).waitFor();
      // The seed's nine, and whatever else the platform wires (e.g. the erasure's recipient forgetter).
      const { body: flow } = await api('/admin/flow');
      expect(await ops.locator('.react-flow__node.consumer').count()).toBe((flow.consumers as unknown[]).length);
      expect(await ops.locator('.react-flow__node.producer').count()).toBe(3);
      await node('topic:customer.registered').click();
      await ops.getByRole('table', { name: 'Latest events on customer.registered' }).waitFor({ timeout: STEP_TIMEOUT });
      await node('consumer:welcome-email').click();
      expect(await ops.locator('.flow-panel').textContent()).toMatch(/Lag\s*\d+ events/);
    });

    it('shows an event arrive live after a sign-up in another tab, and opens it', async () => {
      await ops.getByRole('link', { name: 'Events' }).click();
      const log = ops.getByRole('table', { name: 'Global log, newest first' });
      await log.locator('tbody tr').first().waitFor({ timeout: STEP_TIMEOUT });
      const tab = await openPage(context, errors);
      const email = `live-${Date.now()}@example.com`;
      await signUp(tab, email, 'pm_card_mastercard');
      await tab.getByTestId('welcome').waitFor({ timeout: STEP_TIMEOUT });
      const { body } = await api(`/customers?email=${encodeURIComponent(email)}`);
      const customerId = (body.customers as { customerId: string }[])[0]!.customerId;
      const arrived = log.locator(`tr[data-type="CustomerRegistered"]`, { hasText: customerId.slice(-8) });
      await arrived.waitFor({ timeout: STEP_TIMEOUT });
      await arrived.getByRole('button', { name: 'CustomerRegistered' }).click();
      const detail = ops.getByTestId('event-detail');
      await detail.getByRole('heading', { name: 'CustomerRegistered' }).waitFor();
      expect(await detail.textContent()).toContain('correlationId');
      await detail.getByRole('button', { name: `customer-${customerId}` }).click();
      await ops.getByTestId('stream-detail').getByRole('button', { name: /^v1 / }).waitFor();
      await tab.close();
    });

    it("opens a registration's timeline", async () => {
      await ops.getByRole('link', { name: 'Workflows' }).click();
      const first = ops.getByRole('table', { name: 'Workflows' }).locator('tbody tr').first();
      await first.waitFor({ timeout: STEP_TIMEOUT });
      await first.getByRole('button').click();
      const detail = ops.getByTestId('workflow-detail');
      await detail
        .getByRole('list', { name: 'Workflow timeline' })
        .locator('li')
        .first()
        .waitFor({ timeout: STEP_TIMEOUT });
      // A registration's three steps (create-customer, charge, activate), at least.
      expect(
        await detail.getByRole('list', { name: 'Workflow timeline' }).locator('li').count(),
      ).toBeGreaterThanOrEqual(3);
      expect(await detail.getByRole('heading', { name: 'History' }).count()).toBe(1);
    });

    it('advances the test clock a month and sees the renewal', async () => {
      await ops.getByRole('link', { name: 'Test clock' }).click();
      await ops.getByTestId('clock-now').waitFor();
      await ops.getByRole('button', { name: '+1 month' }).click();
      await ops.getByTestId('advance-status').filter({ hasText: 'Done' }).waitFor({ timeout: 60_000 });
      await ops
        .getByRole('table', { name: 'Events since the advance' })
        .locator('tr[data-type="SubscriptionRenewed"]')
        .first()
        .waitFor({ timeout: STEP_TIMEOUT });
    });

    it('replays one dead letter, then the rest of its consumer', async () => {
      const bounces = ['a', 'b'].map((n) => `bounce-${n}-${Date.now()}@example.com`);
      for (const bounce of bounces) {
        const registered = await api('/register', {
          method: 'POST',
          body: JSON.stringify({
            email: bounce,
            name: 'Bo Unce',
            planId: 'starter-monthly',
            paymentMethod: 'pm_card_visa',
          }),
        });
        // 202: still running after REGISTER_WAIT_MS on a loaded machine
        expect([201, 202]).toContain(registered.status);
      }
      const letters = await waitFor(
        'both welcome emails to be dead-lettered',
        async () => {
          const { deadLetters } = (await api('/admin/dlq?consumer=welcome-email')).body as {
            deadLetters: { id: number }[];
          };
          return deadLetters.length === 2 ? deadLetters : null;
        },
        60_000,
      );
      for (const bounce of bounces) sink.forgive(bounce);
      const welcomed = () =>
        bounces.filter((bounce) => sink.to(bounce).some((email) => /welcome/i.test(email.subject))).length;
      await ops.getByRole('link', { name: 'Consumers & dead letters' }).click();
      const one = ops.locator(`[data-dead-letter-id="${letters[0]!.id}"]`);
      await one.locator('summary').click({ timeout: STEP_TIMEOUT });
      await one.getByRole('button', { name: `Replay dead letter ${letters[0]!.id}` }).click();
      await ops
        .getByRole('status')
        .filter({ hasText: `welcome-email: dead letter ${letters[0]!.id} replayed` })
        .waitFor({ timeout: STEP_TIMEOUT });
      await waitFor('one welcome email delivered', () => welcomed() === 1, STEP_TIMEOUT);
      await expect
        .poll(() => ops.locator('[data-dead-letter="welcome-email"]').count(), { timeout: STEP_TIMEOUT })
        .toBe(1);
      expect(await ops.locator(`[data-dead-letter-id="${letters[1]!.id}"]`).count()).toBe(1);

      await ops.getByRole('button', { name: 'Replay welcome-email' }).click();
      await ops.getByRole('status').filter({ hasText: 'welcome-email: 1 replayed' }).waitFor({ timeout: STEP_TIMEOUT });
      await waitFor('both welcome emails delivered', () => welcomed() === 2, STEP_TIMEOUT);
      await expect
        .poll(() => ops.locator('[data-dead-letter="welcome-email"]').count(), { timeout: STEP_TIMEOUT })
        .toBe(0);
    });

    it("puts a customer's journal entries on their timeline, with their emails", async () => {
      await ops.getByRole('link', { name: 'Customers' }).click();
      await ops.getByLabel('Email', { exact: true }).fill(customerEmail);
      await ops.getByRole('button', { name: 'Search' }).click();
      const rows = ops.getByRole('table', { name: 'Customers' }).locator('tbody tr');
      await expect
        .poll(() => rows.allTextContents(), { timeout: STEP_TIMEOUT })
        .toEqual([expect.stringContaining(customerEmail)]);
      await rows.first().getByRole('button').click();
      const timeline = ops.locator('.detail-panel ol.timeline');
      const ledger = timeline.locator('li.timeline-ledger');
      await ledger.first().waitFor({ timeout: STEP_TIMEOUT });
      const texts = await ledger.allTextContents();
      expect(texts.some((text) => /Ledger charge: Invoiced: /.test(text))).toBe(true);
      expect(texts.some((text) => /Ledger settlement: Paid by /.test(text))).toBe(true);
      // The month the clock moved earned revenue day by day: one line per payment, not one per day.
      expect(texts.filter((text) => /Ledger recognition: \d+ days? of payment/.test(text)).length).toBeGreaterThan(0);
      expect(await timeline.locator('li.timeline-email', { hasText: 'welcome-email' }).count()).toBe(1);
    });

    it('rebuilds a projection and sees it finish', async () => {
      await ops.getByRole('link', { name: 'Projections' }).click();
      const card = ops.locator('[data-projection="customers"]');
      await card.waitFor({ timeout: STEP_TIMEOUT });
      expect(await card.getByTestId('last-rebuild').textContent()).toBe('never');
      await card.getByRole('button', { name: 'Rebuild customers' }).click();
      await expect.poll(() => card.getByTestId('last-rebuild').textContent(), { timeout: 30_000 }).toMatch(/events in/);
    });
  });

  it('renders the API docs under the content security policy', async () => {
    const page = await openPage(context, errors);
    const response = await page.goto(`${platform.url}/docs`);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    // Swagger UI draws every operation from /openapi.json; a blocked script or style would log an error below.
    await page.getByText('/register', { exact: true }).first().waitFor({ timeout: STEP_TIMEOUT });
    await page.close();
  });

  it('logs no JavaScript error on any page', () => {
    expect(errors).toEqual([]);
  });
});
