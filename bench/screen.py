"""Screen benchmark: naive Detoxify (one predict() per story, truncated at 512
tokens, fp32 as published) against Braided's screen (whole story, overlapping
windows, batched across stories) in each engine SCREEN_QUANTIZE offers (torch
fp32, bf16, int8; ONNX Runtime fp32 and int8), in one run, on this machine.
`--compile` adds torch.compile (inductor) engines: minutes of compiling each.

The model has the real `unbiased` architecture (RobertaForSequenceClassification,
roberta-base dimensions: hidden 768, 12 layers, 12 heads, intermediate 3072,
16 outputs, vocabulary 50,265) with random weights built here, offline:
inference time depends on the architecture, not the weights. The tokenizer is a
byte-level BPE (RoBERTa's kind) trained here on generated stories, its size
chosen so that stories cost about 1.35 tokens per word, as English prose does
with roberta-base's tokenizer; the measured figure is printed.

The engines share one process and take turns, group of stories by group, the
order rotated each repetition, and the fastest repetition counts: the machine
may be shared, and load from elsewhere only ever slows a repetition down. Peak
memory is measured in a separate process per engine. Load average and the CPU
share each engine got are printed so the figures can be read honestly.

    make bench-screen            # or: .venv/bin/python bench/screen.py [--reps 3] [--compile]
                                 #     [--engines naive,braided-onnx-int8]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

LENGTHS = {50: 24, 300: 10, 2000: 4}  # words per story: stories per measurement
GROUP = 8  # stories the worker fetches and screens together
ENGINES = ["naive", "braided", "braided-bf16", "braided-int8", "braided-onnx", "braided-onnx-int8"]
PRECISION = {"braided": "none", "braided-bf16": "bf16", "braided-int8": "int8", "braided-onnx": "onnx",
             "braided-onnx-int8": "onnx-int8"}
# torch.compile (inductor, dynamic shapes) over a torch precision: not a setting (see the README).
COMPILED = {"braided-compile": "none", "braided-compile-bf16": "bf16", "braided-compile-int8": "int8"}
VOCAB_TOKENIZER = 880  # BPE merges: ~1.35 tokens per word on these stories
VOCAB_MODEL = 50265  # roberta-base's embedding table, for a realistic memory figure
GOALS = {2000: 1.0, 300: 2.5}  # issue 9: full coverage at naive's speed; 300-word stories never below 2.5×

WORDS = """the a and of to in my her his their our was were is it that with for on at as by from when then
but so because after before while we she he they i you me us them this those there here all one two three
mother father grandmother grandfather auntie uncle sister brother cousin daughter son friend partner wife
girlfriend neighbour teacher family kitchen market morning evening night summer winter rain river mountain city
village train station letter photograph recipe dumplings rice noodles adobo kimchi tea coffee bread festival
wedding funeral holiday lantern lunar new year language english tagalog korean japanese mandarin cantonese
vietnamese hindi remember remembered forgot told asked said laughed cried whispered carried cooked folded
waited walked learned taught understood belonged returned moved arrived left stayed hoped wondered
quietly slowly carefully finally suddenly always never sometimes almost together alone again still already
beautiful small quiet bright heavy warm cold old young new long short strange familiar gentle fierce
lesbian gay queer bisexual transgender nonbinary asian filipino filipina korean chinese japanese vietnamese
indian malaysian thai indonesian pacific islander mixed heritage diaspora immigrant community identity
coming out pride closet acceptance belonging grief joy shame courage tenderness distance homecoming
embroidered handwriting apartment neighbourhood conversation photographs celebration generations
grandparents translation pronunciation unspoken forgiveness inheritance ceremony scholarship""".split()


def story(rng: random.Random, words: int) -> str:
    out: list[str] = []
    cap = True
    while len(out) < words:
        w = rng.choice(WORDS)
        out.append(w.capitalize() if cap else w)
        cap = False
        r = rng.random()
        if r < 0.07:
            out[-1] += "."
            cap = True
        elif r < 0.11:
            out[-1] += ","
    return " ".join(out) + "."


def stories(words: int, n: int) -> list[str]:
    rng = random.Random(words)
    return [story(rng, words) for _ in range(n)]


# --- Building the model (parent) ------------------------------------------------------


def build(folder: Path) -> tuple[Path, Path]:
    import torch

    from services.moderation.checkpoints import build_model, build_tokenizer, save_checkpoint

    torch.manual_seed(0)
    rng = random.Random(1)
    hf = folder / "hf"
    tok = build_tokenizer(hf, [story(rng, 60) for _ in range(3000)], vocab_size=VOCAB_TOKENIZER)
    model = build_model(hf, tok, hidden=768, layers=12, heads=12, intermediate=3072, num_labels=16,
                        vocab_size=VOCAB_MODEL)
    # model_type names the local folder, so that Detoxify's own loader (the naive
    # engine) works offline too; Braided's loader would accept `roberta-base`.
    ckpt = save_checkpoint(folder / "unbiased-random.ckpt", model, model_type=str(hf))
    return ckpt, hf


# --- Engines --------------------------------------------------------------------------


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def settings_for(ckpt: Path, hf: Path, data: Path, quantize: str, **extra: str):  # noqa: ANN201 - Settings
    from braided.settings import Settings

    return Settings.from_env({"DETOXIFY_CHECKPOINT": str(ckpt), "DETOXIFY_HF_CONFIG": str(hf),
                              "SCREEN_QUANTIZE": quantize, "DATA_DIR": str(data)} | extra)


def load_engine(engine: str, ckpt: Path, hf: Path, data: Path):  # noqa: ANN201 - (screen fn, tokenizer, load s)
    started = time.monotonic()
    if engine == "naive":
        from detoxify import Detoxify

        detox = Detoxify(checkpoint=str(ckpt), huggingface_config_path=str(hf))

        def naive(batch: list[str]) -> list[dict[str, float]]:
            # Detoxify as commonly used: one predict() per story, which truncates at 512 tokens.
            return [{k: float(v) for k, v in detox.predict(t).items()} for t in batch]
        return naive, detox.tokenizer, time.monotonic() - started

    from services.moderation.screen import Policy, ScreenModel, screen_texts

    model = ScreenModel.load(settings_for(ckpt, hf, data, PRECISION.get(engine) or COMPILED[engine]))
    if engine in COMPILED:
        import torch
        import torch._inductor.config as inductor

        inductor.freezing = True  # weights as constants: lets inductor pre-pack them for oneDNN
        model.model = torch.compile(model.model, dynamic=True)
        screen_texts(model, stories(300, 2), [])  # the compile itself, counted in the load time
    # Random weights put every label near 0.5, which would cross the default
    # thresholds on every story and add the passage narrowing a real model runs
    # only on stories it flags (about one window each). Benign stories cross
    # none: measure that case.
    benign = Policy(hold={}, flag={})

    def braided(batch: list[str]) -> list[dict[str, float]]:
        return [r.scores for r in screen_texts(model, batch, [], benign)]
    return braided, model.tokenizer, time.monotonic() - started


def measure(ckpt: Path, hf: Path, data: Path, engine_names: list[str], threads: int, reps: int) -> dict:
    """All engines in one process, taking turns story group by story group, the
    order rotated each repetition; the fastest repetition counts. Load from
    other work on the machine then falls on every engine alike."""
    import torch

    torch.set_num_threads(threads)
    out: dict = {"lengths": {}, "scores": {}, "load_seconds": {}}
    engines = {}
    for e in engine_names:
        screen, tokenizer, seconds = load_engine(e, ckpt, hf, data)
        engines[e] = (screen, tokenizer)
        out["load_seconds"][e] = seconds
        print(f"  loaded {e} in {seconds:.1f} s (first load: ONNX engines export here)", flush=True)
    for words, n in LENGTHS.items():
        texts = stories(words, n)
        tokens = statistics.mean(len(engines["naive"][1](t, add_special_tokens=False, verbose=False)["input_ids"])
                                 for t in texts)
        best: dict[str, dict] = {}
        for screen, _ in engines.values():
            screen(texts[:1])  # warm-up
        for rep in range(reps):
            order = engine_names[rep % len(engine_names):] + engine_names[:rep % len(engine_names)]
            for e in order:
                screen = engines[e][0]
                t0, c0 = time.perf_counter(), _cpu()
                scores: list[dict[str, float]] = []
                for g in range(0, n, GROUP):
                    scores += screen(texts[g:g + GROUP])
                wall, cpu = time.perf_counter() - t0, _cpu() - c0
                if e not in best or wall < best[e]["wall"]:
                    best[e] = {"wall": wall, "stories_per_s": n / wall, "cpu_share": cpu / wall / threads}
                out["scores"].setdefault(e, {})[str(words)] = scores
            print(f"  {words}-word stories, repetition {rep + 1}/{reps} (load average {os.getloadavg()[0]:.2f})",
                  flush=True)
        for e in engine_names:
            out["lengths"].setdefault(e, {})[str(words)] = best[e] | {"tokens_per_story": tokens}
    return out


def _status_mb(field: str) -> float:
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith(field)).split()[1]) / 1024


def peak_memory(engine: str, ckpt: Path, hf: Path, data: Path, threads: int) -> dict[str, float]:
    """Peak RSS (MB) of a process that loads one engine and screens one group of
    2,000-word stories; its RSS after; and its load time (with the ONNX file
    cached under `data` by the parent, or exported here into a fresh `data`)."""
    import torch

    torch.set_num_threads(threads)
    screen, _, seconds = load_engine(engine, ckpt, hf, data)
    screen(stories(2000, GROUP))
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a child would
    # report its parent's peak.
    # The ONNX export runs in a process of its own: its peak is a child's.
    exporter = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"peak": _status_mb("VmHWM:"), "after": _status_mb("VmRSS:"), "load_seconds": seconds,
            "export_peak": exporter}


# --- Figures computed without inference -------------------------------------------------


def overlap_costs(ckpt: Path, hf: Path, data: Path) -> dict[int, float]:
    """Tokens scored per story token for 2,000-word stories at several overlaps:
    throughput falls in proportion."""
    from services.moderation.screen import ScreenModel

    costs = {}
    texts = stories(2000, 6)
    for ov in (0, 32, 64, 128):
        model = ScreenModel.load(settings_for(ckpt, hf, data, "none", SCREEN_WINDOW_OVERLAP=str(ov)))
        scored = sum(len(w) - 2 for t in texts for w, _, _ in model.windows(t))
        total = sum(len(model.tokenizer(t, add_special_tokens=False, verbose=False)["input_ids"]) for t in texts)
        costs[ov] = scored / total
        del model
    return costs


def padding_costs(ckpt: Path, hf: Path, data: Path) -> dict[int, float]:
    """Padded positions per real token in the batches the screen runs, per story
    length (stories screened GROUP at a time, as the worker does): what packing
    windows without padding could save at most."""
    from services.moderation.screen import ScreenModel, screen_texts

    model = ScreenModel.load(settings_for(ckpt, hf, data, "none"))
    real = padded = 0

    class Count:
        def __call__(self, input_ids, attention_mask):  # noqa: ANN001, ANN204 - the model's call
            nonlocal real, padded
            real += int(attention_mask.sum())
            padded += attention_mask.numel() - int(attention_mask.sum())
            return model_call(input_ids=input_ids[:, :2], attention_mask=attention_mask[:, :2])

    model_call, model.model = model.model, Count()
    out = {}
    for words in LENGTHS:
        real = padded = 0
        texts = stories(words, GROUP * 3)
        for g in range(0, len(texts), GROUP):
            screen_texts(model, texts[g:g + GROUP], [])
        out[words] = padded / real
    return out


def marker_drift(folder: Path, engines: list[str]) -> dict[str, dict[str, float]]:
    """Each engine's drift on a trained (tiny) model: the random-weight model's
    outputs sit near 0.5 and say little about how a trained model's scores move."""
    from services.moderation.checkpoints import train_marker_model
    from services.moderation.screen import ScreenModel, screen_texts

    ckpt, hf = train_marker_model(folder / "marker", "zorblat")
    rng = random.Random(5)
    texts = [story(rng, 300) + (" zorblat." if i % 2 else "") for i in range(40)]
    data = folder / "marker-data"
    fp32 = screen_texts(ScreenModel.load(settings_for(ckpt, hf, data, "none")), texts, [])
    out = {}
    for engine in engines:
        other = screen_texts(ScreenModel.load(settings_for(ckpt, hf, data, PRECISION[engine])), texts, [])
        diffs = [abs(x.scores[k] - y.scores[k]) for x, y in zip(fp32, other, strict=True) for k in x.scores]
        same = sum(x.label == y.label for x, y in zip(fp32, other, strict=True))
        out[engine] = {"max": max(diffs), "mean": statistics.mean(diffs), "labels_same": same / len(texts)}
    return out


