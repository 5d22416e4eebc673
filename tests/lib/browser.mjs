// Headless Debian Chromium through playwright-core (never a downloaded
// browser). launch() gives each run a fresh temporary profile.
import { chromium } from 'playwright-core';

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
  '--no-first-run', '--disable-background-networking', '--disable-component-update',
  '--disable-sync'];

/** ignoreCertificateErrors: for pages on a test Tomcat's self-signed https connector. */
export function launchBrowser({ ignoreCertificateErrors = false } = {}) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ignoreCertificateErrors ? [...CHROMIUM_ARGS, '--ignore-certificate-errors'] : CHROMIUM_ARGS,
  });
}

/** The page's event log (webapp-example's app.js keeps window.comet4jEvents). */
export function pageEvents(page) {
  return page.evaluate(() => window.comet4jEvents.slice());
}

/** The page's events of a name. */
export const eventsOf = (page, name) =>
  page.evaluate((n) => window.comet4jEvents.filter((e) => e.name === n), name);

/** The page's events of a name that pred (run here) accepts, once there is one. */
export async function waitEvent(page, name, pred, timeout = 10000) {
  const end = Date.now() + timeout;
  for (;;) {
    const found = (await eventsOf(page, name)).filter(pred);
    if (found.length) return found;
    if (Date.now() > end) throw new Error(`no ${name} event as expected within ${timeout} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
