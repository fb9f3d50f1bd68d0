// Layout detection: which of the known dataset layouts a folder holds, with the evidence for it,
// and the full list of images with their split and class. Reads only names, sizes and the small
// annotation files; decoding happens later in the indexer.
//
// Known layouts, checked in this order (the first that matches wins):
//   CIFAR-10 binary   data_batch_1..5.bin + test_batch.bin (+ batches.meta.txt), here or in cifar-10-batches-bin/
//   Tiny-ImageNet     wnids.txt + train/<wnid>/images/ (+ words.txt, val/val_annotations.txt, test/images/)
//   MiniPlaces        data/train.txt + images/ (+ data/val.txt, data/categories.txt)
//   ImageFolder       {train,val,test}/<class>/...   or   <class>/...
//   flat folder       images directly in the folder (unlabelled: pretraining only)
// A folder holding nothing but one sub-folder is looked into (an extracted archive's wrapper).
import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { LayoutKind, Problem, SplitName } from '../../src-shared/contract/datasets'
import { absPath, ancestorsOf, isImageName, joinRel, listDir, realDir, walkFiles, type DirListing, type FileStat, type WalkContext } from './scan'

/** One image to index: a file, or a record inside a CIFAR batch file. */
export interface Item {
  rel: string
  split: SplitName
  label: number
  size: number
  mtimeMs: number
  /** CIFAR: the batch file (relative) and the record's byte offset. */
  record?: { file: string; offset: number }
}

export interface SplitOrigin {
  origin: 'dataset' | 'generated'
  detail: string
}

export interface Detected {
  kind: LayoutKind
  evidence: string[]
  classIds: string[]
  classNames: string[]
  items: Item[]
  /** How each split present came about. */
  splitOrigins: Partial<Record<SplitName, SplitOrigin>>
  /**
   * What splitting is still to do: 'all' = make train/val/test from `train`; 'carve-test' = make
   * a labelled test split from `train` (Tiny-ImageNet, as the reference did); null = none.
   */
  needsSplit: 'all' | 'carve-test' | null
  /** Every file the dataset consists of (images, record and annotation files): the fingerprint's list. */
  sourceFiles: FileStat[]
  /** A working size the layout implies (CIFAR 32, Tiny-ImageNet 64, MiniPlaces 128), else null. */
  nativeSize: number | null
}

/** No known layout: the message says what was looked for and what was found. */
export class NoLayoutError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'NoLayoutError'
  }
}

export const CIFAR_RECORD = 3073
const CIFAR_TRAIN = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin']
const CIFAR_TEST = 'test_batch.bin'
const SPLIT_DIRS: Record<string, SplitName> = { train: 'train', val: 'val', valid: 'val', validation: 'val', test: 'test' }

