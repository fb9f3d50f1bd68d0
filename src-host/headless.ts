// The headless host (web host, CLI, tests): settings in `conf`, the library electron-store is
// built on, with the same schema the app uses.
import Conf from 'conf'
import os from 'node:os'
import path from 'node:path'
import { settingsJsonSchemaProperties, DEFAULT_SETTINGS } from '../src-shared/contract'
import { Host, type HostOptions } from './host'
import { openStoreKeepingBadFile } from './services/settings'
import { forkLauncher, type WorkerEntry } from './runs/fork-launcher'
import { version } from '../package.json'

export const APP_VERSION: string = version

export interface HeadlessOptions {
  /** Folder for settings.json; default: the user's config folder for "quarterturn". */
  configDir?: string
  /** Used while settings name no workspace. Default $QUARTERTURN_WORKSPACE or ~/Quarterturn. */
  defaultWorkspace?: string
  shell?: HostOptions['shell']
  /** Training worker entry; without it the host can list runs but not start them. */
  runWorker?: WorkerEntry
  logError?: HostOptions['logError']
}

export function defaultWorkspacePath(): string {
  return process.env.QUARTERTURN_WORKSPACE || path.join(os.homedir(), 'Quarterturn')
}

/** The user's config folder for Quarterturn (the place conf would choose, made explicit). */
export function defaultConfigDir(): string {
  const home = os.homedir()
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Preferences', 'quarterturn')
  if (process.platform === 'win32') return path.join(process.env.APPDATA || path.join(home, 'AppData', 'Roaming'), 'quarterturn', 'Config')
  return path.join(process.env.XDG_CONFIG_HOME || path.join(home, '.config'), 'quarterturn')
}

export function createSettingsStore(configDir: string = defaultConfigDir(), warn: (msg: string) => void = console.warn): Conf<Record<string, unknown>> {
  const create = (): Conf<Record<string, unknown>> =>
    new Conf<Record<string, unknown>>({
      projectName: 'quarterturn',
      projectSuffix: '',
      configName: 'settings',
      cwd: configDir,
      schema: settingsJsonSchemaProperties() as never,
      defaults: { ...DEFAULT_SETTINGS },
      clearInvalidConfig: false
    })
  return openStoreKeepingBadFile(create, path.join(configDir, 'settings.json'), warn)
}

export function createHeadlessHost(opts: HeadlessOptions = {}): Host {
  const dir = opts.configDir ?? process.env.QUARTERTURN_CONFIG_DIR
  return new Host({
    store: createSettingsStore(dir),
    shell: opts.shell ?? 'web',
    version: APP_VERSION,
    defaultWorkspace: opts.defaultWorkspace ?? defaultWorkspacePath(),
    logError: opts.logError,
    launchRunWorker: opts.runWorker ? forkLauncher(opts.runWorker) : undefined,
    jobWorker: opts.runWorker ? jobWorkerBeside(opts.runWorker) : undefined
  })
}

/** The batch-job entry beside a run-worker entry (built job-worker.js, or the engine's .ts source). */
export function jobWorkerBeside(w: WorkerEntry): WorkerEntry {
  const entry = w.entry.replace(/run-worker\.(js|ts)$/, 'job-worker.$1')
  return { ...w, entry: path.isAbsolute(entry) ? entry : path.resolve(entry) }
}
