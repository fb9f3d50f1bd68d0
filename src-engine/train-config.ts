// The trainer's config for one training stage of a run, built from the run's parsed config: the
// one place a TrainConfig is derived from a RunConfig (the pipeline, rotation previews and the
// engine benchmark all use it), so a training key added to a stage's slice reaches the trainer
// once, and nothing is parsed again on the way.
import type { RunConfig } from '../src-shared/config/run'
import type { TrainConfig } from '../src-shared/config/train'
import { supervised } from '../src-shared/methods/builtin'

/** Fine-tuning trains the supervised method, whatever pretrained the backbone. */
const FINETUNE_METHOD: TrainConfig['method'] = supervised.schema.parse({ method: 'supervised' })

export function trainConfigFor(c: RunConfig, stage: 'pretrain' | 'finetune', override: Partial<TrainConfig> = {}): TrainConfig {
  const slice = c[stage]
  return {
    seed: c.seed,
    backbone: c.backbone,
    method: stage === 'pretrain' ? c.pretrain.method : FINETUNE_METHOD,
    optimizer: slice.optimizer,
    schedule: slice.schedule,
    batchSize: slice.batchSize,
    epochs: slice.epochs,
    hflip: slice.hflip,
    ...override
  }
}
