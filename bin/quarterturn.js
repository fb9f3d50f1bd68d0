#!/usr/bin/env node
// Entry of the `quarterturn` command: runs the built CLI (out/main/cli.js).
import { existsSync } from 'node:fs'

const entry = new URL('../out/main/cli.js', import.meta.url)
if (!existsSync(entry)) {
  console.error('quarterturn: the app is not built yet. Run `npm run build` in the project folder, then try again.')
  process.exit(2)
}
// `quarterturn list | head` closes the pipe early: that is not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0)
  throw err
})
const { main } = await import(entry.href)
process.exitCode = await main(process.argv.slice(2))
