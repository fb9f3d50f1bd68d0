// Saving and copying text without a server round trip: a Blob behind an <a download> (the CSP
// needs nothing for it: a download is not a fetch and blob: is not loaded into the page), and the
// async clipboard (a secure context: the app's file:// page or the web host on 127.0.0.1).
export function downloadText(text: string, filename: string, mime: string): void {
  downloadBlob(new Blob([text], { type: `${mime};charset=utf-8` }), filename)
}

/** Save a Blob (text, a PNG) as a file. */
export function downloadBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = filename
  a.rel = 'noopener'
  document.body.appendChild(a)
  a.click()
  a.remove()
  // The browser has started the download by now; free the blob a little later.
  setTimeout(() => URL.revokeObjectURL(url), 30_000)
}

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text)
    return true
  } catch {
    return false
  }
}
