// Electron security settings in one place (Electron's security checklist): the window's
// webPreferences, the CSP, and the check every IPC sender must pass.
import type { WebPreferences } from 'electron'

/** CSP for the app's pages (the built index.html also carries it as a meta tag). */
export const APP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'"
].join('; ')

export function secureWebPreferences(preload: string): WebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    spellcheck: false
  }
}

/**
 * True when an IPC message comes from the app's own top-level page: the file:// index.html
 * we loaded, or the dev server's origin during `npm run dev`. Frames from anywhere else
 * (an injected iframe, a navigated page) are refused.
 */
export function isTrustedSender(senderUrl: string | undefined, appUrl: string): boolean {
  if (!senderUrl) return false
  let sender: URL
  let app: URL
  try {
    sender = new URL(senderUrl)
    app = new URL(appUrl)
  } catch {
    return false
  }
  if (app.protocol === 'file:') return sender.protocol === 'file:' && sender.pathname === app.pathname
  return sender.origin === app.origin
}
