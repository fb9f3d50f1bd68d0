"""Heads and losses of each method, written from method-spec section 2, and a Method module per
method whose state-dict names are those Quarterturn exports: the backbone's `_feature_blocks.*`
and the heads `rot_head.*`, `proj_head.*` (nn.Sequential: Linear, or Linear-ReLU-Linear) and
`classifier.*`.

Batch layout (method-spec): B images -> 4B interleaved views [img0_r0, img0_r1, img0_r2,
img0_r3, img1_r0, ...], rotation r = torch.rot90(x, r, dims=(2, 3)) (counter-clockwise).

Losses:
  rotation_ce(logits, labels, weights=None)  sum_j w_j CE_j / N (divided by N, not sum w)
  invariance_mse(f_inv)                      MSE of each view's invariant half to the DETACHED
                                             mean of its image's 4 views, mean over all elements
  NCEAverage / nce_criterion                 lemniscate's memory bank and NCE: scores
                                             exp(m.z/T)/Z, Z = mean(exp(m.z/T))*N fixed on the
                                             first forward, loss with Pn = 1/N, memory update
                                             m <- normalize(mom*m + (1-mom)*z) after the step
  nt_xent_as_coded(a, b, tau)                RE's ContrastiveLoss(normalize=False): row sums of
                                             exp(S) minus exp(1/tau), positive kept in the denominator
  nt_xent(a, b, tau)                         SimCLR's NT-Xent: cross-entropy over the 2B-1 others

Method API (build_method(name, backbone, cfg, dataset_size, num_classes)):
  m.loss(batch) -> (loss, {metric: float})   batch: dict with
      'images'  NCHW normalised [B,3,S,S] (rotation methods and supervised)
      'inputs'  NCHW backbone input for SimCLR: the two augmented views stacked [2B,3,S,S]
      'indices' LongTensor [B] dataset indices (NCE)
      'labels'  LongTensor [B] (supervised)
      'nce_idx' optional LongTensor [B, K+1] of memory rows (slot 0 = the positive); drawn
                uniformly when absent
  m.after_step()                             NCE memory update with the last forward's z
  m.state_dict() / m.load_state_dict()       Quarterturn's export names
cfg keys (defaults = the reference): rotationHead 'linear'|'mlp', projectionHead, lambdaCls,
lambdaMse, lambdaNce, lambdaNt, nceK, nceT, nceMomentum, nceReestimateZ, tau.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

PROJECTION_DIM = 128
EPS = 1e-7


def rotated_views(x):
    """[B,C,H,W] -> ([4B,C,H,W] interleaved per image, labels [4B])."""
    v = torch.stack([torch.rot90(x, r, dims=(2, 3)) for r in range(4)], dim=1)
    b = x.shape[0]
    return v.reshape(4 * b, *x.shape[1:]), torch.arange(4).repeat(b)


def head(din, dout, kind, hidden):
    """nn.Sequential(Linear) or nn.Sequential(Linear, ReLU, Linear)."""
    if kind == 'linear':
        return nn.Sequential(nn.Linear(din, dout))
    if kind == 'mlp':
        return nn.Sequential(nn.Linear(din, hidden), nn.ReLU(inplace=False), nn.Linear(hidden, dout))
    raise ValueError(f'unknown head kind {kind!r}: linear or mlp')


def hidden_of(din):
    """The contrastive variant's MLP hidden width: 2048 -> 1024, half the input."""
    return max(4, int(math.floor(din / 2 + 0.5)))


def rotation_ce(logits, labels, weights=None):
    per_view = F.cross_entropy(logits, labels, reduction='none')
    if weights is None:
        return per_view.sum() / logits.shape[0]
    return (per_view * weights).sum() / logits.shape[0]


def invariance_mse(f_inv):
    b = f_inv.shape[0] // 4
    f3 = f_inv.reshape(b, 4, -1)
    with torch.no_grad():
        target = f3.mean(dim=1, keepdim=True).expand_as(f3).clone()
    return F.mse_loss(f3, target)


