#!/usr/bin/env python3
"""Reference outputs for @llamats/core's quantizers (src/quantize/), written by an independent implementation.

NF4 and the 8-bit dynamic blockwise quantizer follow bitsandbytes' CUDA kernels (kQuantizeBlockwise with
dQuantizeNF4 / dQuantize, kDequantizeBlockwise), emulated on the CPU with float32 torch tensor ops: flush-to-zero
(the CUDA build uses --use_fast_math) is applied explicitly, the scale is the float32 reciprocal of the absmax, and
codes come from comparing against all thresholds at once (not from a decision tree). Q8_0 follows llama.cpp's
quantize_row_q8_0_ref, with d converted by torch's .half() (round to nearest even).

Inputs are not stored: they come from a xorshift32 stream that src/quantize/quantize.fixture.ts reproduces bit for
bit (see `stream_values`), except the hand-picked edge vectors, which manifest.json holds as float32 bit patterns.

Run from this folder with Python 3 and torch (any version; 1.13 was used): python3 generate.py
"""
import hashlib
import json
import struct
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
F32 = torch.float32
FLT_MAX = 3.4028234663852886e38
FLT_MIN_NORMAL = 2.0**-126

# bitsandbytes' NF4 code values (its nf4_dequantization_lut / get_4bit_type("nf4")).
NF4 = torch.tensor(
    [-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
     -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
     0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
     0.7229568362236023, 1.0],
    dtype=F32,
)
# The constants of dQuantizeNF4's tree (float literals with an f suffix, hence rounded to float32).
NF4_TREE_THRESHOLDS = torch.tensor(
    [-0.8480964004993439, -0.6106329262256622, -0.4599952697753906, -0.33967943489551544,
     -0.23460740596055984, -0.13791173323988914, -0.045525018125772476, 0.03979014977812767,
     0.1202552504837513, 0.2035212516784668, 0.2920137718319893, 0.3893125355243683,
     0.5016634166240692, 0.6427869200706482, 0.8614784181118011],
    dtype=F32,
)


def bits(t):
    """float32 values as one string of 8-hex-digit bit patterns (big-endian words, as printed)."""
    return ''.join(f"{v & 0xFFFFFFFF:08x}" for v in t.contiguous().view(torch.int32).tolist())


def hex_f32(v):
    return f"{struct.unpack('<I', struct.pack('<f', v))[0]:08x}"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stream_values(seed, length, scale, outlier_every, outlier_scale):
    """xorshift32; each value is (u1+u2+u3+u4-2)*scale (times outlier_scale every outlier_every-th), in double, then float32."""
    x = seed & 0xFFFFFFFF
    out = []

    def draw():
        nonlocal x
        x = (x ^ (x << 13)) & 0xFFFFFFFF
        x ^= x >> 17
        x = (x ^ (x << 5)) & 0xFFFFFFFF
        return x / 4294967296.0

    for i in range(length):
        v = (draw() + draw() + draw() + draw() - 2.0) * scale
        if outlier_every and i % outlier_every == 0:
            v *= outlier_scale
        out.append(v)
    return torch.tensor(out, dtype=torch.float64).to(F32)


def ftz(t):
    """CUDA flush-to-zero: a subnormal reads (and is written) as a zero of its sign."""
    return torch.where(t.abs() < FLT_MIN_NORMAL, t * 0, t)


