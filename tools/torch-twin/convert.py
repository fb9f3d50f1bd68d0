"""Convert a torch.save'd checkpoint to .safetensors for Quarterturn's weight import.

  python3 tools/torch-twin/convert.py official.pth out.safetensors

Accepts a dict with a 'network' entry (the official FeatureDecoupling / RotNet checkpoints), a
'state_dict' or 'model' entry, or a bare state dict. A 'module.' prefix (DataParallel) is
stripped. Every tensor is written contiguous, floating ones as float32, num_batches_tracked
as int64.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402


def state_dict_of(obj, source):
    if isinstance(obj, torch.nn.Module):
        return obj.state_dict()
    if isinstance(obj, dict):
        for key in ('network', 'state_dict', 'model'):
            if key in obj and isinstance(obj[key], dict):
                return obj[key]
        if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
            return obj
    raise SystemExit(f'{source}: no state dict found (expected a dict of tensors, or one under "network", "state_dict" or "model")')


def convert(src, dst):
    obj = torch.load(src, map_location='cpu')
    sd = state_dict_of(obj, src)
    out = {}
    for name, t in sd.items():
        if not isinstance(t, torch.Tensor):
            continue
        if name.startswith('module.'):
            name = name[len('module.') :]
        t = t.detach().cpu().contiguous()
        out[name] = t.float() if t.is_floating_point() else t.long()
    if not out:
        raise SystemExit(f'{src}: the state dict holds no tensors')
    safetensors_io.save(dst, out, {'format': 'pt', 'source': os.path.basename(src)})
    return len(out)


if __name__ == '__main__':
    if len(sys.argv) != 3:
        raise SystemExit('usage: python3 tools/torch-twin/convert.py CHECKPOINT.pth OUT.safetensors')
    n = convert(sys.argv[1], sys.argv[2])
    print(f'wrote {n} tensors to {sys.argv[2]}')
