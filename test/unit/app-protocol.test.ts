// The heron://app/ handler against a real directory: what the window may load, with which
// headers, and every way a URL could try to reach a file outside the renderer.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_CSP, APP_ORIGIN, appProtocolHandler } from '../../main/shell/app-protocol';

let base: string;
let root: string;
let serve: ReturnType<typeof appProtocolHandler>;
const get = (url: string, method = 'GET') => serve({ url, method });

beforeAll(() => {
  base = mkdtempSync(path.join(tmpdir(), 'heron-protocol-'));
  root = path.join(base, 'renderer');
  mkdirSync(path.join(root, 'assets'), { recursive: true });
  writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>Heron</title>');
  writeFileSync(path.join(root, 'assets', 'index-abc.js'), 'export {};');
  writeFileSync(path.join(root, 'assets', 'index-abc.css'), 'body{}');
  writeFileSync(path.join(root, 'assets', 'logo.svg'), '<svg/>');
  writeFileSync(path.join(root, 'assets', 'font.woff2'), 'x');
  writeFileSync(path.join(root, 'assets', 'data.bin'), 'x');
  writeFileSync(path.join(root, 'assets', 'with space.png'), 'x');
  // Secrets beside the renderer, and links that point at them from inside.
  writeFileSync(path.join(base, 'secret.txt'), 'secret');
  mkdirSync(path.join(base, 'renderer-evil'));
  writeFileSync(path.join(base, 'renderer-evil', 'x.js'), 'secret');
  symlinkSync(path.join(base, 'secret.txt'), path.join(root, 'assets', 'link-out.txt'));
  symlinkSync(base, path.join(root, 'up'));
  symlinkSync(path.join(root, 'assets', 'logo.svg'), path.join(root, 'assets', 'link-in.svg'));
  // Its real path starts with the root's, but it is a sibling directory.
  symlinkSync(path.join(base, 'renderer-evil'), path.join(root, 'evil'));
  serve = appProtocolHandler(root);
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('the heron://app/ handler', () => {
  it('serves the index page at / and by name, with the CSP and nosniff headers', async () => {
    for (const url of [`${APP_ORIGIN}/`, `${APP_ORIGIN}/index.html`, `${APP_ORIGIN}/index.html?x=1#/chat/2`]) {
      const response = await get(url);
      expect(response.status, url).toBe(200);
      expect(await response.text()).toContain('<title>Heron</title>');
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('content-security-policy')).toBe(APP_CSP);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('gives each file the MIME type of its extension, and unknown ones none that runs', async () => {
    const types: Record<string, string> = {
      'assets/index-abc.js': 'text/javascript; charset=utf-8',
      'assets/index-abc.css': 'text/css; charset=utf-8',
      'assets/logo.svg': 'image/svg+xml',
      'assets/font.woff2': 'font/woff2',
      'assets/data.bin': 'application/octet-stream',
      'assets/with%20space.png': 'image/png',
    };
    for (const [file, type] of Object.entries(types)) {
      const response = await get(`${APP_ORIGIN}/${file}`);
      expect(response.status, file).toBe(200);
      expect(response.headers.get('content-type'), file).toBe(type);
      expect(response.headers.get('x-content-type-options'), file).toBe('nosniff');
    }
  });

  it('follows a symlink that stays inside the renderer', async () => {
    expect((await get(`${APP_ORIGIN}/assets/link-in.svg`)).status).toBe(200);
  });

  it('answers 404 to every way out of the renderer directory, before reading anything', async () => {
    const attempts = [
      '../secret.txt',
      'assets/../../secret.txt',
      '%2e%2e/secret.txt',
      '%2E%2E/secret.txt',
      '.%2e/secret.txt',
      'assets/%2e%2e/%2e%2e/secret.txt',
      '..%2fsecret.txt',
      '..%2Fsecret.txt',
      '%2fetc%2fpasswd',
      '..\\secret.txt',
      '..%5csecret.txt',
      'assets\\..\\..\\secret.txt',
      '/etc/passwd',
      '//etc/passwd',
      'C:/Windows/win.ini',
      'C%3a%5cWindows%5cwin.ini',
      './index.html',
      'assets//logo.svg',
      'index.html%00.js',
      '%ff',
      'assets/link-out.txt',
      'up/secret.txt',
      '../renderer-evil/x.js',
      'evil/x.js',
      'assets',
      'assets/',
      'missing.js',
    ];
    for (const attempt of attempts) {
      const response = await get(`${APP_ORIGIN}/${attempt}`);
      expect(response.status, attempt).toBe(404);
      expect(await response.text(), attempt).not.toContain('secret');
    }
  });

  it('answers 404 to other hosts and schemes, and 405 to writes', async () => {
    for (const url of ['heron://other/index.html', 'heron://app.evil/index.html', 'file:///etc/passwd', 'https://app/index.html']) {
      expect((await get(url)).status, url).toBe(404);
    }
    const post = await get(`${APP_ORIGIN}/index.html`, 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('answers HEAD with the headers and no body', async () => {
    const response = await get(`${APP_ORIGIN}/assets/index-abc.js`, 'HEAD');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await response.text()).toBe('');
  });
});
