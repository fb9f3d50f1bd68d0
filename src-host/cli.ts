// `quarterturn` command line: the same Host as the app, no UI. Built to out/main/cli.js and run
// by bin/quarterturn.js.
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import { createHeadlessHost, defaultConfigDir, APP_VERSION } from './headless'
import { startWebHost } from './web/server'
import { workspaceToken } from './web/token'
import { ServiceError } from './errors'
import { existsSync } from 'node:fs'
import { EXIT, cmdControl, cmdExport, cmdList, cmdRun, cmdShow } from './cli-runs'
import { EXPORT_WEIGHTS_HELP, cmdExportWeights } from './cli-weights'
import { SWEEP_HELP, cmdSweep } from './cli-sweep'
import { localCliHost, remoteCliHost, type CliHost } from './cli-host'
import type { WorkerEntry } from './runs/fork-launcher'
import { DATASET_HELP, cmdDataset } from './datasets/cli'
import { gpuAdapterFacts } from '../src-shared/contract/gpu'

export interface CliIO {
  out: (line: string) => void
  err: (line: string) => void
}
const stdio: CliIO = { out: (l) => process.stdout.write(l + '\n'), err: (l) => process.stderr.write(l + '\n') }

const HELP = `quarterturn ${APP_VERSION} — self-supervised representation learning by rotation

Usage:
  quarterturn <command> [options]

Commands:
  doctor              Which training backends load on this machine, and the workspace
  serve               Start the web host (the full UI in a browser) on 127.0.0.1
  run <config.json>   Run a pipeline (pretrain, fine-tune, evaluations) with a progress bar
  run --preset NAME   ... from a preset (list them with: run --list-presets)
  sweep <config.json> --set PATH=V1,V2,...   A grid over one or two settings (and seeds): one
                      run per point, then one row per point (see "sweep options")
  list                Runs in the workspace, newest first
  show <run>          One run: state, progress, evaluations, checkpoints
  resume <run>        Continue a paused, interrupted or failed run from its last checkpoint
  pause <run>         Pause a run at its next step (checkpointed); resume it later
  cancel <run>        Stop a run (its checkpoints and metrics are kept)
  export [<run>...]   Results table of the runs (all by default)
  export-weights <run>   The run's trained backbone as .safetensors, PyTorch layout (docs/weights.md)
  dataset inspect|add|list   Datasets: see "dataset commands" below

Options:
  -h, --help          Show this help
  -v, --version       Print the version
  --host URL          Drive the Quarterturn host at URL (\`quarterturn serve\` on another machine,
                      e.g. through ssh -L 7878:127.0.0.1:7878 login) instead of this machine's
                      workspace: run, sweep, list, show, pause, resume, cancel, export, doctor.
                      Default: $QUARTERTURN_HOST. The URL serve printed carries the token.
  --token TOKEN       The host's access token, when the URL does not carry it
                      (default: $QUARTERTURN_TOKEN)

serve options:
  --port N            Port to listen on (default 7878; 0 picks a free one)
  --host ADDR         Interface to bind (default 127.0.0.1). Anything else exposes the UI to
                      your network; the token is still required. (For serve, --host is this
                      interface, not a remote host; $QUARTERTURN_HOST does not apply.)
  --config-dir DIR    Folder for settings.json (default: your user config folder)
  --static DIR        Folder of the built renderer (default: the one next to this program)
  --new-token         Replace the access token kept for this workspace (open tabs must then
                      open the new URL); otherwise a restart prints the same URL

doctor options:
  --json              Machine-readable output

run options:
  --preset NAME       Start from a preset; a config file's values override it
  --dataset ID        Pretraining dataset: a registered dataset id, or "sample"
  --eval-dataset ID   A transfer dataset to evaluate on (repeatable)
  --epochs N          Pretraining epochs
  --seeds LIST|N      Repeat with several seeds (0,1,2, or a count: 3 = seeds 0,1,2): a group of
                      runs, the same config but the seed, shown as one row (mean ± sd)
  --json              Print one JSON line at the end: id, state, wall time, accuracies
  --estimate          Do not run: time a few training steps here and print the time per stage
  --remeasure         With --estimate: time the steps again instead of using the stored timing
  Ctrl+C pauses the run at the next step (checkpointed); resume it later.

export options:
  --format md|csv|latex|json   (default md)
  --baseline RUN      Pin a baseline row (a run id or a group id); other rows get differences
  --diff rel|pts      md/latex: difference to the baseline as relative % (default) or points
  --report            Write the full report (HTML, Markdown, CSV, JSON) to workspace/reports/
  --title TEXT        The report's title

${EXPORT_WEIGHTS_HELP}

Exit codes: 0 success, 1 the run failed (or was interrupted or cancelled, or the remote host
went away), 2 bad input (a wrong access token for --host included).

${SWEEP_HELP}

${DATASET_HELP}`

