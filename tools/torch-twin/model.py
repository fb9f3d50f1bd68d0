"""AlexNet with BatchNorm of the Rotation Feature Decoupling reference (method-spec section 1),
in the module layout of its `AlexNetFeature.py`, so state-dict names are those of the official
checkpoints: `_feature_blocks = ModuleList([conv1, pool1, conv2, pool2, conv3, conv4, conv5,
pool5, fc_block])`, each convN = Sequential(Conv2d, BatchNorm2d, ReLU), fc_block =
Sequential(Flatten, Linear(no bias), BatchNorm1d, ReLU, Linear(no bias), BatchNorm1d, ReLU).

Variants (the conv1 "stem"; the rest as in method-spec):
  alexnet224  conv1 k11 s4 p2, 224 input (the paper; pool5 6x6)
  alexnet64   conv1 k5  s2 p2, 64 input  (pool5 3x3)
  alexnet32   conv1 k3  s1 p1, 32 input  (pool5 3x3)
`width` multiplies every channel count and the 4096 fc width: c(n) = max(1, floor(n*width + 0.5)).
Init: PyTorch's defaults (what the reference uses). Input NCHW, ImageNet-normalised.

API:
  AlexNet(arch='alexnet64', width=1.0)
  net(x) -> fc7 features [N, 4096*width] (after BN + ReLU)
  net.forward_taps(x, taps) -> (fc, {tap: tensor}) with taps among conv1..conv5, pool5, fc
  net.feature_dim, net.input_size
"""
import math

import torch
from torch import nn

STEMS = {
    'alexnet224': dict(k=11, s=4, p=2, input=224),
    'alexnet64': dict(k=5, s=2, p=2, input=64),
    'alexnet32': dict(k=3, s=1, p=1, input=32),
}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def channels(n, width):
    return max(1, int(math.floor(n * width + 0.5)))


def conv_block(cin, cout, k, s, p):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride=s, padding=p, bias=True), nn.BatchNorm2d(cout), nn.ReLU(inplace=False))


def pooled(n):
    return (n - 3) // 2 + 1


class AlexNet(nn.Module):
    def __init__(self, arch='alexnet64', width=1.0):
        super().__init__()
        if arch not in STEMS:
            raise ValueError(f'unknown arch {arch!r}: one of {", ".join(STEMS)}')
        stem = STEMS[arch]
        self.arch = arch
        self.width = width
        self.input_size = stem['input']
        c = [3] + [channels(n, width) for n in (64, 192, 384, 256, 256)]
        side = pooled(pooled(pooled((stem['input'] + 2 * stem['p'] - stem['k']) // stem['s'] + 1)))
        self.pool_side = side
        self.feature_dim = channels(4096, width)
        fc = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c[5] * side * side, self.feature_dim, bias=False),
            nn.BatchNorm1d(self.feature_dim),
            nn.ReLU(inplace=False),
            nn.Linear(self.feature_dim, self.feature_dim, bias=False),
            nn.BatchNorm1d(self.feature_dim),
            nn.ReLU(inplace=False),
        )
        pool = lambda: nn.MaxPool2d(kernel_size=3, stride=2)  # noqa: E731
        self._feature_blocks = nn.ModuleList(
            [
                conv_block(c[0], c[1], stem['k'], stem['s'], stem['p']),
                pool(),
                conv_block(c[1], c[2], 5, 1, 2),
                pool(),
                conv_block(c[2], c[3], 3, 1, 1),
                conv_block(c[3], c[4], 3, 1, 1),
                conv_block(c[4], c[5], 3, 1, 1),
                pool(),
                fc,
            ]
        )
        self.all_feat_names = ['conv1', 'pool1', 'conv2', 'pool2', 'conv3', 'conv4', 'conv5', 'pool5', 'fc']

    def forward_taps(self, x, taps=()):
        out = {}
        h = x
        for name, block in zip(self.all_feat_names, self._feature_blocks):
            h = block(h)
            if name in taps:
                out[name] = torch.flatten(h, 1) if name == 'pool5' else h
        return h, out

    def forward(self, x):
        return self.forward_taps(x)[0]


def normalize(x01):
    """[0,1] NCHW images -> ImageNet-normalised."""
    mean = torch.tensor(IMAGENET_MEAN, dtype=x01.dtype).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=x01.dtype).view(1, 3, 1, 1)
    return (x01 - mean) / std


def nhwc_to_nchw(x):
    return x.permute(0, 3, 1, 2).contiguous()