class NCEAverage:
    """lemniscate's NCEAverage, without the autograd Function: gradient flows into z only."""

    def __init__(self, size, dim=PROJECTION_DIM, K=4096, T=0.07, momentum=0.5, reestimate_z=False, memory=None, generator=None):
        self.size, self.dim, self.K, self.T, self.momentum = size, dim, K, T, momentum
        self.reestimate_z = reestimate_z
        if memory is None:
            stdv = 1.0 / math.sqrt(dim / 3)
            memory = torch.rand(size, dim, generator=generator) * (2 * stdv) - stdv
        self.memory = memory.clone().float()
        self.Z = None
        self.generator = generator
        self.last = None

    def sample(self, y):
        idx = torch.randint(0, self.size, (y.shape[0], self.K + 1), generator=self.generator)
        idx[:, 0] = y
        return idx

    def __call__(self, z, y, idx=None):
        if idx is None:
            idx = self.sample(y)
        w = self.memory[idx]  # [B, K+1, dim], a constant
        out = torch.exp(torch.bmm(w, z.unsqueeze(2)).squeeze(2) / self.T)
        if self.Z is None or self.reestimate_z:
            self.Z = (out.mean() * self.size).item()
        self.last = (y, z.detach())
        return out / self.Z

    def update(self):
        """m_y <- normalize(momentum*m_y + (1-momentum)*z_y), with the last forward's z."""
        if self.last is None:
            return
        y, z = self.last
        pos = self.memory[y] * self.momentum + z * (1 - self.momentum)
        pos = pos / pos.pow(2).sum(1, keepdim=True).pow(0.5)
        self.memory.index_copy_(0, y, pos)
        self.last = None


def nce_criterion(out, size):
    """lemniscate's NCECriterion with Pn = 1/N: -(1/B)[sum log(P0/(P0+K Pn+eps)) + sum log(K Pn/(Pk+K Pn+eps))]."""
    b, k1 = out.shape
    kpn = (k1 - 1) / size
    p_pos = out[:, 0]
    ln_pmt = torch.log(p_pos / (p_pos + kpn + EPS))
    ln_pon = torch.log(kpn / (out[:, 1:] + kpn + EPS))
    return -(ln_pmt.sum() + ln_pon.sum()) / b


def nt_xent_as_coded(a, b, tau=0.1):
    """RE's ContrastiveLoss(tau, normalize=False)(a, b), method-spec section 2."""
    n = a.shape[0]
    x = torch.cat([a, b], 0)
    s = torch.exp(x @ x.t() / tau)
    pos = torch.exp((a * b).sum(1) / tau)
    pos = torch.cat([pos, pos], 0)
    denom = s.sum(1) - math.exp(1.0 / tau)
    return torch.mean(-torch.log(pos / denom))


def nt_xent(a, b, tau=0.5):
    """SimCLR's NT-Xent: for each of the 2B vectors, cross-entropy of its partner among the other 2B-1."""
    n = a.shape[0]
    x = torch.cat([a, b], 0)
    s = x @ x.t() / tau
    s = s.masked_fill(torch.eye(2 * n, dtype=torch.bool), float('-inf'))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(s, target)


def l2n(x):
    return F.normalize(x, dim=1, eps=1e-12)


def accuracy(logits, labels):
    return (logits.argmax(1) == labels).float().mean().item()


DEFAULTS = dict(
    rotationHead=None,
    projectionHead=None,
    lambdaCls=1.0,
    lambdaMse=1.0,
    lambdaNce=1.0,
    lambdaNt=1.0,
    nceK=4096,
    nceT=0.07,
    nceMomentum=0.5,
    nceReestimateZ=False,
    tau=None,
)