const DEFAULT_PORT = 7878

/**
 * `--epochs -1` as `--epochs=-1`: parseArgs reads a value starting with "-" as a missing value
 * ("argument is ambiguous"), where the user meant a number the option's own check should judge.
 */
function joinNegativeValues(argv: string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const next = argv[i + 1]
    if (/^--[a-z][a-z-]*$/.test(a) && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`${a}=${next}`)
      i++
    } else out.push(a)
  }
  return out
}

export async function main(argv: string[], io: CliIO = stdio): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args: joinNegativeValues(argv),
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
        json: { type: 'boolean' },
        port: { type: 'string' },
        host: { type: 'string' },
        token: { type: 'string' },
        'config-dir': { type: 'string' },
        static: { type: 'string' },
        'new-token': { type: 'boolean' },
        preset: { type: 'string' },
        dataset: { type: 'string' },
        'eval-dataset': { type: 'string', multiple: true },
        epochs: { type: 'string' },
        'list-presets': { type: 'boolean' },
        format: { type: 'string' },
        baseline: { type: 'string' },
        wait: { type: 'boolean' },
        report: { type: 'boolean' },
        title: { type: 'string' },
        name: { type: 'string' },
        id: { type: 'string' },
        size: { type: 'string' },
        seed: { type: 'string' },
        sample: { type: 'boolean' },
        'per-class': { type: 'string' },
        estimate: { type: 'boolean' },
        remeasure: { type: 'boolean' },
        seeds: { type: 'string' },
        set: { type: 'string', multiple: true },
        diff: { type: 'string' },
        out: { type: 'string' },
        stage: { type: 'string' },
        heads: { type: 'boolean' }
      }
    })
  } catch (err) {
    io.err(`quarterturn: ${(err as Error).message}\nRun \`quarterturn --help\` for usage.`)
    return 2
  }
  const { values, positionals } = parsed
  if (values.version) {
    io.out(APP_VERSION)
    return 0
  }
  const command = positionals[0]
  if (values.help || !command) {
    io.out(HELP)
    return values.help ? 0 : 2
  }
  // For serve, --host is the interface to bind; for every other command, a remote host's URL.
  const remoteUrl = command === 'serve' ? undefined : values.host || process.env.QUARTERTURN_HOST || undefined
  const token = values.token || process.env.QUARTERTURN_TOKEN || undefined
  if (values.token !== undefined && !remoteUrl) {
    io.err(`quarterturn: --token goes with --host URL (a remote host); ${command} here uses this machine's workspace.`)
    return EXIT.badInput
  }
  if (remoteUrl && command === 'dataset') {
    // Folders name paths on the machine that reads them: a dataset is registered where the host runs.
    io.err(
      `quarterturn dataset: with --host (${remoteUrl.replace(/\?.*$/, '')}), datasets are registered on the host, from folders on that machine: run \`quarterturn dataset …\` there (e.g. over ssh), or add the built-in sample from the app's Datasets view. A folder on this machine cannot be read by the host.`
    )
    return EXIT.badInput
  }
  if (remoteUrl && values['config-dir'] !== undefined) {
    io.err(`quarterturn ${command}: --config-dir names a folder on this machine; with --host the host's own settings are used.`)
    return EXIT.badInput
  }
  try {
    switch (command) {
      case 'doctor':
        if (remoteUrl) return await withHost(await remoteCliHost(remoteUrl, token), (h) => doctorRemote(h, values.json ?? false, io))
        return await doctor(values['config-dir'], values.json ?? false, io)
      case 'serve':
        if (values.host?.includes('://')) {
          io.err(
            `quarterturn serve: --host is the interface to bind (e.g. 127.0.0.1), not a URL: serve always starts a host on this machine. To drive a remote host, use another command with --host URL.`
          )
          return EXIT.badInput
        }
        return await serve(values, io)
      case 'dataset': {
        const host = createHeadlessHost({ configDir: values['config-dir'], shell: 'web' })
        try {
          return await cmdDataset(host, positionals.slice(1), values, io, process.stderr.isTTY === true)
        } finally {
          await host.shutdown()
        }
      }
      case 'run':
      case 'sweep':
      case 'list':
      case 'show':
      case 'resume':
      case 'pause':
      case 'cancel':
      case 'export':
      case 'export-weights': {
        const host = remoteUrl
          ? await remoteCliHost(remoteUrl, token)
          : localCliHost(createHeadlessHost({ configDir: values['config-dir'], shell: 'web', runWorker: workerEntry() }))
        return await withHost(host, (h) => {
          const rest = positionals.slice(1)
          if (command === 'run') return cmdRun(h, rest, values, io, process.stderr.isTTY === true)
          if (command === 'sweep') return cmdSweep(h, rest, values, io)
          if (command === 'list') return cmdList(h, values, io)
          if (command === 'show') return cmdShow(h, rest[0], values, io)
          if (command === 'export') return cmdExport(h, rest, values, io)
          if (command === 'export-weights') return cmdExportWeights(h, rest[0], values, io)
          return cmdControl(h, command, rest[0], io, command === 'resume')
        })
      }
      default:
        io.err(`quarterturn: unknown command "${command}". Run \`quarterturn --help\` for the list.`)
        return 2
    }
  } catch (err) {
    if (err instanceof ServiceError) {
      io.err(`quarterturn: ${err.message}`)
      return err.code === 'invalid-argument' || err.code === 'unauthorized' ? EXIT.badInput : EXIT.failed
    }
    throw err
  }
}

