// The `quarterturn` command from source, in a process of its own (tests of `serve` restarts):
// argv as the command's.
import { main } from '../../src-host/cli'

process.exitCode = await main(process.argv.slice(2))
