import { existsSync } from 'node:fs';
import { isCI } from '@logzip/test-utils';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Whether the UI tests can run here; under CI=true a missing Chromium fails instead of skipping. */
export function chromiumAvailable(): boolean {
  const found = existsSync(CHROMIUM);
  if (!found && isCI()) {
    throw new Error(`${CHROMIUM} is missing and CI=true: install it with apt-get install -y chromium`);
  }
  return found;
}

/** Headless Chromium with nothing running in the background (updates, sync, QUIC). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
