// The process boundaries of DESIGN.md §1–2, checked on the source: main/core never loads
// electron (it runs under plain Node), and the renderer never imports from main/ (it is a
// sandboxed view that only talks through window.heron). Each rule is first run against
// in-memory samples, so a checker that can no longer see a violation fails too.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { loadConfigFromFile, type Alias } from 'vite';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const mainDir = path.join(root, 'main');
const rendererDir = path.join(root, 'renderer');

/** Parses TypeScript/JavaScript, or the <script> blocks of a .svelte file. */
function parse(fileName: string, source: string): ts.SourceFile[] {
  const scripts = fileName.endsWith('.svelte')
    ? [...source.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? '')
    : [source];
  return scripts.map((text) => ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS));
}

function walk(node: ts.Node, visit: (node: ts.Node) => void): void {
  visit(node);
  node.forEachChild((child) => walk(child, visit));
}

const isElectron = (text: string) => text === 'electron' || text.startsWith('electron/');

/**
 * Every string literal naming electron: that covers import, import type, export … from,
 * require, import(), import x = require, createRequire(…)('electron') and a name kept in a
 * variable for a later require.
 */
function electronMentions(fileName: string, source: string): string[] {
  const found: string[] = [];
  for (const file of parse(fileName, source)) {
    walk(file, (node) => {
      if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) && isElectron(node.text)) {
        found.push(`${fileName}:${file.getLineAndCharacterOfPosition(node.getStart()).line + 1} '${node.text}'`);
      }
    });
  }
  return found;
}

/** Module specifiers: imports, re-exports, import(), require(), import x = require, import('x').T. */
function moduleSpecifiers(fileName: string, source: string): string[] {
  if (fileName.endsWith('.html')) return [...source.matchAll(/<script\b[^>]*\bsrc=["']([^"']+)["']/g)].map((m) => m[1] ?? '');
  const specifiers: string[] = [];
  const literal = (node: ts.Node | undefined) => {
    if (node && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node))) specifiers.push(node.text);
  };
  for (const file of parse(fileName, source)) {
    walk(file, (node) => {
      if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) literal(node.moduleSpecifier);
      else if (ts.isExternalModuleReference(node)) literal(node.expression);
      else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) literal(node.argument.literal);
      else if (
        ts.isCallExpression(node) &&
        (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
          (ts.isIdentifier(node.expression) && node.expression.text === 'require'))
      ) {
        literal(node.arguments[0]);
      }
    });
  }
  return specifiers;
}

type Resolution = { aliases: readonly Alias[]; compilerOptions: ts.CompilerOptions; viteRoot: string };

/** Where a specifier may point on disk; none for a package. */
function resolveSpecifier(specifier: string, fromFile: string, resolution: Resolution): string[] {
  for (const { find, replacement } of resolution.aliases) {
    const matches = typeof find === 'string' ? specifier === find || specifier.startsWith(`${find}/`) : find.test(specifier);
    if (!matches) continue;
    const replaced = specifier.replace(find, replacement);
    return path.isAbsolute(replaced) ? [replaced] : resolveSpecifier(replaced, fromFile, { ...resolution, aliases: [] });
  }
  if (specifier.startsWith('./') || specifier.startsWith('../')) return [path.resolve(path.dirname(fromFile), specifier)];
  // Vite: /@fs/ starts an absolute path; another leading / is tried against Vite's root, then the disk.
  if (specifier.startsWith('/@fs/')) return [specifier.slice('/@fs'.length)];
  if (path.isAbsolute(specifier)) return [path.join(resolution.viteRoot, specifier), specifier];
  // tsconfig paths, baseUrl and package.json "imports" (#…).
  const resolved = ts.resolveModuleName(specifier, fromFile, resolution.compilerOptions, ts.sys).resolvedModule;
  return resolved ? [resolved.resolvedFileName] : [];
}

function importsFromMain(fileName: string, source: string, resolution: Resolution): string[] {
  return moduleSpecifiers(fileName, source).filter((specifier) =>
    resolveSpecifier(specifier, fileName, resolution).some((target) => !path.relative(mainDir, target).startsWith('..')),
  );
}