/** Run a command on a host, then close it (shut the local one down, or hang up on the remote one). */
async function withHost(host: CliHost, fn: (h: CliHost) => Promise<number>): Promise<number> {
  try {
    return await fn(host)
  } finally {
    await host.close()
  }
}

/** The training worker: built next to this file, or the TypeScript source run through tsx. */
function workerEntry(): WorkerEntry {
  const built = fileURLToPath(new URL('./run-worker.js', import.meta.url))
  if (existsSync(built)) return { entry: built }
  return { entry: fileURLToPath(new URL('../src-engine/run-worker.ts', import.meta.url)), execArgv: ['--import', 'tsx'] }
}

/**
 * The doctor runs under plain Node; the desktop app's training process is an Electron
 * utilityProcess, where V8's memory cage forbids ArrayBuffers over memory V8 did not allocate.
 * Dawn's Node bindings hand those out (GPUBuffer.getMappedRange); tfjs-node 4.22's binding does
 * not (it copies tensor data into napi_create_arraybuffer buffers and reads inputs in place).
 */
const DESKTOP_GPU_NOTE =
  'In the desktop app: webgpu through Dawn (the webgpu package) cannot run inside Electron, whose memory cage forbids the external buffers Dawn maps GPU memory into; ' +
  "the app is to train on the GPU in its own GPU window (Chromium's WebGPU). tfjs-node and tfjs-node-gpu create no external buffers (their binding copies tensor data into buffers V8 allocates), " +
  'so the memory cage does not stop them there. Here, under plain Node (CLI, web host), webgpu uses Dawn.'

async function doctor(configDir: string | undefined, json: boolean, io: CliIO): Promise<number> {
  // Backends are probed in a worker process, the one a run would train in.
  const host = createHeadlessHost({ configDir, shell: 'web', runWorker: workerEntry() })
  const [backends, workspace] = await Promise.all([host.call('backends.detect', {}), host.call('workspace.get', {})])
  const executors = await host.executors.describe(workspace.path)
  if (json) {
    io.out(JSON.stringify({ version: APP_VERSION, node: process.versions.node, platform: process.platform, backends, workspace, executors }, null, 2))
    return 0
  }
  io.out(`Quarterturn ${APP_VERSION} on Node ${process.versions.node} (${process.platform}/${process.arch})`)
  io.out('')
  io.out('Training backends, best first:')
  for (const b of backends) {
    io.out(`  ${b.ok ? 'ok  ' : 'no  '} ${b.name.padEnd(15)} ${b.detail}`)
    if (b.adapter) io.out(`       ${''.padEnd(15)} adapter: ${gpuAdapterFacts(b.adapter)}`)
    if (b.fix) io.out(`       ${''.padEnd(15)} fix: ${b.fix}`)
  }
  const chosen = backends.find((b) => b.ok)
  io.out('')
  io.out(chosen ? `Training will use: ${chosen.name}` : 'No training backend loads: run `npm ci` in the project folder.')
  const gib = (n: number): string => (n / 2 ** 30).toFixed(1)
  io.out(
    `Workspace: ${workspace.path} (${workspace.ready ? 'ready' : 'not created yet'}; ${gib(workspace.freeBytes)} GiB free of ${gib(workspace.totalBytes)} GiB)`
  )
  io.out('')
  io.out(`Executors (runs train with ${executors.chosen}; the workspace's executor.json chooses):`)
  for (const name of ['local', 'slurm'] as const) {
    const e = executors[name]
    io.out(`  ${e.ok ? 'ok  ' : 'no  '} ${name.padEnd(15)} ${e.detail}`)
    if (e.fix) io.out(`       ${''.padEnd(15)} fix: ${e.fix}`)
  }
  io.out('')
  io.out(DESKTOP_GPU_NOTE)
  return 0
}

