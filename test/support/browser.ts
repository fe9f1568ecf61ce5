import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Headless Debian Chromium driven by playwright-core (`.ci/run` installs the package when it is missing). */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}

/** Chromium's own log line for an HTTP error answer: the API's 4xx (a decline, a wrong token) are answers the page shows. */
const CLIENT_ERROR_ANSWER = /^Failed to load resource: the server responded with a status of 4\d\d\b/;

/**
 * A page that records every JavaScript error it logs (uncaught exceptions, console errors, and
 * any 5xx the platform answered it): a test asserts the list is empty.
 */
export async function openPage(context: BrowserContext, errors: string[]): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (error) => errors.push(`${page.url()}: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !CLIENT_ERROR_ANSWER.test(message.text()))
      errors.push(`${page.url()}: console: ${message.text()}`);
  });
  return page;
}