def pad_blocks(x, block):
    n = x.numel()
    nb = -(-n // block)
    padded = torch.zeros(nb * block, dtype=F32)
    padded[:n] = x
    return padded.view(nb, block)


def kernel_absmax(blocks):
    """fmaxf-reduction from -FLT_MAX over |x| (NaN dropped, subnormals flushed); padding zeros take part."""
    a = ftz(blocks.abs())
    a = torch.where(torch.isnan(a), torch.full_like(a, -FLT_MAX), a)
    return a.max(dim=1).values


def kernel_scale(absmax):
    return ftz(torch.tensor(1.0, dtype=F32) / absmax)


def nf4_quantize(x, block):
    n = x.numel()
    blocks = pad_blocks(x, block)
    absmax = kernel_absmax(blocks)
    scaled = ftz(blocks) * kernel_scale(absmax).unsqueeze(1)
    codes = (scaled.unsqueeze(-1) > NF4_TREE_THRESHOLDS).sum(-1).view(-1)[: n + (n & 1)].to(torch.uint8)
    return (codes[0::2] << 4) | codes[1::2], absmax


def nf4_dequantize(packed, absmax, block, n):
    codes = torch.stack([packed >> 4, packed & 15], dim=1).view(-1).long()
    nb = absmax.numel()
    full = torch.zeros(nb * block, dtype=torch.long)
    full[: codes.numel()] = codes[: nb * block]
    vals = ftz(NF4[full].view(nb, block) * absmax.unsqueeze(1))
    return vals.view(-1)[:n]


def dynamic_map():
    """create_dynamic_map(signed=True) with linspace points start + step*k / end - step*(n-1-k) rounded once (torch 2.x)."""
    data = [0.0, 1.0]
    start = torch.tensor(0.1, dtype=F32).double()
    end = torch.tensor(1.0, dtype=torch.float64)
    for i in range(7):
        n = 2**i + 1
        step = ((torch.tensor(1.0, dtype=F32) - torch.tensor(0.1, dtype=F32)) / (n - 1)).double()
        ks = torch.arange(n, dtype=torch.float64)
        pts = torch.where(ks < n // 2, start + step * ks, end - step * (n - 1 - ks)).to(F32)
        means = (pts[:-1] + pts[1:]) / 2.0
        scale = torch.tensor(10.0 ** (i - 6), dtype=F32)
        data += (scale * means).tolist() + (-(scale * means)).tolist()
    return torch.tensor(sorted(data), dtype=F32)


def installed_torch_dynamic_map():
    """bitsandbytes' create_dynamic_map as written, with this torch's own linspace (for the record)."""
    data = []
    for i in range(7):
        b = torch.linspace(0.1, 1, 2**i + 1, dtype=F32)
        means = (b[:-1] + b[1:]) / 2.0
        data += ((10 ** (-6 + i)) * means).tolist() + ((-(10 ** (-6 + i))) * means).tolist()
    data += [0, 1.0]
    data.sort()
    return torch.tensor(data, dtype=F32)


def search_code(code, x):
    """dQuantize<0>: seven halving steps from pivot 127, then the nearer of pivot and neighbour by float32 midpoint."""
    pivot = torch.full(x.shape, 127, dtype=torch.long)
    upper_p = torch.full_like(pivot, 255)
    lower_p = torch.zeros_like(pivot)
    lower = torch.full_like(x, -1.0)
    upper = torch.full_like(x, 1.0)
    val = code[pivot]
    step = 64
    while step > 0:
        gt = x > val
        lower_p = torch.where(gt, pivot, lower_p)
        lower = torch.where(gt, val, lower)
        upper_p = torch.where(gt, upper_p, pivot)
        upper = torch.where(gt, upper, val)
        pivot = torch.where(gt, pivot + step, pivot - step)
        val = code[pivot]
        step //= 2
    upper = torch.where(upper_p == 255, code[255].expand_as(upper), upper)
    lower = torch.where(lower_p == 0, code[0].expand_as(lower), lower)
    gt = x > val
    up = torch.where(x > (upper + val) * 0.5, upper_p, pivot)
    down = torch.where(x < (lower + val) * 0.5, lower_p, pivot)
    return torch.where(gt, up, down).to(torch.uint8)


def blockwise8_quantize(x, block, code):
    n = x.numel()
    blocks = pad_blocks(x, block)
    absmax = kernel_absmax(blocks)
    scaled = ftz(blocks) * kernel_scale(absmax).unsqueeze(1)
    return search_code(code, scaled.view(-1))[:n], absmax


def blockwise8_dequantize(q, absmax, block, code):
    n = q.numel()
    idx = torch.arange(n) // block
    return ftz(code[q.long()] * absmax[idx])


def nf4_double_quant(absmax, code):
    offset = absmax.double().mean().to(F32)
    q, absmax2 = blockwise8_quantize(absmax - offset, 256, code)
    return q, absmax2, offset


def q8_0_quantize(x):
    blocks = pad_blocks(x, 32)
    amax = blocks.abs().max(dim=1).values
    d = amax / 127
    idd = torch.where(d != 0, torch.tensor(1.0, dtype=F32) / d, torch.zeros_like(d))
    x0 = (blocks * idd.unsqueeze(1)).double()
    q = (torch.sign(x0) * torch.floor(x0.abs() + 0.5)).to(torch.int8)  # roundf: halves away from zero
    dh = d.half().view(torch.int16).numpy().astype('<i2').tobytes()
    out = bytearray()
    qb = q.numpy().tobytes()
    for b in range(blocks.shape[0]):
        out += dh[2 * b: 2 * b + 2] + qb[32 * b: 32 * b + 32]
    return bytes(out)


def q8_0_dequantize(data, n):
    out = [torch.zeros(0, dtype=F32)]
    for b in range(len(data) // 34):
        d = torch.frombuffer(bytearray(data[34 * b: 34 * b + 2]), dtype=torch.float16).float()
        q = torch.frombuffer(bytearray(data[34 * b + 2: 34 * b + 34]), dtype=torch.int8).float()
        out.append(q * d)
    return torch.cat(out)[:n]


def f32_bytes(t):
    return t.contiguous().numpy().astype('<f4').tobytes()


def nf4_edge_values():
    t = NF4_TREE_THRESHOLDS.tolist()
    ulp_up = lambda v: torch.nextafter(torch.tensor(v, dtype=F32), torch.tensor(2.0, dtype=F32)).item()
    ulp_down = lambda v: torch.nextafter(torch.tensor(v, dtype=F32), torch.tensor(-2.0, dtype=F32)).item()
    nan, inf = float('nan'), float('inf')

    def near_thresholds(amax, step):
        xs = [torch.tensor(v * amax, dtype=F32).item() for v in t]
        return [amax] + xs + [step(v) for v in xs] + [0.0]

    blocks = [
        [0.0] * 32,                                                     # all zeros
        [0.001 * (k - 16) for k in range(32)],                          # small mixed signs ...
        [1.0] + t + [ulp_up(v) for v in t] + [-1.0],                    # absmax 1: every threshold exactly, and one ulp above
        [2.0] + [2 * v for v in t] + [ulp_down(2 * v) for v in t] + [0.0],  # absmax 2 (exact scale 0.5)
        [0.5, nan, -0.25, 0.125] + [0.01 * k for k in range(28)],       # NaN among finite values
        [inf, 1.0, -1.0, -inf] + [0.5] * 28,                            # infinities
        [nan] * 32,                                                     # a full block of NaN
        [1e-40, -1e-40, 0.0, 2.0**-149] + [0.0] * 28,                   # subnormals only
        [2.0**-126, 2.0**-127, -(2.0**-126), 2.0**-125] + [0.0] * 28,   # smallest normals and a subnormal
        [-3.0, 1.0, -1.5, 2.9999998] + [-0.1 * k for k in range(28)],   # absmax from a negative value
        near_thresholds(0.7, ulp_up),                                   # absmax 0.7 (inexact reciprocal): x = T·0.7 and one ulp up
        near_thresholds(3.3, ulp_down),                                 # absmax 3.3: x = T·3.3 and one ulp down
        [0.5, -0.25, 0.3, -0.7, 0.0, 0.1, 0.9],                         # partial last block, odd length
    ]
    blocks[1][7] = 8.0                                                  # ... with one large value
    return torch.tensor([v for b in blocks for v in b], dtype=F32)


def q8_0_edge_values():
    def near_halves(amax):
        d = torch.tensor(abs(amax), dtype=F32) / 127
        xs = [(torch.tensor(k + 0.5, dtype=F32) * d) for k in range(10)]
        up = [torch.nextafter(x, torch.tensor(1e9, dtype=F32)) for x in xs]
        down = [torch.nextafter(x, torch.tensor(-1e9, dtype=F32)) for x in xs]
        return [amax] + [v.item() for v in xs + up + down]

    blocks = [
        [0.0] * 32,                                                          # all zeros: d = 0, id = 0
        [127.0, 2.5, -2.5, 0.5, -0.5, 126.5, -126.5, 1.5, -1.5] + [0.0] * 23,  # d = 1: exact halves round away from 0
        [-254.0, 3.0, -3.0, 1.0, -1.0, 5.0] + [7.0] * 26,                    # amax from a negative value, d = 2
        [1e-7 * (k - 16) for k in range(32)],                                # d in fp16's subnormal range
        [1e-12] + [0.0] * 31,                                                # d below fp16: stored as 0
        [8.3e6, -1.0] + [4096.0 * k for k in range(30)],                     # d near fp16's largest finite
        near_halves(1.7),                                                    # inexact id: x = (k + 1/2)·d and neighbours
        near_halves(-0.3),
        [0.1, -0.2, 0.3],                                                    # partial last block
    ]
    return torch.tensor([v for b in blocks for v in b], dtype=F32)


def main():
    torch.set_num_threads(1)
    code = dynamic_map()
    installed = installed_torch_dynamic_map()
    manifest = {
        'generator': 'generate.py',
        'torch': torch.__version__,
        'nf4Code': bits(NF4),
        'nf4Thresholds': bits(NF4_TREE_THRESHOLDS),
        'dynamic8BitMap': bits(code),
        'installedTorchDynamicMapDiffers': int((installed.view(torch.int32) != code.view(torch.int32)).sum()),
        'cases': [],
    }
    files = {}

    def put(name, data):
        files[name] = data
        return {'file': name, 'sha256': sha256(data)}

    def nf4_case(name, x, block, double_quant, inputs):
        packed, absmax = nf4_quantize(x, block)
        case = {'name': name, 'kind': 'nf4', 'blockSize': block, 'length': x.numel(), 'inputs': inputs,
                'packed': put(f'{name}.packed.bin', packed.numpy().tobytes())}
        if double_quant:
            q, absmax2, offset = nf4_double_quant(absmax, code)
            case['doubleQuant'] = {'quantized': put(f'{name}.absmax-q.bin', q.numpy().tobytes()),
                                   'absmax': put(f'{name}.absmax2.bin', f32_bytes(absmax2)),
                                   'offset': hex_f32(offset.item())}
            absmax = blockwise8_dequantize(q, absmax2, 256, code) + offset
        else:
            case['absmax'] = put(f'{name}.absmax.bin', f32_bytes(absmax))
        out = nf4_dequantize(packed, absmax, block, x.numel())
        case['dequantizedSha256'] = sha256(f32_bytes(out))
        manifest['cases'].append(case)

    stream = lambda seed, length, scale, every=0, outlier=1.0: (
        stream_values(seed, length, scale, every, outlier),
        {'stream': {'seed': seed, 'length': length, 'scale': scale, 'outlierEvery': every, 'outlierScale': outlier}},
    )

    x, spec = stream(1, 300 * 200, 0.02, 97, 20.0)
    nf4_case('nf4-bs64', x, 64, False, spec)
    nf4_case('nf4-bs64-dq', x, 64, True, spec)
    x, spec = stream(2, 12345, 1.0, 13, 100.0)
    nf4_case('nf4-bs32-odd', x, 32, False, spec)
    x, spec = stream(3, 70001, 0.05, 1000, 30.0)
    nf4_case('nf4-bs4096-dq', x, 4096, True, spec)
    x, spec = stream(7, 128 * 600 + 77, 0.01, 0, 1.0)
    nf4_case('nf4-bs128-dq', x, 128, True, spec)
    edge = nf4_edge_values()
    nf4_case('nf4-edge-bs32', edge, 32, False, {'bits': bits(edge)})
    for name, vals in [('nf4-partial-nan', [float('nan')] * 3), ('nf4-partial-zeros', [0.0] * 3), ('nf4-single', [1.5])]:
        t = torch.tensor(vals, dtype=F32)
        nf4_case(name, t, 64, False, {'bits': bits(t)})

    x, spec = stream(4, 5000, 0.5, 37, 8.0)
    q, absmax = blockwise8_quantize(x, 256, code)
    manifest['cases'].append({'name': 'blockwise8-bs256', 'kind': 'blockwise8', 'blockSize': 256, 'length': 5000, 'inputs': spec,
                              'quantized': put('blockwise8-bs256.q.bin', q.numpy().tobytes()),
                              'absmax': put('blockwise8-bs256.absmax.bin', f32_bytes(absmax)),
                              'dequantizedSha256': sha256(f32_bytes(blockwise8_dequantize(q, absmax, 256, code)))})

    def q8_case(name, x, inputs):
        data = q8_0_quantize(x)
        manifest['cases'].append({'name': name, 'kind': 'q8_0', 'length': x.numel(), 'inputs': inputs,
                                  'blocks': put(f'{name}.bin', data),
                                  'dequantizedSha256': sha256(f32_bytes(q8_0_dequantize(data, x.numel())))})

    x, spec = stream(5, 300 * 200, 0.02, 97, 20.0)
    q8_case('q8_0-normal', x, spec)
    x, spec = stream(6, 1000, 3.0, 0, 1.0)
    q8_case('q8_0-odd', x, spec)
    edge = q8_0_edge_values()
    q8_case('q8_0-edge', edge, {'bits': bits(edge)})

    for name, data in files.items():
        (HERE / name).write_bytes(data)
    (HERE / 'manifest.json').write_text(json.dumps(manifest, indent=1) + '\n')
    print(f"wrote manifest.json and {len(files)} files; this torch's own linspace gives a dynamic map differing in "
          f"{manifest['installedTorchDynamicMapDiffers']} entries")


if __name__ == '__main__':
    main()
