// Preload bridge (sandboxed, built as CommonJS): exposes the contract's transport (invoke a
// request, subscribe to pushed events) and the window's connection (which host it drives, and
// opening a window on another). The main process validates everything it receives.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron'
import { BRIDGE_KEY, IPC_CONNECTION, IPC_CONNECTION_CHANGED, IPC_EVENT, IPC_INVOKE, type AppBridge, type ConnectionInfo } from '../src-shared/contract/channels'

const bridge: AppBridge = {
  invoke: (name, arg) => ipcRenderer.invoke(IPC_INVOKE, name, arg),
  subscribe: (listener) => {
    const handler = (_e: IpcRendererEvent, name: string, payload: unknown): void => listener(name, payload)
    ipcRenderer.on(IPC_EVENT, handler)
    return () => void ipcRenderer.removeListener(IPC_EVENT, handler)
  },
  connection: {
    info: () => ipcRenderer.invoke(IPC_CONNECTION, 'info'),
    recent: () => ipcRenderer.invoke(IPC_CONNECTION, 'recent'),
    open: (request) => ipcRenderer.invoke(IPC_CONNECTION, 'open', request),
    forget: (base) => ipcRenderer.invoke(IPC_CONNECTION, 'forget', { base }),
    subscribe: (listener) => {
      const handler = (_e: IpcRendererEvent, info: ConnectionInfo): void => listener(info)
      ipcRenderer.on(IPC_CONNECTION_CHANGED, handler)
      return () => void ipcRenderer.removeListener(IPC_CONNECTION_CHANGED, handler)
    }
  }
}

contextBridge.exposeInMainWorld(BRIDGE_KEY, bridge)
