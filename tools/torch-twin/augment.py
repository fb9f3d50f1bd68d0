"""SimCLR views in plain torch (Debian has no torchvision beside python3-torch), for training the
twin's SimCLR on its own (the parity replay uses Quarterturn's recorded views instead).

  simclr_views(x01, size, min_scale=0.08, jitter=0.5, generator=None) -> [B,3,size,size] in [0,1]
    per image: RandomResizedCrop (area in [min_scale, 1], aspect ratio in [3/4, 4/3], log-uniform,
    bilinear resize), horizontal flip p 0.5, colour jitter with p 0.8 (brightness, contrast,
    saturation factors in [1 - 0.8s, 1 + 0.8s], applied in a random order), grayscale p 0.2.
    Hue is not jittered (as in Quarterturn; torchvision's ColorJitter also jitters hue by 0.2s).
Normalise afterwards with model.normalize.
"""
import math

import torch
import torch.nn.functional as F

LUMA = (0.299, 0.587, 0.114)


def _gray(img):
    w = torch.tensor(LUMA, dtype=img.dtype).view(3, 1, 1)
    return (img * w).sum(0, keepdim=True)


def _crop_box(h, w, min_scale, g):
    area = h * w
    for _ in range(10):
        target = area * (min_scale + (1 - min_scale) * torch.rand(1, generator=g).item())
        log_r = math.log(3 / 4) + (math.log(4 / 3) - math.log(3 / 4)) * torch.rand(1, generator=g).item()
        r = math.exp(log_r)
        cw = int(round(math.sqrt(target * r)))
        ch = int(round(math.sqrt(target / r)))
        if 0 < cw <= w and 0 < ch <= h:
            y = int(torch.randint(0, h - ch + 1, (1,), generator=g))
            x = int(torch.randint(0, w - cw + 1, (1,), generator=g))
            return y, x, ch, cw
    return 0, 0, h, w


def simclr_views(x01, size, min_scale=0.08, jitter=0.5, generator=None):
    g = generator
    out = []
    for img in x01:
        _, h, w = img.shape
        y, x, ch, cw = _crop_box(h, w, min_scale, g)
        v = F.interpolate(img[None, :, y : y + ch, x : x + cw], size=(size, size), mode='bilinear', align_corners=False)[0]
        if torch.rand(1, generator=g).item() < 0.5:
            v = v.flip(2)
        if torch.rand(1, generator=g).item() < 0.8:
            for op in torch.randperm(3, generator=g).tolist():
                f = 1 + (torch.rand(1, generator=g).item() * 2 - 1) * 0.8 * jitter
                if op == 0:
                    v = v * f
                elif op == 1:
                    m = _gray(v).mean()
                    v = (v - m) * f + m
                else:
                    gr = _gray(v)
                    v = (v - gr) * f + gr
                v = v.clamp(0, 1)
        if torch.rand(1, generator=g).item() < 0.2:
            v = _gray(v).expand(3, -1, -1).clone()
        out.append(v.clamp(0, 1))
    return torch.stack(out)