const plural = (n: number, one: string, many = one + 's'): string => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`

/** One level of `rel`, with the loop guard knowing every folder from the dataset root down to it. */
async function listHere(ctx: WalkContext, rel: string): Promise<DirListing | null> {
  const above = await ancestorsOf(ctx, rel)
  return listDir(ctx, rel, above.add(await realDir(absPath(ctx.root, rel))))
}

async function readText(abs: string | Buffer): Promise<string | null> {
  return fs.readFile(abs, 'utf8').catch(() => null)
}

function lines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
}

/** Detect the layout of `root` and list its images. Throws NoLayoutError when nothing fits. */
export async function detectLayout(ctx: WalkContext, rel = '', depth = 0): Promise<Detected> {
  const abs = path.join(ctx.root, rel)
  const top = await listHere(ctx, rel)
  if (!top) throw new NoLayoutError(`Cannot read the folder ${abs}: ${ctx.problems.at(-1)?.reason ?? 'unknown error'}.`)
  const names = new Set(top.files.map((f) => path.posix.basename(f.rel)))
  const dirNames = new Set(top.dirs.map((d) => path.posix.basename(d)))

  if (CIFAR_TRAIN.some((n) => names.has(n)) || names.has(CIFAR_TEST)) return detectCifar(ctx, rel, top.files)
  if (dirNames.has('cifar-10-batches-bin')) {
    const inner = await listHere(ctx, joinRel(rel, 'cifar-10-batches-bin'))
    if (inner && inner.files.some((f) => /(data|test)_batch/.test(f.rel))) {
      const d = await detectCifar(ctx, joinRel(rel, 'cifar-10-batches-bin'), inner.files)
      d.evidence.unshift('found cifar-10-batches-bin/ inside the folder')
      return d
    }
  }
  if (names.has('wnids.txt') && dirNames.has('train')) return detectTinyImageNet(ctx, rel, top.files)
  if (dirNames.has('data') && dirNames.has('images')) {
    const data = await listHere(ctx, joinRel(rel, 'data'))
    if (data?.files.some((f) => f.rel.endsWith('/train.txt'))) return detectMiniPlaces(ctx, rel, data.files)
  }

  // ImageFolder with split folders: every sub-folder is a split name and train/ is there.
  const visibleDirs = top.dirs.map((d) => path.posix.basename(d))
  if (visibleDirs.length > 0 && visibleDirs.every((d) => d.toLowerCase() in SPLIT_DIRS) && visibleDirs.some((d) => d.toLowerCase() === 'train')) {
    return detectImageFolderSplits(ctx, rel, top)
  }

  const rootImages = top.files.filter((f) => isImageName(f.rel))
  const subImages = new Map<string, FileStat[]>()
  for (const d of top.dirs) subImages.set(d, await walkFiles(ctx, d))
  const classDirs = top.dirs.filter((d) => subImages.get(d)!.some((f) => isImageName(f.rel)))

  if (classDirs.length === 1 && rootImages.length === 0 && top.dirs.length === 1 && depth < 2) {
    const d = await detectLayout(ctx, classDirs[0]!, depth + 1)
    d.evidence.unshift(`the folder holds only ${classDirs[0]}/, so looked inside it`)
    return d
  }
  if (classDirs.length >= 1 && (classDirs.length >= 2 || rootImages.length === 0)) {
    return imageFolderFrom(ctx, rel, top, subImages, rootImages)
  }
  if (rootImages.length > 0) {
    const files = [...rootImages]
    for (const d of top.dirs) for (const f of subImages.get(d)!) if (isImageName(f.rel)) files.push(f)
    const problems = nonImageProblems(
      top.files.filter((f) => !isImageName(f.rel)),
      'not an image file: ignored'
    )
    ctx.problems.push(...problems)
    return {
      kind: 'flat-unlabelled',
      evidence: [
        `${plural(rootImages.length, 'image file')} directly in the folder and no class folders: unlabelled images, usable for pretraining only`,
        ...(files.length > rootImages.length ? [`plus ${plural(files.length - rootImages.length, 'image')} in sub-folders`] : [])
      ],
      classIds: [],
      classNames: [],
      items: files.map((f) => ({ rel: f.rel, split: 'unlabelled', label: -1, size: f.size, mtimeMs: f.mtimeMs })),
      splitOrigins: { unlabelled: { origin: 'dataset', detail: 'every image in the folder, without labels' } },
      needsSplit: null,
      sourceFiles: files,
      nativeSize: null
    }
  }

  const shownFiles = top.files.slice(0, 5).map((f) => path.posix.basename(f.rel))
  const shownDirs = top.dirs.slice(0, 5).map((d) => path.posix.basename(d) + '/')
  const found =
    top.files.length + top.dirs.length === 0
      ? 'the folder is empty'
      : `found ${plural(top.files.length, 'file')}${shownFiles.length ? ` (${shownFiles.join(', ')}${top.files.length > 5 ? ', …' : ''})` : ''} and ${plural(top.dirs.length, 'folder')}${shownDirs.length ? ` (${shownDirs.join(', ')}${top.dirs.length > 5 ? ', …' : ''})` : ''}, with no JPEG, PNG, WebP, GIF or BMP images`
  throw new NoLayoutError(
    `No dataset recognised in ${abs}: ${found}. Looked for Tiny-ImageNet (wnids.txt and train/), MiniPlaces (data/train.txt and images/), ` +
      'CIFAR-10 binary (data_batch_1.bin … test_batch.bin), class folders (<class>/<images> or train/<class>/<images>) and image files directly in the folder.'
  )
}

function nonImageProblems(files: FileStat[], reason: string): Problem[] {
  return files.map((f) => ({
    kind: 'not-an-image' as const,
    path: f.rel,
    reason: `${reason} (extension "${path.posix.extname(f.rel) || 'none'}")`,
    skipped: true
  }))
}

async function detectCifar(ctx: WalkContext, rel: string, files: FileStat[]): Promise<Detected> {
  const byName = new Map(files.map((f) => [path.posix.basename(f.rel), f]))
  const evidence: string[] = []
  const items: Item[] = []
  const sourceFiles: FileStat[] = []
  const meta = byName.get('batches.meta.txt')
  let classNames = meta ? lines((await readText(absPath(ctx.root, meta.rel))) ?? '') : []
  if (meta) {
    sourceFiles.push(meta)
    evidence.push(
      `batches.meta.txt names ${plural(classNames.length, 'class', 'classes')} (${classNames.slice(0, 4).join(', ')}${classNames.length > 4 ? ', …' : ''})`
    )
  } else {
    classNames = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']
    evidence.push('no batches.meta.txt: using the standard CIFAR-10 class names')
  }
  const addBatch = (name: string, split: SplitName): number => {
    const f = byName.get(name)
    if (!f) return 0
    sourceFiles.push(f)
    const n = Math.floor(f.size / CIFAR_RECORD)
    for (let k = 0; k < n; k++)
      items.push({ rel: `${f.rel}#${k}`, split, label: -2, size: CIFAR_RECORD, mtimeMs: f.mtimeMs, record: { file: f.rel, offset: k * CIFAR_RECORD } })
    if (f.size % CIFAR_RECORD !== 0) {
      ctx.problems.push({
        kind: 'truncated',
        path: f.rel,
        reason: `${f.size} bytes is not a whole number of ${CIFAR_RECORD}-byte records: the last ${f.size % CIFAR_RECORD} bytes are cut short and ignored`,
        skipped: true
      })
    }
    return n
  }
  const present = CIFAR_TRAIN.filter((n) => byName.has(n))
  const missing = CIFAR_TRAIN.filter((n) => !byName.has(n))
  let train = 0
  for (const n of CIFAR_TRAIN) train += addBatch(n, 'train')
  const test = addBatch(CIFAR_TEST, 'test')
  evidence.unshift(
    `CIFAR-10 binary batches: ${present.join(', ') || 'no data_batch files'} (${plural(train, 'record')})${missing.length ? `; missing ${missing.join(', ')}` : ''}`,
    byName.has(CIFAR_TEST) ? `test_batch.bin: ${plural(test, 'record')} of ${CIFAR_RECORD} bytes (1 label byte + 32x32 R, G, B planes)` : 'no test_batch.bin'
  )
  return {
    kind: 'cifar10-binary',
    evidence,
    classIds: classNames.map((c) => c),
    classNames,
    items,
    splitOrigins: {
      ...(train ? { train: { origin: 'dataset' as const, detail: 'data_batch_1..5.bin' } } : {}),
      ...(test ? { test: { origin: 'dataset' as const, detail: 'test_batch.bin' } } : {})
    },
    needsSplit: null,
    sourceFiles,
    nativeSize: 32
  }
}

