"""A full training run in PyTorch, the twin of a Quarterturn run: pretraining (RotNet) or a
random-init backbone, then a linear probe and kNN on frozen conv5 features of the test split.
`npm run bench:parity` runs it next to Quarterturn on the same image files and config.

What it matches (read from Quarterturn's engine, see docs in README.md there):
  data      the image files decoded with PIL, RGB, shorter side resized to the working size and
            centre-cropped (a no-op for images already at that size); ImageNet mean/std.
  batches   a fresh random order each epoch, the last partial batch kept when it has >= 2 images;
            horizontal flip with p 0.5 per image (pretraining only), no crop at native size.
  method    methods.py's (the twin of method-spec): RotNet = the four rotations of each image
            interleaved, rotation head Linear(fc7, 4), cross-entropy over the 4B views; the RFD
            variants with their defaults. The pretext figures are the means over the last
            epoch's steps of the training loss and rotation accuracy, as Quarterturn logs them.
  optimiser SGD, momentum 0.9, Nesterov, coupled weight decay on every parameter (BN included).
  schedule  cosine from --lr to 0 over the run, evaluated at every step (epoch + step/steps).
  backbone  model.py's AlexNet, PyTorch's default init from torch.manual_seed(--seed).
  features  the frozen backbone in eval mode (BN running statistics), conv5 after BN + ReLU,
            adaptive max-pool to --pool x --pool, flattened.
  probe     probes.py's linear probe: BatchNorm without affine (by default standardised by the
            training features' mean and variance, eps 1e-5, as Quarterturn) -> Linear (PyTorch's
            default init, as Quarterturn); SGD Nesterov 0.9 with --probe-wd; cosine lr from --probe-lr set
            once per epoch; --probe-batch images per step; top-1 on the test split.
  kNN       cosine similarity of L2-normalised features; the k nearest training images vote with
            weight exp(sim / T) (k clipped to the training-set size).

Images: `--data ROOT` with ROOT/{train,test|val}/<class>/* or ROOT/<class>/* (then a seeded
per-class split: a ranking by SHA-1 of "<seed>\\0<relative path>", --test-fraction of each class
to test), or `--files LIST.json` naming the files of each split ({"root", "classes", "size",
"train": [[relpath, label], ...], "test": [...]}), which the bench writes from Quarterturn's own
index so both sides train on the same split.

Prints progress on stderr and one JSON object on stdout at the end (--json), or a summary.
"""
import argparse
import hashlib
import json
import math
import os
import sys
import time

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from methods import build_method, sgd  # noqa: E402
from model import AlexNet, IMAGENET_MEAN, IMAGENET_STD  # noqa: E402
from probes import conv_features, knn_classify, train_linear_probe  # noqa: E402

IMAGE_EXTS = ('.png', '.jpg', '.jpeg', '.bmp', '.webp', '.gif', '.tif', '.tiff')


# ---- images ---------------------------------------------------------------------------------------


def _is_image(name):
    return name.lower().endswith(IMAGE_EXTS) and not name.startswith('.')


def _class_dirs(folder):
    return sorted(d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d)) and not d.startswith('.'))


def _files_of(folder):
    out = []
    for dirpath, _, files in os.walk(folder):
        for f in files:
            if _is_image(f):
                out.append(os.path.join(dirpath, f))
    return sorted(out)


def seeded_rank(rels, seed):
    """Relative paths in a seeded order that depends only on the names and the seed."""
    return sorted(rels, key=lambda r: hashlib.sha1(f'{seed}\0{r}'.encode('utf-8')).hexdigest())


def scan_folder(root, split_seed=1, test_fraction=0.1):
    """The splits of a dataset folder: {'root', 'classes', 'train': [(rel, label)], 'test': [...]}."""
    if not os.path.isdir(root):
        raise SystemExit(f'train.py: dataset folder {root} does not exist: give a folder of class folders (or train/ and test/ of them).')
    subdirs = _class_dirs(root)
    if 'train' in subdirs and ('test' in subdirs or 'val' in subdirs):
        test_name = 'test' if 'test' in subdirs else 'val'
        classes = _class_dirs(os.path.join(root, 'train'))
        index = {c: i for i, c in enumerate(classes)}
        splits = {}
        for split, name in (('train', 'train'), ('test', test_name)):
            items = []
            for c in _class_dirs(os.path.join(root, name)):
                if c not in index:
                    raise SystemExit(f'train.py: class folder {name}/{c} has no counterpart in train/: the splits must share their classes.')
                for f in _files_of(os.path.join(root, name, c)):
                    items.append((os.path.relpath(f, root), index[c]))
            splits[split] = items
        return {'root': root, 'classes': classes, **splits}
    classes = subdirs
    if not classes:
        raise SystemExit(f'train.py: {root} has no class folders: expected {root}/<class>/*.png or {root}/train/<class>/*.')
    train, test = [], []
    for label, c in enumerate(classes):
        rels = [os.path.relpath(f, root) for f in _files_of(os.path.join(root, c))]
        ranked = seeded_rank(rels, split_seed)
        n_test = int(round(len(ranked) * test_fraction))
        test += [(r, label) for r in ranked[:n_test]]
        train += [(r, label) for r in ranked[n_test:]]
    return {'root': root, 'classes': classes, 'train': sorted(train), 'test': sorted(test)}


