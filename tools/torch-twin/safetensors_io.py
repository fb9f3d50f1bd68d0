"""Read and write .safetensors files with the standard library and torch only.

Debian's python3-torch has no `safetensors` package beside it, and the format is small:
  8 bytes   N, the header's length, unsigned 64-bit little-endian
  N bytes   UTF-8 JSON: {"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets": [b, e]}}
  the rest  the tensors' raw little-endian bytes, offsets relative to the end of the header

API:
  load(path) -> (tensors: dict[str, torch.Tensor], metadata: dict[str, str])
  save(path, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None)
Tensors come back contiguous, on the CPU, in their file dtype (F32 -> float32, I64 -> int64, ...).
"""
import json
import struct
import sys

import torch

DTYPES = {
    'F64': torch.float64,
    'F32': torch.float32,
    'F16': torch.float16,
    'BF16': torch.bfloat16,
    'I64': torch.int64,
    'I32': torch.int32,
    'I16': torch.int16,
    'I8': torch.int8,
    'U8': torch.uint8,
    'BOOL': torch.bool,
}
NAMES = {v: k for k, v in DTYPES.items()}
SIZES = {'F64': 8, 'F32': 4, 'F16': 2, 'BF16': 2, 'I64': 8, 'I32': 4, 'I16': 2, 'I8': 1, 'U8': 1, 'BOOL': 1}

if sys.byteorder != 'little':
    raise RuntimeError('safetensors_io assumes a little-endian machine')


def load(path):
    """Tensors and metadata of a .safetensors file; raises ValueError naming what is wrong."""
    with open(path, 'rb') as f:
        buf = f.read()
    if len(buf) < 8:
        raise ValueError(f'{path}: {len(buf)} bytes, shorter than the 8-byte header length')
    (n,) = struct.unpack('<Q', buf[:8])
    if n > len(buf) - 8:
        raise ValueError(f'{path}: the header claims {n} bytes but the file has {len(buf) - 8} after the length')
    header = json.loads(buf[8 : 8 + n].decode('utf-8'))
    data = memoryview(buf)[8 + n :]
    metadata = header.pop('__metadata__', {}) or {}
    out = {}
    for name, e in header.items():
        dtype = e['dtype']
        if dtype not in DTYPES:
            raise ValueError(f'{path}: tensor {name} has dtype {dtype}, not one of {", ".join(DTYPES)}')
        b, end = e['data_offsets']
        shape = list(e['shape'])
        count = 1
        for d in shape:
            count *= d
        if end - b != count * SIZES[dtype] or end > len(data):
            raise ValueError(f'{path}: tensor {name} of shape {shape} ({dtype}) does not fit its byte range [{b}, {end})')
        if count == 0:
            t = torch.empty(shape, dtype=DTYPES[dtype])
        else:
            # frombuffer shares memory with the bytes; clone so the tensor owns writable storage.
            t = torch.frombuffer(bytearray(data[b:end]), dtype=DTYPES[dtype]).reshape(shape).clone()
        out[name] = t
    return out, dict(metadata)


def save(path, tensors, metadata=None):
    """Write `tensors` (name -> tensor) and string `metadata` as a .safetensors file."""
    items = []
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        if t.dtype not in NAMES:
            raise ValueError(f'tensor {name}: dtype {t.dtype} cannot be written')
        items.append((name, t))
    # Largest alignment first, then by name: the layout the reference writer uses.
    items.sort(key=lambda kv: (-SIZES[NAMES[kv[1].dtype]], kv[0]))
    header = {}
    if metadata:
        header['__metadata__'] = {str(k): str(v) for k, v in metadata.items()}
    offset = 0
    blobs = []
    for name, t in items:
        raw = t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.view(torch.int16).numpy().tobytes()
        header[name] = {'dtype': NAMES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    js = json.dumps(header, separators=(',', ':')).encode('utf-8')
    js += b' ' * ((8 - len(js) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(js)))
        f.write(js)
        for raw in blobs:
            f.write(raw)
