// Embedding maps of feature vectors: PCA (instant view), Barnes-Hut t-SNE (seeded, with progress,
// live preview and cancel), UMAP via umap-js, exact kNN graphs and map-quality metrics.
// Everything takes row-major Float32Array [N, D] and is pure TypeScript (Node, browser, worker).

export { pca, project, covariance, type PcaOptions, type PcaResult } from './pca'
export { symmetricEigen, type SymmetricEigen } from './eigen'
export {
  TSNE,
  runTsne,
  tsneSync,
  resolveTsneOptions,
  type TsneOptions,
  type ResolvedTsneOptions,
  type TsneProgress,
  type TsnePhase,
  type TsneResult,
  type TsneTimings
} from './tsne'
export { runUmap, type UmapOptions, type UmapProgress } from './umap'
export { exactKnn, type KnnGraph } from './knn'
export { VpTree, knnGraph } from './vptree'
export { blockedKnn } from './knn-blocked'
export { conditionalP, symmetrize, type SparseP } from './affinities'
export { knnPreservation, knnLabelAccuracy, knnClassify, trustworthiness, graphOverlap } from './metrics'
export { clusteredGaussians, type ClusteredData } from './synthetic'