def read_file_list(path):
    with open(path, encoding='utf-8') as f:
        spec = json.load(f)
    for key in ('root', 'classes', 'train', 'test'):
        if key not in spec:
            raise SystemExit(f'train.py: file list {path} lacks "{key}"')
    return spec


def load_image(path, size):
    """uint8 [size, size, 3]: RGB, shorter side to `size` (bilinear, antialiased), centre crop."""
    from PIL import Image, ImageOps

    with Image.open(path) as im:
        im = ImageOps.exif_transpose(im).convert('RGB')
        w, h = im.size
        if (w, h) != (size, size):
            s = size / min(w, h)
            nw, nh = max(size, round(w * s)), max(size, round(h * s))
            im = im.resize((nw, nh), Image.BILINEAR)
            left, top = (nw - size) // 2, (nh - size) // 2
            im = im.crop((left, top, left + size, top + size))
        return np.asarray(im, dtype=np.uint8)


def load_split(root, items, size):
    images = np.empty((len(items), size, size, 3), dtype=np.uint8)
    for i, (rel, _) in enumerate(items):
        images[i] = load_image(os.path.join(root, rel), size)
    labels = np.array([label for _, label in items], dtype=np.int64)
    return torch.from_numpy(images), torch.from_numpy(labels)


# ---- batches ----------------------------------------------------------------------------------------


def epoch_batches(n, batch_size, gen):
    """A random order of 0..n-1 cut into batches; the last partial batch is kept if it has >= 2 images."""
    order = torch.randperm(n, generator=gen)
    out = []
    for s in range(0, n, batch_size):
        b = order[s : s + batch_size]
        if len(b) >= 2 or not out:
            out.append(b)
    return out


def to_input(images_u8, hflip=False, gen=None):
    """uint8 NHWC -> normalised float NCHW, each image flipped left-right with p 0.5 when `hflip`."""
    x = images_u8.permute(0, 3, 1, 2).float() / 255.0
    if hflip:
        flip = torch.rand(x.shape[0], generator=gen) < 0.5
        x = torch.where(flip.view(-1, 1, 1, 1), torch.flip(x, dims=(3,)), x)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (x - mean) / std


def cosine_lr(base, epochs, epoch, fraction=0.0, minimum=0.0):
    p = min(1.0, (epoch + fraction) / max(epochs, 1e-9))
    return minimum + 0.5 * (base - minimum) * (1 + math.cos(math.pi * p))


# ---- pretraining ------------------------------------------------------------------------------------


def pretrain(net, images, a, gen, log, classes):
    """The method's training on `images`: the mean loss and rotation accuracy of the last epoch's steps."""
    method = build_method(a.method, net, {}, dataset_size=images.shape[0], num_classes=classes)
    opt = sgd(method.parameters(), a.lr, momentum=a.momentum, nesterov=a.nesterov, weight_decay=a.wd)
    method.train()
    last = {'loss': float('nan'), 'acc': float('nan')}
    for epoch in range(a.epochs):
        batches = epoch_batches(images.shape[0], a.batch, gen)
        loss_sum = acc_sum = 0.0
        for step, idx in enumerate(batches):
            for g in opt.param_groups:
                g['lr'] = cosine_lr(a.lr, a.epochs, epoch, step / len(batches))
            loss, metrics = method.loss({'images': to_input(images[idx], hflip=a.hflip, gen=gen), 'indices': idx})
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            method.after_step()
            loss_sum += metrics['loss']
            acc_sum += metrics.get('acc_rot', float('nan'))
        last = {'loss': loss_sum / len(batches), 'acc': acc_sum / len(batches)}
        log(f'pretrain epoch {epoch + 1}/{a.epochs}: loss {last["loss"]:.4f}, rotation accuracy {100 * last["acc"]:.1f}%')
    return last


# ---- evaluation ---------------------------------------------------------------------------------------


def evaluate(net, train_x, train_y, test_x, test_y, classes, a):
    """Linear-probe and kNN top-1 (0..1) on frozen features of the test split."""
    train_f = conv_features(net, to_input(train_x), a.layer, a.pool)
    test_f = conv_features(net, to_input(test_x), a.layer, a.pool)
    torch.manual_seed(a.seed)
    init = None
    if a.probe_init == 'torch':
        fc = nn.Linear(train_f.shape[1], classes)
        init = (fc.weight.detach(), fc.bias.detach())
    lrs = [cosine_lr(a.probe_lr, a.probe_epochs, e) for e in range(a.probe_epochs)]
    probe = train_linear_probe(
        train_f, train_y, test_f, test_y, classes, a.probe_epochs, a.probe_batch, lrs, weight_decay=a.probe_wd, norm=a.probe_norm, init=init, seed=a.seed
    )
    knn_pred = knn_classify(train_f, train_y, test_f, classes, a.knn_k, a.knn_t)
    return probe['accuracy'], (knn_pred == test_y).float().mean().item(), int(train_f.shape[1])


