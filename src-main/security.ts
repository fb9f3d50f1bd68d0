// Electron security settings in one place (Electron's security checklist): the window's
// webPreferences, the CSP, which renderer URL to trust, the permissions the page gets, and the
// check every IPC sender must pass.
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

/**
 * The renderer dev server's URL, or null to load the built index.html.
 *
 * electron-vite dev sets ELECTRON_RENDERER_URL, but any launcher can set it too, and whatever
 * page it names is loaded and then trusted by the IPC sender check. So it only counts in a
 * development build (a build-time constant, not something the environment can flip) that is
 * not packaged, and only when it points at this machine over plain http.
 */
export function devRendererUrl(raw: string | undefined, build: { dev: boolean; packaged: boolean }): string | null {
  if (!raw || !build.dev || build.packaged) return null
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return null
  }
  if (url.protocol !== 'http:' || url.username || url.password || !isLoopbackHost(url.hostname)) return null
  return url.href
}

function isLoopbackHost(hostname: string): boolean {
  // The URL parser has already lower-cased the name and normalised IPv4 forms such as 127.1.
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
}

/**
 * Permissions the app's page uses: the async clipboard write behind its Copy buttons
 * (navigator.clipboard.writeText). Everything else (camera, notifications, clipboard read,
 * devices, ...) is refused, as is any permission asked for by another page or a sub-frame.
 */
const APP_PERMISSIONS: ReadonlySet<string> = new Set(['clipboard-sanitized-write'])

export function isPermissionAllowed(permission: string, request: { requestingUrl?: string; isMainFrame: boolean }, appUrl: string): boolean {
  return APP_PERMISSIONS.has(permission) && request.isMainFrame && isTrustedSender(request.requestingUrl, appUrl)
}
