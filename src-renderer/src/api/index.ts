// Picks the transport once: the preload bridge inside Electron, the WebSocket in a browser.
import { ref } from 'vue'
import { createApi, type Api } from './client'
import { createWsTransport, takeToken, type ConnectionState } from './ws-transport'

export const connection = ref<ConnectionState>('open')

function init(): Api {
  const bridge = window.quarterturnBridge
  if (bridge) return createApi(bridge)
  connection.value = 'connecting'
  const ws = createWsTransport(takeToken())
  ws.onState((s) => (connection.value = s))
  return createApi(ws)
}

export const api: Api = init()
export { ApiError } from '../../../src-shared/contract'
