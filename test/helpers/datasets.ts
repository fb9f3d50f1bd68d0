// Small datasets on disk in each real layout, for the dataset tests. Images are distinct per
// (class, index) so duplicates only appear where a test plants them.
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { blockyRgb, cifarRecord, jpegRgb, pngRgb } from './images'

function put(file: string, data: Uint8Array | string): void {
  mkdirSync(path.dirname(file), { recursive: true })
  writeFileSync(file, data)
}

/** Seed of image `i` of class `c`: unique across a test's datasets. */
const seedOf = (c: number, i: number): number => c * 1000 + i + 1

/** The RGB makeImageFolder draws for image `i` of the `c`-th class (in the folder under `splitDir`). */
export function imageFolderRgb(c: number, i: number, size = 32, splitDir?: string): Uint8Array {
  return blockyRgb(size, size, seedOf(c, i) + (splitDir ? splitDir.length * 100 : 0))
}

/** <root>/<class>/<class>_<i>.<ext>; `perClass` per class name. */
export function makeImageFolder(root: string, perClass: Record<string, number>, opts: { size?: number; format?: 'png' | 'jpg'; splitDir?: string } = {}): void {
  const size = opts.size ?? 32
  Object.entries(perClass).forEach(([cls, n], c) => {
    for (let i = 0; i < n; i++) {
      const rgb = imageFolderRgb(c, i, size, opts.splitDir)
      const data = opts.format === 'jpg' ? jpegRgb(rgb, size, size) : pngRgb(rgb, size, size)
      put(path.join(root, opts.splitDir ?? '', cls, `${cls}_${String(i).padStart(3, '0')}.${opts.format ?? 'png'}`), data)
    }
  })
}

/** tiny-imagenet-200 in miniature: wnids.txt, words.txt, train/<wnid>/images, val with annotations, test/images. */
export function makeTinyImageNet(root: string, opts: { wnids: string[]; train: number; val: number; test: number; size?: number }): void {
  const size = opts.size ?? 64
  put(path.join(root, 'wnids.txt'), opts.wnids.join('\n') + '\n')
  put(path.join(root, 'words.txt'), opts.wnids.map((w, i) => `${w}\tthing${i}, other name`).join('\n') + '\n')
  const ann: string[] = []
  opts.wnids.forEach((w, c) => {
    put(path.join(root, 'train', w, `${w}_boxes.txt`), '')
    for (let i = 0; i < opts.train; i++) put(path.join(root, 'train', w, 'images', `${w}_${i}.JPEG`), jpegRgb(blockyRgb(size, size, seedOf(c, i)), size, size))
    for (let i = 0; i < opts.val; i++) {
      const name = `val_${c * opts.val + i}.JPEG`
      put(path.join(root, 'val', 'images', name), jpegRgb(blockyRgb(size, size, seedOf(c, 500 + i)), size, size))
      ann.push(`${name}\t${w}\t0\t0\t10\t10`)
    }
  })
  put(path.join(root, 'val', 'val_annotations.txt'), ann.join('\n') + '\n')
  for (let i = 0; i < opts.test; i++) put(path.join(root, 'test', 'images', `test_${i}.JPEG`), jpegRgb(blockyRgb(size, size, 90000 + i), size, size))
}

/** MiniPlaces: images/{train,val,test}, data/{train,val}.txt and data/categories.txt. */
export function makeMiniPlaces(root: string, opts: { categories: string[]; train: number; val: number; test: number; size?: number }): void {
  const size = opts.size ?? 32
  put(path.join(root, 'data', 'categories.txt'), opts.categories.map((c, i) => `/${c[0]}/${c} ${i}`).join('\n') + '\n')
  const train: string[] = []
  const val: string[] = []
  opts.categories.forEach((cat, c) => {
    for (let i = 0; i < opts.train; i++) {
      const rel = `train/${cat[0]}/${cat}/${String(i + 1).padStart(8, '0')}.jpg`
      put(path.join(root, 'images', rel), jpegRgb(blockyRgb(size, size, seedOf(c, i)), size, size))
      train.push(`${rel} ${c}`)
    }
    for (let i = 0; i < opts.val; i++) {
      const rel = `val/${String(c * opts.val + i + 1).padStart(8, '0')}.jpg`
      put(path.join(root, 'images', rel), jpegRgb(blockyRgb(size, size, seedOf(c, 700 + i)), size, size))
      val.push(`${rel} ${c}`)
    }
  })
  for (let i = 0; i < opts.test; i++)
    put(path.join(root, 'images', 'test', `${String(i + 1).padStart(8, '0')}.jpg`), jpegRgb(blockyRgb(size, size, 80000 + i), size, size))
  put(path.join(root, 'data', 'train.txt'), train.join('\n') + '\n')
  put(path.join(root, 'data', 'val.txt'), val.join('\n') + '\n')
}

export const CIFAR_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']

/**
 * cifar-10-batches-bin with `perBatch` records in each of data_batch_1..5 and `test` in
 * test_batch; record k of batch b has label (b + k) % 10. Returns the RGB of every record by file.
 */
export function makeCifar(root: string, opts: { perBatch: number; test: number }): Map<string, { label: number; rgb: Uint8Array }[]> {
  const dir = path.join(root, 'cifar-10-batches-bin')
  const records = new Map<string, { label: number; rgb: Uint8Array }[]>()
  const batches = [1, 2, 3, 4, 5].map((b) => [`data_batch_${b}.bin`, opts.perBatch, b] as const)
  for (const [name, n, b] of [...batches, ['test_batch.bin', opts.test, 0] as const]) {
    const recs: { label: number; rgb: Uint8Array }[] = []
    for (let k = 0; k < n; k++) recs.push({ label: (b + k) % 10, rgb: blockyRgb(32, 32, b * 10000 + k + 7) })
    records.set(name, recs)
    put(path.join(dir, name), Buffer.concat(recs.map((r) => cifarRecord(r.label, r.rgb))))
  }
  put(path.join(dir, 'batches.meta.txt'), CIFAR_NAMES.join('\n') + '\n\n')
  return records
}