class Method(nn.Module):
    """The backbone's blocks plus the method's heads, under the export's names."""

    def __init__(self, name, backbone, cfg, dataset_size, num_classes):
        super().__init__()
        self.name = name
        c = dict(DEFAULTS)
        c.update({k: v for k, v in (cfg or {}).items() if v is not None})
        self.cfg = c
        object.__setattr__(self, 'backbone', backbone)  # not registered twice: its blocks are
        self._feature_blocks = backbone._feature_blocks
        d = backbone.feature_dim
        half = d // 2
        self.bank = None
        if name == 'rotnet':
            self.rot_head = head(d, 4, c['rotationHead'] or 'linear', hidden_of(d))
        elif name in ('rfd', 'rfd-contrastive'):
            default = 'linear' if name == 'rfd' else 'mlp'
            self.rot_head = head(half, 4, c['rotationHead'] or default, hidden_of(half))
            self.proj_head = head(half, PROJECTION_DIM, c['projectionHead'] or default, hidden_of(half))
            if name == 'rfd':
                self.bank = NCEAverage(dataset_size, PROJECTION_DIM, c['nceK'], c['nceT'], c['nceMomentum'], c['nceReestimateZ'])
        elif name == 'simclr':
            self.proj_head = head(d, PROJECTION_DIM, c['projectionHead'] or 'mlp', hidden_of(d))
        elif name == 'supervised':
            self.classifier = nn.Linear(d, num_classes)
        else:
            raise ValueError(f'unknown method {name!r}')

    def features(self, x):
        return self.backbone(x)

    def loss(self, batch):
        c = self.cfg
        if self.name == 'supervised':
            logits = self.classifier(self.backbone(batch['images']))
            ce = F.cross_entropy(logits, batch['labels'])
            return ce, {'loss': ce.item(), 'ce': ce.item(), 'acc': accuracy(logits, batch['labels'])}
        if self.name == 'simclr':
            x = batch['inputs']
            n = x.shape[0] // 2
            z = l2n(self.proj_head(self.backbone(x)))
            loss = nt_xent(z[:n], z[n:], c['tau'] or 0.5)
            return loss, {'loss': loss.item(), 'ntxent': loss.item()}
        views, labels = rotated_views(batch['images'])
        f = self.backbone(views)
        if self.name == 'rotnet':
            logits = self.rot_head(f)
            ce = rotation_ce(logits, labels)
            return ce, {'loss': ce.item(), 'ce': ce.item(), 'acc_rot': accuracy(logits, labels)}
        rot, inv = torch.split(f, f.shape[1] // 2, dim=1)
        logits = self.rot_head(rot)
        ce = rotation_ce(logits, labels, batch.get('rot_weights'))
        b = inv.shape[0] // 4
        f_bar = inv.reshape(b, 4, -1).mean(1)
        if self.name == 'rfd':
            mse = invariance_mse(inv)
            z = l2n(self.proj_head(f_bar))
            out = self.bank(z, batch['indices'], batch.get('nce_idx'))
            nce = nce_criterion(out, self.bank.size)
            loss = c['lambdaCls'] * ce + c['lambdaMse'] * mse + c['lambdaNce'] * nce
            return loss, {'loss': loss.item(), 'ce': ce.item(), 'mse': mse.item(), 'nce': nce.item(), 'acc_rot': accuracy(logits, labels)}
        # rfd-contrastive: MSE logged only; NT-Xent as coded, summed over the 4 rotations.
        with torch.no_grad():
            mse = invariance_mse(inv)
        z_bar = l2n(self.proj_head(f_bar))
        inv4 = inv.reshape(b, 4, -1)
        nt = sum(nt_xent_as_coded(l2n(self.proj_head(inv4[:, r])), z_bar, c['tau'] or 0.1) for r in range(4))
        loss = c['lambdaCls'] * ce + c['lambdaNt'] * nt
        return loss, {'loss': loss.item(), 'ce': ce.item(), 'ntxent': nt.item(), 'mse': mse.item(), 'acc_rot': accuracy(logits, labels)}

    def after_step(self):
        if self.bank is not None:
            self.bank.update()


def build_method(name, backbone, cfg=None, dataset_size=1, num_classes=2):
    return Method(name, backbone, cfg, dataset_size, num_classes)


def sgd(params, lr, momentum=0.9, nesterov=True, weight_decay=5e-4):
    """The reference's optimiser: coupled L2 on every parameter, BatchNorm included."""
    return torch.optim.SGD(params, lr=lr, momentum=momentum, nesterov=nesterov and momentum > 0, weight_decay=weight_decay)
