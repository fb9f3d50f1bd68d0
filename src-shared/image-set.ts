// A set of decoded images as the engine trains on them: what a dataset cache split, the sample
// dataset and a selected subset all are. Plain typed arrays, so it crosses every layer.
export interface ImageSet {
  /** uint8 RGB, [n, size, size, 3] row-major. */
  images: Uint8Array
  labels: Int32Array
  n: number
  size: number
  classNames: string[]
}
