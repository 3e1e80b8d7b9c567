"""Writes adapter_model.bin: the llama1-tiny-lora fixture's tensors saved with torch.save, as PEFT before 0.3 did.

Run with Debian's python3-torch (no safetensors package needed: the safetensors file is parsed here):
    /usr/bin/python3 make_adapter_bin.py ../llama1-tiny-lora
"""
import json
import shutil
import struct
import sys
from pathlib import Path

import numpy as np
import torch

source = Path(sys.argv[1])
here = Path(__file__).parent
raw = (source / "adapter_model.safetensors").read_bytes()
(header_len,) = struct.unpack("<Q", raw[:8])
header = json.loads(raw[8 : 8 + header_len])
data = raw[8 + header_len :]
state_dict = {}
for name, info in header.items():
    if name == "__metadata__":
        continue
    assert info["dtype"] == "F32", (name, info["dtype"])
    start, end = info["data_offsets"]
    array = np.frombuffer(data[start:end], dtype="<f4").reshape(info["shape"])
    state_dict[name] = torch.from_numpy(array.copy())

torch.save(state_dict, here / "adapter_model.bin")
shutil.copyfile(source / "adapter_config.json", here / "adapter_config.json")

# Check: torch reads back the same bits.
loaded = torch.load(here / "adapter_model.bin")
assert list(loaded) == list(state_dict)
for name, tensor in state_dict.items():
    assert torch.equal(loaded[name], tensor), name
print(f"wrote {len(state_dict)} tensors with torch {torch.__version__}")
