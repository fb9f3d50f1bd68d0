// electron-vite (through Vite) replaces import.meta.env.DEV with a constant when it builds the
// main process; only that flag is used here, so only it is declared, not all of vite/client.
interface ImportMetaEnv {
  readonly DEV: boolean
}

interface ImportMeta {
  readonly env: ImportMetaEnv
}
