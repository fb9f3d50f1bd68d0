// Workspace service: the folder that holds datasets/, runs/ and reports/ (see the README's
// "Workspace" section). Creates the layout, reports free disk space, remembers the choice.
import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { WorkspaceInfo } from '../../src-shared/contract'
import { ServiceError, describeFsError } from '../errors'
import { diskSpace, writeFileAtomic } from '../../src-node/fsutil'
import type { SettingsService } from './settings'

export const WORKSPACE_MARKER = 'workspace.json'
export const WORKSPACE_SUBFOLDERS = ['datasets', 'runs', 'reports'] as const
const FORMAT = 1

export class WorkspaceService {
  private listeners = new Set<(w: WorkspaceInfo) => void>()
  constructor(
    private readonly settings: SettingsService,
    /** Used while settings name no workspace. */
    private readonly defaultPath: string
  ) {}

  /** The workspace in use and the space left on its disk. */
  async info(): Promise<WorkspaceInfo> {
    const configured = this.settings.get().workspacePath
    const p = configured ?? this.defaultPath
    const ready = await fs
      .stat(path.join(p, WORKSPACE_MARKER))
      .then((s) => s.isFile())
      .catch(() => false)
    return { path: p, ready, ...(await diskSpace(p)), source: configured ? 'settings' : 'default' }
  }

  /** Open `dir` as the workspace, creating it and its layout when needed, and remember it. */
  async open(dir: string): Promise<WorkspaceInfo> {
    if (!path.isAbsolute(dir)) {
      throw new ServiceError(`Workspace path "${dir}" is not absolute. Give the full path, e.g. /home/you/Quarterturn.`, 'invalid-argument')
    }
    const target = path.resolve(dir)
    await this.create(target)
    this.settings.update({ workspacePath: target })
    const info = await this.info()
    for (const l of this.listeners) l(info)
    return info
  }

  /** The workspace path, its layout created if missing; what the other services write under. */
  async ensureReady(): Promise<string> {
    const { path: p, ready } = await this.info()
    if (!ready) await this.create(p)
    return p
  }

  onChanged(listener: (w: WorkspaceInfo) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private async create(target: string): Promise<void> {
    const st = await fs.stat(target).catch(() => null)
    if (st && !st.isDirectory()) {
      throw new ServiceError(`Cannot use ${target} as the workspace: it is a file, not a folder. Choose another path.`)
    }
    try {
      await fs.mkdir(target, { recursive: true })
      for (const sub of WORKSPACE_SUBFOLDERS) await fs.mkdir(path.join(target, sub), { recursive: true })
      const marker = path.join(target, WORKSPACE_MARKER)
      const exists = await fs.stat(marker).then(
        () => true,
        () => false
      )
      if (!exists) {
        await writeFileAtomic(marker, JSON.stringify({ format: FORMAT, createdAt: new Date().toISOString() }, null, 2) + '\n')
      } else {
        // Prove the folder is still writable: everything the app saves goes through rename.
        await fs.access(target, fs.constants.W_OK)
      }
    } catch (err) {
      throw new ServiceError(describeFsError(err, target, 'create the workspace in'))
    }
  }
}
