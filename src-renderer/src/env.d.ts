/// <reference types="vite/client" />
import type { AppBridge, Transport } from '../../src-shared/contract/channels'

declare global {
  interface Window {
    /** Present only inside the Electron app (set by the preload). */
    quarterturnBridge?: Transport & Partial<Pick<AppBridge, 'connection'>>
  }
}

declare module '*.vue' {
  import type { DefineComponent } from 'vue'
  const component: DefineComponent<object, object, unknown>
  export default component
}
