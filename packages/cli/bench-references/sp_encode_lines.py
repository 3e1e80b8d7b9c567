"""Usage: /usr/bin/python3 sp_encode_lines.py TOKENIZER_MODEL LINES_FILE WARMUP ROUNDS [IDS_OUT]
(needs Debian python3-sentencepiece). The SentencePiece C++ peer of `llamats bench tokenizer`.
LINES_FILE holds one text per line: the first WARMUP lines warm up a processor that is then dropped; the rest are
encoded one line at a time, ROUNDS times, each round by a freshly loaded processor (cold), timing encode only. The
lines go to C++ in one call (`encode(list, num_threads=1)`: one thread, like the JS encoders, and no Python call per
line, which would otherwise cost the peer about a third of its speed).
Prints one JSON line; IDS_OUT gets the ids of the measured lines (one JSON array per line) to compare exactness."""
import json, sys, time, sentencepiece as spm

model, lines_file, warmup, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
ids_out = sys.argv[5] if len(sys.argv) > 5 else None
with open(lines_file, encoding="utf-8") as f:
    lines = f.read().split("\n")
if lines and lines[-1] == "":
    lines.pop()
warm, measured = lines[:warmup], lines[warmup:]
spm.SentencePieceProcessor(model_file=model).encode(warm, num_threads=1)
seconds, tokens, ids = [], 0, None
for _ in range(rounds):
    sp = spm.SentencePieceProcessor(model_file=model)
    start = time.perf_counter()
    out = sp.encode(measured, num_threads=1)
    seconds.append(time.perf_counter() - start)
    tokens = sum(len(x) for x in out)
    ids = ids or out
if ids_out:
    with open(ids_out, "w", encoding="utf-8") as f:
        f.write("\n".join(json.dumps(x) for x in ids) + "\n")
print(json.dumps({"peer": "sentencepiece " + spm.__version__ + " (C++, Python binding)", "lines": len(measured),
                  "tokens": tokens, "seconds": seconds, "tokens_per_s": tokens / min(seconds)}))