/**
 * The images under `rel`, when it is a folder, as the unlabelled split (the test images the
 * public archives publish without labels): appended to `items` and `sourceFiles`; returns how many.
 */
async function addUnlabelledFolder(ctx: WalkContext, rel: string, items: Item[], sourceFiles: FileStat[]): Promise<number> {
  const files = await fs
    .stat(absPath(ctx.root, rel))
    .then((st) => (st.isDirectory() ? walkFiles(ctx, rel) : []))
    .catch(() => [] as FileStat[])
  let count = 0
  for (const f of files) {
    if (!isImageName(f.rel)) continue
    items.push({ rel: f.rel, split: 'unlabelled', label: -1, size: f.size, mtimeMs: f.mtimeMs })
    sourceFiles.push(f)
    count++
  }
  return count
}

async function detectTinyImageNet(ctx: WalkContext, rel: string, topFiles: FileStat[]): Promise<Detected> {
  const evidence: string[] = []
  const sourceFiles: FileStat[] = []
  const fileOf = (name: string): FileStat | undefined => topFiles.find((f) => path.posix.basename(f.rel) === name)
  const wnidsFile = fileOf('wnids.txt')!
  sourceFiles.push(wnidsFile)
  const wnids = [...new Set(lines((await readText(absPath(ctx.root, wnidsFile.rel))) ?? '').map((l) => l.split(/\s+/)[0]!))].sort()
  evidence.push(`wnids.txt lists ${plural(wnids.length, 'WordNet id')} (classes, in sorted order as ImageFolder numbers them)`)
  const words = new Map<string, string>()
  const wordsFile = fileOf('words.txt')
  if (wordsFile) {
    sourceFiles.push(wordsFile)
    for (const l of lines((await readText(absPath(ctx.root, wordsFile.rel))) ?? '')) {
      const [id, ...rest] = l.split('\t')
      if (id && rest.length) words.set(id.trim(), rest.join(' ').split(',')[0]!.trim())
    }
    evidence.push(`words.txt gives class names (${wnids.filter((w) => words.has(w)).length} of ${wnids.length} found)`)
  } else evidence.push('no words.txt: classes are named by their WordNet ids')
  const label = new Map(wnids.map((w, i) => [w, i]))
  const items: Item[] = []

  // train/<wnid>/images/*
  const trainRel = joinRel(rel, 'train')
  const trainTop = await listHere(ctx, trainRel)
  const trainDirs = new Set((trainTop?.dirs ?? []).map((d) => path.posix.basename(d)))
  let trainCount = 0
  for (const w of wnids) {
    if (!trainDirs.has(w)) continue
    // The archive keeps them in <wnid>/images/ (next to <wnid>_boxes.txt); accept them directly in <wnid>/ too.
    const classRel = joinRel(trainRel, w)
    const hasImagesDir = await fs.stat(absPath(ctx.root, joinRel(classRel, 'images'))).then(
      (s) => s.isDirectory(),
      () => false
    )
    const files = hasImagesDir ? await walkFiles(ctx, joinRel(classRel, 'images')) : ((await listHere(ctx, classRel))?.files ?? [])
    for (const f of files) {
      if (!isImageName(f.rel)) {
        // <wnid>_boxes.txt sits beside the images when they are not in images/.
        if (hasImagesDir || !f.rel.endsWith('_boxes.txt')) ctx.problems.push(...nonImageProblems([f], 'not an image file: ignored'))
        continue
      }
      items.push({ rel: f.rel, split: 'train', label: label.get(w)!, size: f.size, mtimeMs: f.mtimeMs })
      sourceFiles.push(f)
      trainCount++
    }
  }
  for (const d of trainDirs) {
    if (!label.has(d))
      ctx.problems.push({ kind: 'no-label', path: joinRel(trainRel, d), reason: 'class folder not listed in wnids.txt: ignored', skipped: true })
  }
  evidence.push(`train/ has ${plural(wnids.filter((w) => trainDirs.has(w)).length, 'class folder')} with ${plural(trainCount, 'image')} in <wnid>/images/`)

  // val/images/* labelled by val/val_annotations.txt (file, wnid, box)
  const splitOrigins: Detected['splitOrigins'] = {
    train: { origin: 'dataset', detail: 'train/<wnid>/images' }
  }
  const annRel = joinRel(rel, 'val/val_annotations.txt')
  const annText = await readText(absPath(ctx.root, annRel))
  if (annText !== null) {
    const st = await fs.stat(absPath(ctx.root, annRel))
    sourceFiles.push({ rel: annRel, size: st.size, mtimeMs: Math.trunc(st.mtimeMs) })
    const ann = new Map<string, string>()
    for (const l of lines(annText)) {
      const [file, wnid] = l.split(/\s+/)
      if (file && wnid) ann.set(file, wnid)
    }
    const valImagesRel = joinRel(rel, 'val/images')
    const files = await walkFiles(ctx, valImagesRel)
    const seen = new Set<string>()
    let valCount = 0
    for (const f of files) {
      const base = path.posix.basename(f.rel)
      if (!isImageName(f.rel)) {
        ctx.problems.push(...nonImageProblems([f], 'not an image file: ignored'))
        continue
      }
      const wnid = ann.get(base)
      seen.add(base)
      if (wnid === undefined || !label.has(wnid)) {
        ctx.problems.push({
          kind: 'no-label',
          path: f.rel,
          reason:
            wnid === undefined ? 'not in val_annotations.txt: ignored' : `val_annotations.txt gives class ${wnid}, which wnids.txt does not list: ignored`,
          skipped: true
        })
        continue
      }
      items.push({ rel: f.rel, split: 'val', label: label.get(wnid)!, size: f.size, mtimeMs: f.mtimeMs })
      sourceFiles.push(f)
      valCount++
    }
    for (const name of ann.keys()) {
      if (!seen.has(name))
        ctx.problems.push({
          kind: 'missing-file',
          path: joinRel(valImagesRel, name),
          reason: 'listed in val/val_annotations.txt but not in val/images',
          skipped: true
        })
    }
    evidence.push(`val/val_annotations.txt labels ${plural(ann.size, 'image')}; ${plural(valCount, 'labelled image')} found in val/images`)
    if (valCount) splitOrigins.val = { origin: 'dataset', detail: 'val/images labelled by val/val_annotations.txt' }
  } else evidence.push('no val/val_annotations.txt: no validation split')

  // test/images/*: no labels in the public archive.
  const testCount = await addUnlabelledFolder(ctx, joinRel(rel, 'test/images'), items, sourceFiles)
  if (testCount) {
    evidence.push(`test/images holds ${plural(testCount, 'unlabelled image')} (kept as the "unlabelled" split, for pretraining)`)
    splitOrigins.unlabelled = { origin: 'dataset', detail: 'test/images (no labels published)' }
  }
  return {
    kind: 'tiny-imagenet',
    evidence,
    classIds: wnids,
    classNames: wnids.map((w) => words.get(w) ?? w),
    items,
    splitOrigins,
    needsSplit: 'carve-test',
    sourceFiles,
    nativeSize: 64
  }
}

