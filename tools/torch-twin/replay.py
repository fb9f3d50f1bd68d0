"""Replay a parity trace (written by src-engine/parity/trace.ts) in PyTorch.

  python3 tools/torch-twin/replay.py TRACE_DIR [TRACE_DIR ...]

For each folder: loads init.safetensors into the twin's model (strict: every name and shape),
replays each recorded step with the same images, dataset indices, labels, NCE rows and learning
rate, with SGD as the trace's config says, and writes:
  twin.json                 {"metrics": [{name: value} per step], "nceZ": Z}
  twin-final.safetensors    the twin's parameters and buffers after the last step (+ nce.memory)
  twin-synced.json, twin-synced-final.safetensors
                            the same with every step started from Quarterturn's weights before
                            it ("before.i.*"), the twin keeping its own momentum buffers: each
                            step's loss and update compared from the same weights
  twin-features.safetensors "fc": Quarterturn's FINAL backbone loaded into the twin's AlexNet,
                            inference mode, on the trace's feature images
Rotation methods build their four views with torch.rot90 themselves; SimCLR takes the recorded
augmented views ("inputs.i"), since its augmentation draws come from Quarterturn's generator.

  --probe PROBE_DIR   replays a linear-probe trace (probe.json, probe.safetensors: features,
                      init, per-epoch orders) with Quarterturn's normalisation (norm='fixed') and
                      kNN on the same features; writes twin-probe.json (accuracy, losses, kNN
                      confusion matrix)
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import methods  # noqa: E402
import model  # noqa: E402
import probes  # noqa: E402
import safetensors_io  # noqa: E402

torch.set_num_threads(max(1, min(2, torch.get_num_threads())))


def replay(folder, synced=False):
    with open(os.path.join(folder, 'trace.json')) as f:
        tr = json.load(f)
    init, _ = safetensors_io.load(os.path.join(folder, 'init.safetensors'))
    steps, _ = safetensors_io.load(os.path.join(folder, 'steps.safetensors'))
    net = model.AlexNet(tr['arch'], tr['width'])
    m = methods.build_method(tr['method'], net, tr['methodConfig'], tr['datasetSize'], tr['numClasses'])
    memory = init.pop('nce.memory', None)
    m.load_state_dict(init, strict=True)
    if m.bank is not None:
        if memory is None:
            raise SystemExit(f'{folder}: the RFD trace has no nce.memory in init.safetensors')
        m.bank.memory = memory.clone()
    o = tr['optimizer']
    if o['kind'] != 'sgd':
        raise SystemExit(f'{folder}: the twin replays SGD only, the trace used {o["kind"]}')
    opt = methods.sgd(m.parameters(), tr['lrs'][0], o['momentum'], o['nesterov'], o['weightDecay'])
    m.train()
    out = []
    for i in range(tr['steps']):
        batch = {'images': model.nhwc_to_nchw(steps[f'images.{i}']), 'indices': steps[f'indices.{i}']}
        if f'labels.{i}' in steps:
            batch['labels'] = steps[f'labels.{i}']
        if f'inputs.{i}' in steps:
            batch['inputs'] = model.nhwc_to_nchw(steps[f'inputs.{i}'])
        if f'nce.{i}' in steps:
            batch['nce_idx'] = steps[f'nce.{i}']
        if synced:
            # Start the step from Quarterturn's weights (the twin keeps its own momentum buffers).
            pre = f'before.{i}.'
            before = {k[len(pre) :]: v for k, v in steps.items() if k.startswith(pre)}
            mem = before.pop('nce.memory', None)
            with torch.no_grad():
                m.load_state_dict(before, strict=True)
            if mem is not None:
                m.bank.memory = mem.clone()
        for g in opt.param_groups:
            g['lr'] = tr['lrs'][i]
        opt.zero_grad()
        loss, metrics = m.loss(batch)
        loss.backward()
        opt.step()
        m.after_step()
        out.append(metrics)
    final = dict(m.state_dict())
    if m.bank is not None:
        final['nce.memory'] = m.bank.memory
    tag = 'twin-synced' if synced else 'twin'
    safetensors_io.save(os.path.join(folder, f'{tag}-final.safetensors'), final)
    with open(os.path.join(folder, f'{tag}.json'), 'w') as f:
        json.dump({'metrics': out, 'nceZ': m.bank.Z if m.bank is not None else None}, f)
    if synced:
        return

    # Quarterturn's final backbone in the twin's AlexNet, inference mode.
    theirs, _ = safetensors_io.load(os.path.join(folder, 'final.safetensors'))
    net2 = model.AlexNet(tr['arch'], tr['width'])
    net2.load_state_dict({k: v for k, v in theirs.items() if k.startswith('_feature_blocks.')}, strict=True)
    net2.eval()
    feats, _ = safetensors_io.load(os.path.join(folder, 'features.safetensors'))
    with torch.no_grad():
        fc = net2(model.nhwc_to_nchw(feats['images']))
    safetensors_io.save(os.path.join(folder, 'twin-features.safetensors'), {'fc': fc})


def replay_probe(folder):
    """A linear-probe trace: probe.json + probe.safetensors (features, init, orders) -> twin-probe.json."""
    with open(os.path.join(folder, 'probe.json')) as f:
        pj = json.load(f)
    t, _ = safetensors_io.load(os.path.join(folder, 'probe.safetensors'))
    r = probes.train_linear_probe(
        t['train_x'],
        t['train_y'],
        t['test_x'],
        t['test_y'],
        pj['classes'],
        pj['epochs'],
        pj['batchSize'],
        pj['lrs'],
        weight_decay=pj['weightDecay'],
        norm='fixed',
        init=(t['init_weight'], t['init_bias']),
        orders=list(t['orders']),
    )
    pred = probes.knn_classify(t['train_x'], t['train_y'], t['test_x'], pj['classes'], pj['knnK'], pj['knnT'])
    confusion = torch.zeros(pj['classes'], pj['classes'], dtype=torch.long)
    for y, p in zip(t['test_y'].tolist(), pred.tolist()):
        confusion[y, p] += 1
    with open(os.path.join(folder, 'twin-probe.json'), 'w') as f:
        json.dump({'accuracy': r['accuracy'], 'losses': r['losses'], 'knn': confusion.flatten().tolist()}, f)


if __name__ == '__main__':
    args = sys.argv[1:]
    if not args:
        raise SystemExit('usage: python3 tools/torch-twin/replay.py TRACE_DIR [TRACE_DIR ...] [--probe PROBE_DIR]')
    while args:
        d = args.pop(0)
        if d == '--probe':
            replay_probe(args.pop(0))
        else:
            replay(d)
            replay(d, synced=True)
