// Picks the transport once: the preload bridge inside Electron, the WebSocket in a browser. Also
// which host this window drives (`hostInfo`: this machine's, a remote one the app relays to, or the
// web host that served the tab) and how its connection stands.
import { ref } from 'vue'
import { createApi, type Api } from './client'
import { createWsTransport, takeToken, type ConnectionState } from './ws-transport'
import type { ConnectionInfo } from '../../../src-shared/contract/channels'
import { LOCAL_INFO, browserInfo } from '../lib/connection'

export const connection = ref<ConnectionState>('open')
export const hostInfo = ref<ConnectionInfo>(LOCAL_INFO)

function init(): Api {
  const bridge = window.quarterturnBridge
  if (bridge) {
    const apply = (info: ConnectionInfo): void => {
      hostInfo.value = info
      connection.value = info.state
    }
    bridge.connection?.subscribe(apply)
    void bridge.connection?.info().then(apply)
    return createApi(bridge)
  }
  connection.value = 'connecting'
  hostInfo.value = browserInfo(window.location, 'connecting')
  const ws = createWsTransport(takeToken())
  ws.onState((s) => {
    connection.value = s
    hostInfo.value = browserInfo(window.location, s)
  })
  return createApi(ws)
}

export const api: Api = init()
export { ApiError } from '../../../src-shared/contract'