async function detectMiniPlaces(ctx: WalkContext, rel: string, dataFiles: FileStat[]): Promise<Detected> {
  const evidence: string[] = []
  const sourceFiles: FileStat[] = []
  const dataFile = (name: string): FileStat | undefined => dataFiles.find((f) => path.posix.basename(f.rel) === name)
  const imagesRel = joinRel(rel, 'images')
  let classIds: string[] = []
  const cat = dataFile('categories.txt')
  if (cat) {
    sourceFiles.push(cat)
    const pairs: [string, number][] = []
    for (const l of lines((await readText(absPath(ctx.root, cat.rel))) ?? '')) {
      const m = /^(\S+)\s+(\d+)$/.exec(l)
      if (m) pairs.push([m[1]!.replace(/^\/[a-z]\//, ''), Number(m[2])])
    }
    classIds = []
    for (const [name, idx] of pairs) classIds[idx] = name
    classIds = Array.from(classIds, (c, i) => c ?? `class-${i}`)
    evidence.push(`data/categories.txt names ${plural(classIds.length, 'category', 'categories')}`)
  }
  const items: Item[] = []
  const splitOrigins: Detected['splitOrigins'] = {}
  let maxLabel = -1
  for (const [list, split] of [
    ['train.txt', 'train'],
    ['val.txt', 'val']
  ] as const) {
    const f = dataFile(list)
    if (!f) continue
    sourceFiles.push(f)
    const wanted = new Map<string, number>()
    for (const l of lines((await readText(absPath(ctx.root, f.rel))) ?? '')) {
      const m = /^(\S+)\s+(\d+)$/.exec(l)
      if (m) wanted.set(m[1]!.replace(/^\/+/, ''), Number(m[2]))
    }
    const splitRel = joinRel(imagesRel, split)
    const files = await walkFiles(ctx, splitRel)
    const byRel = new Map(files.map((x) => [x.rel.slice(imagesRel.length + 1), x]))
    let found = 0
    for (const [p, lab] of wanted) {
      const x = byRel.get(p)
      if (!x) {
        ctx.problems.push({ kind: 'missing-file', path: joinRel(imagesRel, p), reason: `listed in data/${list} but not found`, skipped: true })
        continue
      }
      byRel.delete(p)
      items.push({ rel: x.rel, split, label: lab, size: x.size, mtimeMs: x.mtimeMs })
      sourceFiles.push(x)
      maxLabel = Math.max(maxLabel, lab)
      found++
    }
    for (const x of byRel.values()) {
      if (isImageName(x.rel)) ctx.problems.push({ kind: 'no-label', path: x.rel, reason: `not listed in data/${list}: ignored`, skipped: true })
    }
    evidence.push(`data/${list} labels ${plural(wanted.size, 'image')}; ${plural(found, 'image')} found under images/${split}/`)
    if (found) splitOrigins[split] = { origin: 'dataset', detail: `images/${split} labelled by data/${list}` }
  }
  if (!classIds.length) {
    classIds = Array.from({ length: maxLabel + 1 }, (_, i) => `class-${i}`)
    evidence.push('no data/categories.txt: classes are numbered')
  }
  for (const it of items) {
    if (it.label >= classIds.length) {
      ctx.problems.push({ kind: 'no-label', path: it.rel, reason: `label ${it.label} is not in data/categories.txt: ignored`, skipped: true })
      it.label = -3 // dropped below
    }
  }
  const kept = items.filter((it) => it.label !== -3)
  const testCount = await addUnlabelledFolder(ctx, joinRel(imagesRel, 'test'), kept, sourceFiles)
  if (testCount) {
    evidence.push(`images/test holds ${plural(testCount, 'unlabelled image')} (kept as the "unlabelled" split)`)
    splitOrigins.unlabelled = { origin: 'dataset', detail: 'images/test (no labels published)' }
  }
  evidence.unshift('MiniPlaces layout: data/train.txt with images/')
  return {
    kind: 'miniplaces',
    evidence,
    classIds,
    classNames: classIds.map((c) => c.replace(/_/g, ' ')),
    items: kept,
    splitOrigins,
    needsSplit: null,
    sourceFiles,
    nativeSize: 128
  }
}

async function detectImageFolderSplits(ctx: WalkContext, rel: string, top: { files: FileStat[]; dirs: string[] }): Promise<Detected> {
  const evidence: string[] = []
  const classSet = new Set<string>()
  const perSplit: { split: SplitName; dir: string; classes: Map<string, FileStat[]>; loose: FileStat[] }[] = []
  for (const d of top.dirs) {
    const split = SPLIT_DIRS[path.posix.basename(d).toLowerCase()]!
    const listing = await listHere(ctx, d)
    if (!listing) continue
    const classes = new Map<string, FileStat[]>()
    for (const c of listing.dirs) {
      const files = await walkFiles(ctx, c)
      classes.set(path.posix.basename(c), files)
      classSet.add(path.posix.basename(c))
    }
    perSplit.push({ split, dir: d, classes, loose: listing.files })
  }
  const classIds = [...classSet].sort()
  const label = new Map(classIds.map((c, i) => [c, i]))
  const items: Item[] = []
  const sourceFiles: FileStat[] = []
  const splitOrigins: Detected['splitOrigins'] = {}
  for (const s of perSplit) {
    let n = 0
    for (const [cls, files] of s.classes) {
      for (const f of files) {
        if (!isImageName(f.rel)) {
          ctx.problems.push(...nonImageProblems([f], 'not an image file: ignored'))
          continue
        }
        items.push({ rel: f.rel, split: s.split, label: label.get(cls)!, size: f.size, mtimeMs: f.mtimeMs })
        sourceFiles.push(f)
        n++
      }
    }
    const looseImages = s.loose.filter((f) => isImageName(f.rel))
    if (s.classes.size === 0 && looseImages.length > 0 && s.split !== 'train') {
      // A test/ (or val/) of bare images: the labels were not published.
      for (const f of looseImages) {
        items.push({ rel: f.rel, split: 'unlabelled', label: -1, size: f.size, mtimeMs: f.mtimeMs })
        sourceFiles.push(f)
      }
      splitOrigins.unlabelled = { origin: 'dataset', detail: `${s.dir}/ (images without class folders)` }
      evidence.push(`${s.dir}/ holds ${plural(looseImages.length, 'image')} without class folders: kept as the "unlabelled" split`)
      continue
    }
    for (const f of looseImages)
      ctx.problems.push({ kind: 'no-label', path: f.rel, reason: `image directly in ${s.dir}/, outside any class folder: ignored`, skipped: true })
    ctx.problems.push(
      ...nonImageProblems(
        s.loose.filter((f) => !isImageName(f.rel)),
        'not an image file: ignored'
      )
    )
    if (splitOrigins[s.split]) {
      evidence.push(`${s.dir}/ is a second "${s.split}" folder: merged`)
    } else splitOrigins[s.split] = { origin: 'dataset', detail: `${s.dir}/<class>/` }
    evidence.push(`${s.dir}/ has ${plural(s.classes.size, 'class folder')} with ${plural(n, 'image')}`)
  }
  evidence.unshift(`split folders ${top.dirs.map((d) => path.posix.basename(d) + '/').join(', ')} with class folders inside (ImageFolder per split)`)
  for (const f of top.files)
    if (isImageName(f.rel)) ctx.problems.push({ kind: 'no-label', path: f.rel, reason: 'image outside the split folders: ignored', skipped: true })
  return {
    kind: 'imagefolder-splits',
    evidence,
    classIds,
    classNames: classIds,
    items,
    splitOrigins,
    needsSplit: splitOrigins.val || splitOrigins.test ? null : 'all',
    sourceFiles,
    nativeSize: null
  }
}

function imageFolderFrom(
  ctx: WalkContext,
  _rel: string,
  top: { files: FileStat[]; dirs: string[] },
  subImages: Map<string, FileStat[]>,
  rootImages: FileStat[]
): Detected {
  const classIds = top.dirs.map((d) => path.posix.basename(d)).sort()
  const label = new Map(classIds.map((c, i) => [c, i]))
  const items: Item[] = []
  const sourceFiles: FileStat[] = []
  for (const d of top.dirs) {
    for (const f of subImages.get(d)!) {
      if (!isImageName(f.rel)) {
        ctx.problems.push(...nonImageProblems([f], 'not an image file: ignored'))
        continue
      }
      items.push({ rel: f.rel, split: 'train', label: label.get(path.posix.basename(d))!, size: f.size, mtimeMs: f.mtimeMs })
      sourceFiles.push(f)
    }
  }
  for (const f of rootImages)
    ctx.problems.push({ kind: 'no-label', path: f.rel, reason: 'image directly in the folder, outside any class folder: ignored', skipped: true })
  const withImages = top.dirs.filter((d) => subImages.get(d)!.some((f) => isImageName(f.rel))).length
  return {
    kind: 'imagefolder',
    evidence: [
      `${plural(withImages, 'class folder')} with ${plural(items.length, 'image')} (<class>/<images>, the class is the folder name)`,
      ...(withImages < top.dirs.length ? [`${plural(top.dirs.length - withImages, 'folder')} without images (listed as empty classes)`] : []),
      'no split folders: train/val/test are made here, stratified per class and seeded'
    ],
    classIds,
    classNames: classIds,
    items,
    splitOrigins: {},
    needsSplit: 'all',
    sourceFiles,
    nativeSize: null
  }
}
