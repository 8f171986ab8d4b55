import * as Y from 'yjs'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'

/**
 * A y-websocket client on the real server, signed in as a browser is: the session cookie and the
 * page's Origin ride on the upgrade (the relay refuses a cookie upgrade from a foreign Origin).
 */
export function syncClient(baseUrl: string, cookie: string, docName: string, doc = new Y.Doc()): WebsocketProvider {
  const headers = { cookie: `cc_session=${cookie}`, origin: baseUrl }
  class CookieWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers })
    }
  }
  const provider = new WebsocketProvider(`${baseUrl.replace(/^http/, 'ws')}/sync`, docName, doc, {
    WebSocketPolyfill: CookieWebSocket as never,
    disableBc: true
  })
  // Relay extras (packages/protocol): 100 reject, 101 ack. Ignore acks; surface rejects.
  provider.messageHandlers[101] = () => {}
  provider.messageHandlers[100] = () => {}
  return provider
}

export const whenSynced = (p: WebsocketProvider) =>
  p.synced ? Promise.resolve() : new Promise<void>((resolve) => p.once('sync', (s: boolean) => s && resolve()))
