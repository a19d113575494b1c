// Starts `connlint server` (stdio) for the Python and Rust files of the workspace. The server
// does the work; this only launches it, restarts it, and tells it about files changed on disk.
import * as vscode from 'vscode';
import { Executable, LanguageClient, LanguageClientOptions } from 'vscode-languageclient/node';

/** Outlives restarts: one watcher, and one log channel instead of a new one each time. */
interface Shared {
  watcher: vscode.FileSystemWatcher;
  log: vscode.LogOutputChannel;
}

let client: LanguageClient | undefined;

function serverOptions(): Executable {
  const config = vscode.workspace.getConfiguration('connlint');
  const command = config.get<string>('path', 'connlint').trim() || 'connlint';
  const extra = config.get<string[]>('args', []);
  // No `transport`: with `TransportKind.stdio` the client would append `--stdio`, which
  // `connlint server` does not take. Without one it still talks over stdin and stdout.
  return { command, args: ['server', ...extra] };
}

function clientOptions(shared: Shared): LanguageClientOptions {
  return {
    documentSelector: [
      { scheme: 'file', language: 'python' },
      { scheme: 'file', language: 'rust' },
    ],
    // The server registers no watchers of its own; findings in one file depend on others
    // (a factory in `db.py`), so edits made outside the editor (a checkout) are sent to it.
    synchronize: { fileEvents: shared.watcher },
    outputChannel: shared.log,
  };
}

async function start(shared: Shared): Promise<void> {
  const options = serverOptions();
  client = new LanguageClient('connlint', 'connlint', options, clientOptions(shared));
  try {
    await client.start();
  } catch (error) {
    void vscode.window.showErrorMessage(
      `connlint: cannot start \`${options.command} server\` (${String(error)}). ` +
        'Install connlint or set `connlint.path` to its executable.',
    );
  }
}

async function stop(): Promise<void> {
  const running = client;
  client = undefined;
  if (running !== undefined && running.needsStop()) {
    await running.stop();
  }
}

async function restart(shared: Shared): Promise<void> {
  // A new client rather than `client.restart()`, so a changed `connlint.path` or
  // `connlint.args` takes effect.
  await stop();
  await start(shared);
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const shared: Shared = {
    watcher: vscode.workspace.createFileSystemWatcher('**/*.{py,pyi,rs}'),
    log: vscode.window.createOutputChannel('connlint', { log: true }),
  };
  context.subscriptions.push(
    shared.watcher,
    shared.log,
    vscode.commands.registerCommand('connlint.restartServer', () => restart(shared)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('connlint.path') || event.affectsConfiguration('connlint.args')) {
        void restart(shared);
      }
    }),
  );
  await start(shared);
}

export function deactivate(): Promise<void> {
  return stop();
}