# ---- the run ------------------------------------------------------------------------------------------


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='A PyTorch training run matching a Quarterturn run (pretraining, linear probe, kNN).')
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument('--data', help='dataset folder: ROOT/{train,test|val}/<class>/* or ROOT/<class>/*')
    src.add_argument('--files', help='JSON list of the files of each split (as the bench writes it)')
    p.add_argument('--method', choices=('rotnet', 'rfd', 'rfd-contrastive', 'random'), default='rotnet', help='random: no pretraining, probes on the initial weights')
    p.add_argument('--arch', choices=('alexnet32', 'alexnet64', 'alexnet224'), default='alexnet64')
    p.add_argument('--width', type=float, default=0.25)
    p.add_argument('--size', type=int, default=0, help='working size the images are brought to (default: the arch input)')
    p.add_argument('--epochs', type=int, default=10)
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--lr', type=float, default=0.05)
    p.add_argument('--momentum', type=float, default=0.9)
    p.add_argument('--no-nesterov', dest='nesterov', action='store_false')
    p.add_argument('--wd', type=float, default=5e-4)
    p.add_argument('--no-hflip', dest='hflip', action='store_false')
    p.add_argument('--layer', default='conv5')
    p.add_argument('--pool', type=int, default=3)
    p.add_argument('--probe-epochs', type=int, default=30)
    p.add_argument('--probe-batch', type=int, default=128)
    p.add_argument('--probe-lr', type=float, default=0.1)
    p.add_argument('--probe-wd', type=float, default=5e-4)
    p.add_argument('--probe-norm', choices=('fixed', 'bn', 'bn2d'), default='fixed', help="BN without affine: 'fixed' standardises by the training features' statistics (Quarterturn)")
    p.add_argument('--probe-init', choices=('torch', 'reference'), default='torch', help="probe weights: PyTorch's Linear default (Quarterturn) or the reference's N(0, sqrt(2/classes))")
    p.add_argument('--knn-k', type=int, default=200)
    p.add_argument('--knn-t', type=float, default=0.07)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--split-seed', type=int, default=1)
    p.add_argument('--test-fraction', type=float, default=0.1)
    p.add_argument('--threads', type=int, default=0, help='torch threads (default: one per core)')
    p.add_argument('--json', action='store_true', help='print one JSON object on stdout')
    return p.parse_args(argv)


def run(a, log=lambda m: print(m, file=sys.stderr, flush=True)):
    t0 = time.time()
    torch.set_num_threads(a.threads or os.cpu_count() or 1)
    spec = read_file_list(a.files) if a.files else scan_folder(a.data, a.split_seed, a.test_fraction)
    torch.manual_seed(a.seed)
    net = AlexNet(a.arch, a.width)
    size = a.size or spec.get('size') or net.input_size
    if size != net.input_size:
        raise SystemExit(f'train.py: images at {size} px, but {a.arch} takes {net.input_size} px input: pick the matching --arch.')
    train_x, train_y = load_split(spec['root'], spec['train'], size)
    test_x, test_y = load_split(spec['root'], spec['test'], size)
    classes = len(spec['classes'])
    log(f'{len(spec["train"])} train / {len(spec["test"])} test images, {classes} classes, {size} px; loaded in {time.time() - t0:.1f} s')
    gen = torch.Generator().manual_seed(a.seed)
    pretext = None
    if a.method != 'random':
        pretext = pretrain(net, train_x, a, gen, log, classes)
    t_eval = time.time()
    probe, knn, dim = evaluate(net, train_x, train_y, test_x, test_y, classes, a)
    log(f'linear probe {100 * probe:.1f}%, kNN {100 * knn:.1f}% (evaluation {time.time() - t_eval:.1f} s)')
    return {
        'method': a.method,
        'seed': a.seed,
        'train': len(spec['train']),
        'test': len(spec['test']),
        'classes': classes,
        'featureDim': dim,
        'pretextLoss': None if pretext is None else pretext['loss'],
        'pretextAcc': None if pretext is None else 100 * pretext['acc'],
        'probeTop1': 100 * probe,
        'knnTop1': 100 * knn,
        'threads': torch.get_num_threads(),
        'torch': torch.__version__,
        'wallSec': round(time.time() - t0, 2),
    }


def main(argv=None):
    a = parse_args(argv)
    r = run(a)
    if a.json:
        print(json.dumps(r))
    else:
        for k, v in r.items():
            print(f'{k:12} {v}')


if __name__ == '__main__':
    main()
