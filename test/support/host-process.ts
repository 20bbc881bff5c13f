// Runs the built headless host (dist/host/cli.mjs) as its own process, as a user would.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import path from 'node:path';
import { controlHost, type ControlRequest } from '../../main/host/server';

export type HostProcess = {
  url: string;
  pid: number;
  /** SIGTERM by default: a clean quit. SIGKILL stands for a crash or a power cut. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  output(): string;
  /** Hands an xmpp: link to this host the way a second instance does: `cli.mjs --open-uri`. */
  openUri(uri: string): Promise<string>;
  /** A control request to this host (notification decisions, a notification click). */
  control(request: ControlRequest): Promise<unknown>;
};

/** Without `caFile` the host trusts only the system's certificate authorities. */
export async function startHostProcess(options: { dataDir: string; caFile?: string; keychainService: string; env?: NodeJS.ProcessEnv }): Promise<HostProcess> {
  const cli = path.resolve('dist/host/cli.mjs');
  if (!fs.existsSync(cli)) throw new Error('dist/host/cli.mjs is missing: run `npm run build` first');
  const child: ChildProcess = spawn(
    process.execPath,
    [cli, '--data-dir', options.dataDir, ...(options.caFile ? ['--trust-ca', options.caFile] : []), '--keychain-service', options.keychainService],
    { stdio: ['ignore', 'pipe', 'pipe'], ...(options.env ? { env: options.env } : {}) },
  );
  let output = '';
  child.stderr!.on('data', (chunk) => (output += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      const match = /HERON_HOST_URL=(\S+)/.exec(stdout);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`host exited (${code}): ${output}`)));
  });
  const { port, hash } = new URL(url);
  const token = new URLSearchParams(hash.slice(1)).get('token')!;
  return {
    url,
    pid: child.pid!,
    async openUri(uri) {
      const { stdout } = await promisify(execFile)(process.execPath, [cli, '--data-dir', options.dataDir, '--open-uri', uri], {
        ...(options.env ? { env: options.env } : {}),
        timeout: 15_000,
      });
      return stdout;
    },
    control: (request) => controlHost(Number(port), token, request),
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill(signal);
      await exited;
    },
  };
}