# --- Parent ------------------------------------------------------------------------------


def child(engine: str, ckpt: Path, hf: Path, data: Path, threads: int) -> dict[str, float]:
    r = subprocess.run([sys.executable, __file__, "--memory", engine, "--ckpt", str(ckpt), "--hf", str(hf),
                        "--data", str(data), "--threads", str(threads)], capture_output=True, text=True, cwd=REPO)
    if r.returncode != 0:
        raise SystemExit(f"{engine} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--engines", help="comma-separated subset of " + ",".join(ENGINES + list(COMPILED)))
    parser.add_argument("--compile", action="store_true", help="add the torch.compile engines (slow to start)")
    parser.add_argument("--speed-only", action="store_true",
                        help="only the speed table: no memory, export, overlap, padding or drift figures")
    parser.add_argument("--memory")
    parser.add_argument("--ckpt")
    parser.add_argument("--hf")
    parser.add_argument("--data")
    args = parser.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"
    warnings.simplefilter("ignore")
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    if args.memory:
        print(json.dumps(peak_memory(args.memory, Path(args.ckpt), Path(args.hf), Path(args.data), args.threads)))
        return 0
    names = args.engines.split(",") if args.engines else ENGINES + (list(COMPILED) if args.compile else [])
    if names[0] != "naive" or any(e not in PRECISION and e not in COMPILED for e in names[1:]):
        parser.error("--engines: naive first, then any of " + ",".join(list(PRECISION) + list(COMPILED)))

    import torch

    from services.moderation import engines as engine_rules
    from services.moderation.screen.loading import _cpu_flags, resolve_precision

    began = time.monotonic()
    print(f"Screen benchmark: {os.cpu_count()} cores, torch {torch.__version__}, {args.threads} threads per "
          f"engine, load average at start {os.getloadavg()[0]:.2f}", flush=True)
    flags = _cpu_flags()
    print("CPU: " + ", ".join(f"{f} {'yes' if f in flags else 'no'}" for f in
                              ("amx_bf16", "amx_int8", "avx512_bf16", "avx512_vnni", "avx_vnni", "avx2")), flush=True)
    with tempfile.TemporaryDirectory(prefix="braided-bench-") as tmp:
        folder = Path(tmp)
        ckpt, hf = build(folder)
        data = folder / "data"
        print(f"model: RobertaForSequenceClassification, hidden 768, 12 layers, 12 heads, intermediate 3072, "
              f"16 outputs, vocab {VOCAB_MODEL} (tokenizer: byte-level BPE, {VOCAB_TOKENIZER} tokens, "
              f"trained here), random weights; checkpoint {ckpt.stat().st_size / 1e6:.0f} MB", flush=True)
        results = measure(ckpt, hf, data, names, args.threads, args.reps)
        full = not args.speed_only
        memory = {e: child(e, ckpt, hf, data, args.threads) for e in names if e not in COMPILED and full}
        first = {e: child(e, ckpt, hf, folder / f"fresh-{e}", args.threads)
                 for e in names if PRECISION.get(e, "").startswith("onnx") and full}
        costs = overlap_costs(ckpt, hf, data) if full else {}
        padding = padding_costs(ckpt, hf, data) if full else {}
        drifting = [e for e in names if e in PRECISION and e != "braided"]
        drift_marker = marker_drift(folder, drifting) if full else {}

    def best(engine: str, words: int) -> dict:
        return results["lengths"][engine][str(words)]

    print()
    header = f"{'words':>5}  {'engine':<21} {'stories/s':>9} {'× naive':>8} {'tokens read':>11} " \
             f"{'tok/story':>9} {'cpu share':>9}"
    print(header)
    print("-" * len(header))
    auto = "braided" + {"none": ""}.get(resolve_precision("auto"), "-" + resolve_precision("auto"))
    verdicts = []
    for words in LENGTHS:
        base = best("naive", words)
        for engine in names:
            b = best(engine, words)
            ratio = b["stories_per_s"] / base["stories_per_s"]
            read = min(1.0, 510 / b["tokens_per_story"]) if engine == "naive" else 1.0
            print(f"{words:>5}  {engine:<21} {b['stories_per_s']:>9.2f} {ratio:>7.2f}× {read:>10.0%} "
                  f"{b['tokens_per_story']:>9.0f} {b['cpu_share']:>8.0%}")
            if engine != "naive" and words in GOALS:
                ok = "meets" if ratio >= GOALS[words] else "BELOW"
                verdicts.append(f"  {words}-word, {engine}{' (auto)' if engine == auto else ''}: {ratio:.2f}× "
                                f"naive — {ok} {GOALS[words]}×")
    print()
    for engine in names:
        line = f"load {engine:<21} {results['load_seconds'][engine]:6.1f} s in the benchmark process"
        if engine in memory:
            line += f"; {memory[engine]['load_seconds']:.1f} s in a new process" + \
                    (" (ONNX file cached)" if engine in first else "")
        if engine in first:
            line += f"; {first[engine]['load_seconds']:.1f} s exporting into an empty cache"
        print(line)
    print()
    for engine, m in memory.items():
        print(f"memory {engine:<21} peak {m['peak']:6.0f} MB, resident after {m['after']:6.0f} MB   (a process "
              f"that loads it and screens {GROUP} 2,000-word stories)")
    for engine, m in first.items():
        print(f"memory {engine:<21} peak {m['peak']:6.0f} MB, resident after {m['after']:6.0f} MB when it "
              f"exports the model first; the export process it starts peaks at {m['export_peak']:.0f} MB")
    tpw = best(names[1], 2000)["tokens_per_story"] / 2000
    print(f"\ntokens per word (2,000-word stories): {tpw:.2f}")
    print("window overlap → tokens scored per story token (2,000-word stories; throughput falls in proportion):")
    print("  " + ", ".join(f"overlap {ov}: {c:.3f}" for ov, c in costs.items()))
    print(f"padding → padded positions per real token in the screen's batches ({GROUP} stories at a time; the "
          "most packing could save):")
    print("  " + ", ".join(f"{w} words: {c:.3f}" for w, c in padding.items()))

    if "braided" in names:
        fp = results["scores"]["braided"]
        for engine in [e for e in names if e not in ("naive", "braided")]:
            other = results["scores"][engine]
            diffs = [abs(a[k] - b[k]) for w in fp for a, b in zip(fp[w], other[w], strict=True) for k in a]
            d = drift_marker.get(engine)
            tiny = f"trained tiny model: max {d['max']:.4f}, mean {d['mean']:.4f}, same label " \
                   f"{d['labels_same']:.0%}" if d else "trained tiny model: not measured in this run"
            print(f"drift vs fp32 {engine:<21} random-weight roberta-base: max {max(diffs):.4f}, mean "
                  f"{statistics.mean(diffs):.4f}; {tiny}")
        print("(random-weight outputs sit near 0.5: read those with care)")
    print("\nSCREEN_QUANTIZE=auto: " + "; ".join(
        f"{kind} → {engine_rules.auto_choice(set(f))}" for kind, f in
        (("AMX CPUs", {"amx_bf16", "amx_int8", "avx512_vnni"}), ("VNNI without AMX", {"avx512_vnni"}),
         ("neither", {"avx2"}))) + f"; here it picks {resolve_precision('auto')!r}")
    print(f"\nstories/s: wall clock, fastest of {args.reps} interleaved repetitions; cpu share well under 100% "
          "means other work on the machine took the rest.")
    print("\nGoals (issue 9):")
    print("\n".join(verdicts))
    print(f"\nload average at end {os.getloadavg()[0]:.2f}; total {time.monotonic() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
