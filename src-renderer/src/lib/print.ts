// Printing a self-contained HTML document (the report) from the page, so the browser's print
// dialog can save it as PDF. The page's Content-Security-Policy (style-src 'self') is inherited by
// any frame the page makes (about:blank, srcdoc, blob:), so the document's <style> elements would be
// refused there; their rules are applied as constructed style sheets instead, which the policy
// does not govern. The rest of the document (text, tables, inline SVG, data: images) is imported
// as is. The frame stays in the page, out of sight, until the next print replaces it.

const FRAME_ID = 'qt-print-frame'

/** Put `html` into a hidden same-origin frame and open the print dialog for it. */
export function printHtml(html: string): HTMLIFrameElement {
  document.getElementById(FRAME_ID)?.remove()
  const frame = document.createElement('iframe')
  frame.id = FRAME_ID
  frame.setAttribute('data-testid', 'report-print-frame')
  frame.setAttribute('aria-hidden', 'true')
  frame.tabIndex = -1
  Object.assign(frame.style, { position: 'fixed', right: '0', bottom: '0', width: '0', height: '0', border: '0' })
  document.body.appendChild(frame)
  const win = frame.contentWindow
  const doc = frame.contentDocument
  if (!win || !doc) throw new Error('The browser gave no frame to print from.')

  // The style elements come out of the text before parsing: even a parsed, never shown document
  // reports them as refused by the page's policy.
  const css: string[] = []
  const bare = html.replace(/<style[^>]*>([\s\S]*?)<\/style>/gi, (_, rules: string) => {
    css.push(rules)
    return ''
  })
  const parsed = new DOMParser().parseFromString(bare, 'text/html')
  parsed.querySelectorAll('script, link, meta').forEach((el) => el.remove())
  doc.title = parsed.title
  doc.documentElement.lang = parsed.documentElement.lang || 'en'
  doc.body.replaceChildren(...[...parsed.body.childNodes].map((n) => doc.importNode(n, true)))
  const sheet = new (win as unknown as typeof globalThis).CSSStyleSheet()
  sheet.replaceSync(css.join('\n'))
  doc.adoptedStyleSheets = [sheet]

  win.focus()
  win.print()
  return frame
}
