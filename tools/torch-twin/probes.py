"""Evaluation protocols on frozen features (method-spec section 4, "Heads used in each evaluation").

  conv_features(backbone, x, layer='conv5', pool=6) -> [N, C*p*p]
      frozen backbone in eval mode, the layer's output (after BN + ReLU) max-pooled adaptively
      to p x p (AdaptiveMaxPool2d), flattened in NCHW order (c, h, w)
  train_linear_probe(train_x, train_y, test_x, test_y, classes, epochs, batch_size, lrs, ...)
      -> dict(accuracy, losses, pred)
      norm='bn'    BatchNorm1d(affine=False) in training mode on each batch, running statistics
                   at test time (the reference's BN without affine on flattened features; on conv
                   maps the reference uses BatchNorm2d, per channel: see norm='bn2d')
      norm='bn2d'  the reference's exact form on conv maps: per-channel BN over (N, h, w); needs
                   `channels` and features in (c, h, w) order
      norm='fixed' standardise by the whole training set's mean and sqrt(var + 1e-5), computed
                   once (Quarterturn's linear probe)
      init=None draws the reference's N(0, sqrt(2/fout)) weights and zero bias; or pass
      (weight [classes, dim], bias [classes]) to start from given values.
      orders: optional list, one LongTensor permutation of the training rows per epoch; drawn
      from `seed` when absent. Batches of fewer than 2 rows are skipped. lrs: one lr per epoch.
      Optimiser: SGD momentum 0.9, Nesterov, weight_decay (coupled), as the reference.
  knn_classify(train_x, train_y, test_x, classes, k=200, T=0.07) -> predictions
      cosine similarity of L2-normalised features; the k nearest vote with weight exp(sim/T)
      (Wu et al. 2018; k is clipped to the training-set size).
"""
import math

import torch
import torch.nn.functional as F
from torch import nn


@torch.no_grad()
def conv_features(backbone, x, layer='conv5', pool=6, batch_size=256):
    backbone.eval()
    outs = []
    for s in range(0, x.shape[0], batch_size):
        fc, taps = backbone.forward_taps(x[s : s + batch_size], (layer,))
        t = taps.get(layer, fc)
        if t.dim() == 4:
            t = F.adaptive_max_pool2d(t, pool)
        outs.append(torch.flatten(t, 1))
    return torch.cat(outs, 0)


class _Bn2dFlat(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.channels = channels
        self.bn = nn.BatchNorm2d(channels, affine=False)

    def forward(self, x):
        n = x.shape[0]
        side = int(round(math.sqrt(x.shape[1] / self.channels)))
        return self.bn(x.reshape(n, self.channels, side, side)).reshape(n, -1)


class _Fixed(nn.Module):
    def __init__(self, train_x):
        super().__init__()
        x = train_x.double()
        mean = x.mean(0)
        var = (x * x).mean(0) - mean * mean
        self.register_buffer('mean', mean.float())
        self.register_buffer('std', torch.sqrt(var.clamp(min=0) + 1e-5).float())

    def forward(self, x):
        return (x - self.mean) / self.std


def train_linear_probe(
    train_x, train_y, test_x, test_y, classes, epochs, batch_size, lrs, weight_decay=5e-4, norm='bn', channels=None, init=None, orders=None, seed=0
):
    dim = train_x.shape[1]
    if norm == 'bn':
        pre = nn.BatchNorm1d(dim, affine=False)
    elif norm == 'bn2d':
        pre = _Bn2dFlat(channels)
    elif norm == 'fixed':
        pre = _Fixed(train_x)
    else:
        raise ValueError(f'unknown probe normalisation {norm!r}: bn, bn2d or fixed')
    fc = nn.Linear(dim, classes)
    with torch.no_grad():
        if init is None:
            fc.weight.normal_(0.0, math.sqrt(2.0 / classes))
            fc.bias.zero_()
        else:
            fc.weight.copy_(init[0])
            fc.bias.copy_(init[1])
    model = nn.Sequential(pre, fc)
    opt = torch.optim.SGD(fc.parameters(), lr=lrs[0], momentum=0.9, nesterov=True, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(seed)
    losses = []
    for epoch in range(epochs):
        for g in opt.param_groups:
            g['lr'] = lrs[epoch]
        order = orders[epoch] if orders is not None else torch.randperm(train_x.shape[0], generator=gen)
        model.train()
        total, count = 0.0, 0
        for s in range(0, len(order), batch_size):
            idx = order[s : s + batch_size]
            if len(idx) < 2:
                continue
            loss = F.cross_entropy(model(train_x[idx]), train_y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            count += len(idx)
        losses.append(total / max(count, 1))
    model.eval()
    with torch.no_grad():
        pred = model(test_x).argmax(1)
    return dict(accuracy=(pred == test_y).float().mean().item(), losses=losses, pred=pred, weight=fc.weight.detach(), bias=fc.bias.detach())


@torch.no_grad()
def knn_classify(train_x, train_y, test_x, classes, k=200, T=0.07):
    a = F.normalize(train_x, dim=1, eps=1e-12)
    b = F.normalize(test_x, dim=1, eps=1e-12)
    sim = b @ a.t()
    vals, idx = sim.topk(min(k, train_x.shape[0]), dim=1)
    w = torch.exp(vals / T)
    votes = torch.zeros(test_x.shape[0], classes).scatter_add_(1, train_y[idx], w)
    return votes.argmax(1)
