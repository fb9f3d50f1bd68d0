// A run's tags and notes: runs/<id>/notes.json, written by whichever process the user annotates
// from. Training never reads or writes this file, so annotating needs no run lock: a run another
// process trains can be annotated while it runs, and the owner's writes cannot clobber the notes.
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { RunNotesSchema, type RunNotes } from '../../src-shared/contract/runs'
import { writeFileAtomic } from '../../src-node/fsutil'

export const NOTES_FILE = 'notes.json'

export const notesFileOf = (runDir: string): string => path.join(runDir, NOTES_FILE)

/** Tags without repeats or surrounding blanks, in the order given. */
export function cleanTags(tags: readonly string[]): string[] {
  return [...new Set(tags.map((t) => t.trim()).filter(Boolean))]
}

/** The run's notes; none (null) when the file is missing or not notes (a damaged file hides nothing else). */
export async function readRunNotes(runDir: string): Promise<RunNotes | null> {
  const text = await fs.readFile(notesFileOf(runDir), 'utf8').catch(() => null)
  if (text === null) return null
  try {
    const parsed = RunNotesSchema.safeParse(JSON.parse(text))
    return parsed.success ? parsed.data : null
  } catch {
    return null
  }
}

export async function writeRunNotes(runDir: string, notes: RunNotes): Promise<RunNotes> {
  const clean = { tags: cleanTags(notes.tags), notes: notes.notes }
  await writeFileAtomic(notesFileOf(runDir), JSON.stringify(clean, null, 2) + '\n')
  return clean
}