/** `doctor --host URL`: the remote host's backends and workspace, probed there, by that host. */
async function doctorRemote(host: CliHost, json: boolean, io: CliIO): Promise<number> {
  const [info, backends, workspace] = await Promise.all([host.call('app.info', {}), host.call('backends.detect', {}), host.call('workspace.get', {})])
  if (json) {
    io.out(JSON.stringify({ host: host.remote, version: info.version, node: info.node, platform: info.platform, backends, workspace }, null, 2))
    return 0
  }
  io.out(`The host at ${host.remote}: Quarterturn ${info.version} on Node ${info.node} (${info.platform}). This machine is not probed.`)
  io.out('')
  io.out('Training backends on the host, best first:')
  for (const b of backends) {
    io.out(`  ${b.ok ? 'ok  ' : 'no  '} ${b.name.padEnd(15)} ${b.detail}`)
    if (b.fix) io.out(`       ${''.padEnd(15)} fix (on the host): ${b.fix}`)
  }
  const gib = (n: number): string => (n / 2 ** 30).toFixed(1)
  io.out('')
  io.out(`Workspace on the host: ${workspace.path} (${workspace.ready ? 'ready' : 'not created yet'}; ${gib(workspace.freeBytes)} GiB free)`)
  return 0
}

async function serve(values: { port?: string; host?: string; 'config-dir'?: string; static?: string; 'new-token'?: boolean }, io: CliIO): Promise<number> {
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    io.err(`quarterturn: --port must be an integer from 0 to 65535, got "${values.port}".`)
    return 2
  }
  const bindHost = values.host ?? '127.0.0.1'
  const staticDir = values.static ?? fileURLToPath(new URL('../renderer', import.meta.url))
  const host = createHeadlessHost({ configDir: values['config-dir'], shell: 'web', runWorker: workerEntry() })
  await host.runs.startQueue().catch((err: unknown) => io.err(`warning: could not load the runs of the workspace: ${(err as Error).message}`))
  await host
    .watchWorkspace()
    .catch((err: unknown) => io.err(`warning: changes other processes make to the workspace will not show until a reload: ${(err as Error).message}`))
  const configDir = values['config-dir'] ?? process.env.QUARTERTURN_CONFIG_DIR ?? defaultConfigDir()
  const kept = await workspaceToken(configDir, (await host.workspace.info()).path, values['new-token'] === true)
  let web
  try {
    web = await startWebHost({ host, staticDir, port, bindHost, token: kept.token })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE') {
      io.err(`quarterturn: port ${port} on ${bindHost} is already in use. Pick another with --port, or --port 0 for any free one.`)
      return 1
    }
    throw err
  }
  if (!['127.0.0.1', '::1', 'localhost'].includes(bindHost)) {
    io.err(`warning: listening on ${bindHost}, reachable from your network. Anyone with the token can drive this host.`)
  }
  io.out(`Quarterturn is serving at ${web.url}`)
  io.out('Open that URL (it carries the access token). Press Ctrl+C to stop.')
  io.out(
    kept.created && values['new-token']
      ? `New access token (kept in ${kept.file}): tabs opened with the old one must open this URL.`
      : `The token is kept in ${kept.file}: a restart on this workspace serves the same URL, and open tabs reconnect. --new-token replaces it.`
  )
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      void web
        .close()
        .then(() => host.shutdown())
        .then(resolve)
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
  return 0
}
