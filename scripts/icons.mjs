// `npm run icons`: draws every packaged icon from the one source, build/icon.svg, with headless
// Chromium (the one the tests use: /usr/bin/chromium or HERON_CHROMIUM, else Playwright's own).
//   build/icon.png        1024x1024: electron-builder makes icon.icns (macOS) and icon.ico
//                         (Windows) from it while packaging
//   build/icons/NxN.png   16 … 512: the Linux icon theme sizes, for AppImage, deb and rpm
// and the tray icons from build/tray-{normal,unread,offline}.svg:
//   build/tray/tray-VARIANT-N.png and -N@2x.png   N = 16, 32, 48 (Electron takes the @2x
//                         file itself on a HiDPI display); shipped as resources/tray (extraResources)
// Run it after changing an SVG and commit the PNGs.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = path.join(root, 'build/icon.svg');
const LINUX_SIZES = [16, 24, 32, 48, 64, 128, 256, 512];
const MAIN_SIZE = 1024;
const TRAY_VARIANTS = ['normal', 'unread', 'offline'];
const TRAY_SIZES = [16, 32, 48];

const systemChromium = process.env.HERON_CHROMIUM ?? '/usr/bin/chromium';
const browser = await chromium.launch(existsSync(systemChromium) ? { executablePath: systemChromium } : {});
try {
  const page = await browser.newPage({ deviceScaleFactor: 1 });
  const render = async (size, file, svg = readFileSync(source, 'utf8')) => {
    await page.setViewportSize({ width: size, height: size });
    // The SVG scaled to the whole viewport on a transparent page.
    await page.setContent(
      `<html><body style="margin:0;background:transparent"><img style="display:block;width:${size}px;height:${size}px" src="data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}"></body></html>`,
    );
    await page.locator('img').evaluate((img) => img.decode());
    writeFileSync(file, await page.screenshot({ omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } }));
    console.log(`icons: ${path.relative(root, file)}`);
  };
  await render(MAIN_SIZE, path.join(root, 'build/icon.png'));
  mkdirSync(path.join(root, 'build/icons'), { recursive: true });
  for (const size of LINUX_SIZES) await render(size, path.join(root, `build/icons/${size}x${size}.png`));
  mkdirSync(path.join(root, 'build/tray'), { recursive: true });
  for (const variant of TRAY_VARIANTS) {
    const svg = readFileSync(path.join(root, `build/tray-${variant}.svg`), 'utf8');
    for (const size of TRAY_SIZES) {
      await render(size, path.join(root, `build/tray/tray-${variant}-${size}.png`), svg);
      await render(size * 2, path.join(root, `build/tray/tray-${variant}-${size}@2x.png`), svg);
    }
  }
} finally {
  await browser.close();
}
