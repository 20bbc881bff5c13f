// Runs the built headless host (dist/host/cli.mjs) as its own process, as a user would.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export type HostProcess = {
  url: string;
  pid: number;
  /** SIGTERM by default: a clean quit. SIGKILL stands for a crash or a power cut. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  output(): string;
};

/** Without `caFile` the host trusts only the system's certificate authorities. */
export async function startHostProcess(options: { dataDir: string; caFile?: string; keychainService: string }): Promise<HostProcess> {
  const cli = path.resolve('dist/host/cli.mjs');
  if (!fs.existsSync(cli)) throw new Error('dist/host/cli.mjs is missing: run `npm run build` first');
  const child: ChildProcess = spawn(
    process.execPath,
    [cli, '--data-dir', options.dataDir, ...(options.caFile ? ['--trust-ca', options.caFile] : []), '--keychain-service', options.keychainService],
    { stdio: ['ignore', 'pipe', 'pipe'] },
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
  return {
    url,
    pid: child.pid!,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill(signal);
      await exited;
    },
  };
}
