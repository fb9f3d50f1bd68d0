// Kept while the dataset services still import it from here: the helpers live in src-node/fsutil.ts.
export * from '../src-node/fsutil'
