#!/usr/bin/env node
// Starts the mcpgw binary that npm installed for this platform (the optional dependency
// @mcpgw/cli-<os>-<cpu>), with this process's stdin, stdout and stderr: the binary reads and
// writes the client's pipes itself, so no byte passes through Node.js. Signals are passed on
// and the binary's exit status becomes ours.
'use strict';
const { spawn } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');

function fail(message) {
  process.stderr.write(`mcpgw: ${message}\n`);
  process.exit(1);
}

function binary() {
  if (process.env.MCPGW_BINARY) return process.env.MCPGW_BINARY;
  const platform = `${process.platform}-${process.arch}`;
  const name = `@mcpgw/cli-${platform}`;
  const exe = process.platform === 'win32' ? 'mcpgw.exe' : 'mcpgw';
  try {
    return path.join(path.dirname(require.resolve(`${name}/package.json`)), 'bin', exe);
  } catch {
    fail(
      `no mcpgw binary for ${platform}: the package ${name} is not installed. ` +
        'npm skips it when optional dependencies are omitted (--omit=optional); ' +
        'where no package exists for your platform, `cargo install mcpgw` builds one.',
    );
  }
}

const child = spawn(binary(), process.argv.slice(2), { stdio: 'inherit', windowsHide: true });
// Unix: pass the signals on, and mcpgw shuts down in order. Windows: the console sends Ctrl-C
// and Ctrl-Break to mcpgw itself (it shares our console), and Node cannot deliver them; we
// only must not die first.
const signals = process.platform === 'win32' ? ['SIGINT', 'SIGBREAK'] : ['SIGINT', 'SIGTERM', 'SIGHUP'];
for (const signal of signals) {
  process.on(signal, () => {
    if (process.platform !== 'win32' && child.exitCode === null) child.kill(signal);
  });
}
child.on('error', (e) => fail(`cannot start ${binary()}: ${e.message}`));
child.on('exit', (code, signal) => {
  if (signal) {
    // End the way mcpgw ended, so a parent sees the signal; where Node ignores or traps that
    // signal, exit with the shell's code for it instead.
    for (const s of signals) process.removeAllListeners(s);
    process.kill(process.pid, signal);
    setTimeout(() => process.exit(128 + (os.constants.signals[signal] ?? 0)), 100);
  } else {
    process.exit(code ?? 1);
  }
});
