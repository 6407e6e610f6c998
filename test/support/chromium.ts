/**
 * Headless Chromium from the system's packages (Debian: `apt-get install chromium`), driven
 * from the command line: no browser download, no driver library. `CHROMIUM_PATH` overrides
 * where it is looked for.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The Chromium executable, or undefined when none is installed. */
export function findChromium(): string | undefined {
  const candidates = process.env.CHROMIUM_PATH
    ? [process.env.CHROMIUM_PATH]
    : ['chromium', 'chromium-browser', 'google-chrome'].flatMap((name) =>
        (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, name)),
      );
  return candidates.find((path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Opens `file` in headless Chromium, with a throwaway profile, and returns the DOM as the
 * browser parsed it, and a screenshot (PNG) of the first `width` × `height` pixels.
 */
export async function openInChromium(
  chromium: string,
  file: string,
  size = { width: 1280, height: 1600 },
): Promise<{ dom: string; screenshot: string }> {
  const profile = await mkdtemp(join(tmpdir(), 'chromium-'));
  const common = [
    '--headless',
    '--no-sandbox', // tests may run as root (CI), where Chromium's sandbox cannot start
    '--disable-gpu',
    '--hide-scrollbars',
    '--no-first-run',
    `--user-data-dir=${profile}`,
    `--window-size=${size.width},${size.height}`,
  ];
  const url = pathToFileURL(file).href;
  try {
    const { stdout: dom } = await run(chromium, [...common, '--dump-dom', url], {
      timeout: 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    const screenshot = join(profile, 'screenshot.png');
    await run(chromium, [...common, `--screenshot=${screenshot}`, url], { timeout: 60_000 });
    const copy = `${file}.png`;
    await run('cp', [screenshot, copy]);
    return { dom, screenshot: copy };
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}
