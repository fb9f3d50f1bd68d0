// Preload bridge (sandboxed, built as CommonJS): exposes exactly two functions — invoke a
// contract request and subscribe to pushed events. The host validates everything it receives.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron'
import { BRIDGE_KEY, IPC_EVENT, IPC_INVOKE, type Transport } from '../src-shared/contract/channels'

const bridge: Transport = {
  invoke: (name, arg) => ipcRenderer.invoke(IPC_INVOKE, name, arg),
  subscribe: (listener) => {
    const handler = (_e: IpcRendererEvent, name: string, payload: unknown): void => listener(name, payload)
    ipcRenderer.on(IPC_EVENT, handler)
    return () => void ipcRenderer.removeListener(IPC_EVENT, handler)
  }
}

contextBridge.exposeInMainWorld(BRIDGE_KEY, bridge)
