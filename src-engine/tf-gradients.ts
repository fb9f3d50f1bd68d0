// tfjs-core alone registers no gradient functions (the @tensorflow/tfjs umbrella package does).
// Every module of the engine that differentiates imports this once; the bundle is made by
// scripts/build-tf-gradients.mjs on install (see its header for why).
import './generated/tf-gradients.js'
