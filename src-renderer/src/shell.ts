// Whether this renderer runs inside the Electron app (the preload bridge is present).
export const isElectron = typeof window !== 'undefined' && window.quarterturnBridge !== undefined