function sourceFiles(dir: string, extensions: RegExp): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && extensions.test(entry.name) && !entry.parentPath.includes('node_modules'))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

async function rendererResolution(): Promise<Resolution> {
  const loaded = await loadConfigFromFile({ command: 'build', mode: 'production' }, undefined, root, 'silent');
  const config = loaded?.config ?? {};
  const alias = config.resolve?.alias ?? [];
  const aliases = Array.isArray(alias)
    ? (alias as Alias[])
    : Object.entries(alias as Record<string, string>).map(([find, replacement]) => ({ find, replacement }));
  const parsed = ts.getParsedCommandLineOfConfigFile(path.join(rendererDir, 'tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: () => {},
  });
  return {
    aliases,
    compilerOptions: parsed?.options ?? {},
    viteRoot: path.resolve(root, config.root ?? '.'),
  };
}

describe('main/core never loads electron', () => {
  it('sees every way of loading electron in a sample', () => {
    const samples = [
      "import { app } from 'electron';",
      "import type { App } from 'electron';",
      "import 'electron';",
      "export { app } from 'electron/main';",
      "const e = require('electron');",
      "const e = await import('electron');",
      'const e = await import(`electron`);',
      "import e = require('electron');",
      "type W = import('electron').BrowserWindow;",
      "const load = createRequire(import.meta.url); load('electron');",
      "const name = 'electron'; require(name);",
    ];
    for (const sample of samples) expect(electronMentions('sample.ts', sample), sample).toHaveLength(1);
    const clean = "import Database from 'better-sqlite3'; const s = 'electronic'; // electron\nimport x from './electron-free';";
    expect(electronMentions('sample.ts', clean)).toEqual([]);
  });

  it('holds for every file under main/core', () => {
    const files = sourceFiles(path.join(mainDir, 'core'), /\.(c|m)?(t|j)s$/);
    expect(files.length).toBeGreaterThan(0);
    expect(files.flatMap((file) => electronMentions(file, readFileSync(file, 'utf8')))).toEqual([]);
  });
});

describe('renderer never imports from main/', () => {
  let resolution: Resolution;
  beforeAll(async () => {
    resolution = await rendererResolution();
  });

  it('sees every way of importing main/ in a sample', () => {
    const file = path.join(rendererDir, 'src/lib/sample.ts');
    const withAlias: Resolution = { ...resolution, aliases: [{ find: '@core', replacement: path.join(mainDir, 'core') }] };
    const violations: [string, string, Resolution?][] = [
      [file, "import { createCore } from '../../../main/core';"],
      [file, "import type { Core } from '../../../main/core/core';"],
      [file, "export * from '../../../main/core/index';"],
      [file, "const ipc = await import('../../../main/shell/ipc');"],
      [file, "type C = import('../../../main/core').Core;"],
      [file, `import x from '/@fs${mainDir}/core/index.ts';`],
      [file, "import x from '/../main/core';"],
      [file, "import { CommandFailure } from '@core/api';", withAlias],
      [path.join(rendererDir, 'src/App.svelte'), "<script lang=\"ts\">\nimport { createCore } from '../../main/core';\n</script>\n<p>hi</p>"],
      [path.join(rendererDir, 'index.html'), '<script type="module" src="../main/core/index.ts"></script>'],
    ];
    for (const [fileName, source, custom] of violations) {
      expect(importsFromMain(fileName, source, custom ?? resolution), source).toHaveLength(1);
    }
    const clean = [
      "import type { HeronApi } from '../../../preload/contract';",
      "import { mount } from 'svelte';",
      "import './app.css';",
      "import x from '../../../mainly/elsewhere';",
      "import y from '/src/main.ts';",
    ].join('\n');
    expect(importsFromMain(file, clean, resolution)).toEqual([]);
  });

  it('holds for every file under renderer/', () => {
    const files = sourceFiles(rendererDir, /\.(svelte|html|(c|m)?(t|j)s)$/);
    expect(files.length).toBeGreaterThan(0);
    const found = files.flatMap((file) =>
      importsFromMain(file, readFileSync(file, 'utf8'), resolution).map((specifier) => `${file}: ${specifier}`),
    );
    expect(found).toEqual([]);
  });
});
