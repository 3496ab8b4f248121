"""Benchmark: reading a Pile-like ``.jsonl.zst`` with segpile_lab vs. Polars and zstandard alone.

Generates a Pile-like shard (22 subsets, word-salad documents with JSON escapes, non-ASCII
``\\uXXXX`` escapes and emoji surrogate pairs, lengths drawn around the published mean document
sizes, scaled down) and times, each in its own subprocess so that peak RSS is separate:

  a   polars.read_ndjson on the decompressed ``.jsonl`` (explicit schema) — parsing only
  a2  polars.read_ndjson on the ``.jsonl.zst`` itself (Polars decompresses it in memory)
  b   python-zstandard streaming decompression alone (no parsing)
  c1  sl.read_pile on the ``.jsonl.zst``
  c2  sl.iter_pile_batches on the ``.jsonl.zst`` into sl.CompositionStats
  s1-s5  stages of c1: its background thread alone (decompress, cut, count keys); Polars
      parsing text already in memory in 4 MiB, 16 MiB and one call; and the background
      thread plus a bare read_ndjson per chunk (c1 without its parse-side checks)
  s6  the ceiling of c1's design: decompress and cut in a thread (no key counts), a bare
      read_ndjson per 16 MiB chunk, every frame kept (c1 with no checks and no columns added)
  s7  Polars' own streaming reader: scan_ndjson(.jsonl.zst).collect_batches(), frames kept
  h1-h3  peak RSS on a second file holding one huge line (``--huge-mib``, default 512 MiB of
      text between a few normal documents, as a decompression bomb or a damaged file would):
      Polars (which must hold it), and read_pile with the default ``max_line_bytes`` (256 MiB)
      and with 16 MiB, which skip it while it streams by

MB/s are uncompressed megabytes (10^6 bytes) per second. Usage::

    python benchmarks/bench_pile_reader.py            # 512 MB, writes results/pile_reader.json
    python benchmarks/bench_pile_reader.py --mb 50    # quick
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "pile_reader.json"
CASES = {
    "a": "polars.read_ndjson(.jsonl)",
    "a2": "polars.read_ndjson(.jsonl.zst)",
    "b": "zstandard stream decompression only",
    "c1": "sl.read_pile(.jsonl.zst)",
    "c2": "sl.iter_pile_batches(.jsonl.zst) + stats",
    # stages of c1, to see where its time goes (s2-s4 time only the parse of in-memory text)
    "s1": "decompress+cut+count keys (c1's thread)",
    "s2": "read_ndjson of the text, 4 MiB calls",
    "s3": "read_ndjson of the text, 16 MiB calls",
    "s4": "read_ndjson of the text, one call",
    "s5": "s1 in a thread + read_ndjson per chunk",
    "s6": "c1's design with no checks (ceiling)",
    "s7": "polars scan_ndjson(.zst) batches",
}
HUGE_CASES = {
    "h1": "polars.read_ndjson(.zst), one huge line",
    "h2": "sl.read_pile, max_line_bytes 256 MiB",
    "h3": "sl.read_pile, max_line_bytes 16 MiB",
}
# fmt: off
WORDS = [
    "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be",
    "by", "on", "not", "he", "this", "are", "or", "his", "which", "but", "have", "an", "they",
    "protein", "cell", "patients", "court", "defendant", "theorem", "let", "function", "return",
    "café", "naïve", "Zürich", "€100", "日本語", "😀", "“quoted”", 'say "hi"', "C:\\path",
]
# fmt: on


def generate(path_jsonl: Path, path_zst: Path, megabytes: float, seed: int = 0) -> dict:
    """Write the same Pile-like data as plain JSON lines and as zstd (level 3)."""
    import zstandard

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import segpile_lab as sl

    composition = sl.published_composition()
    names = composition["component"].to_list()
    weights = composition["weight_percent"].to_list()
    # mean document sizes scaled into 0.5-20 KiB so that a sample holds every subset
    means = [min(max(kib * 1024 / 8, 500), 20_000) for kib in composition["mean_document_size_kib"]]
    rng = random.Random(seed)
    target = int(megabytes * 1e6)
    written = docs = 0
    compressor = zstandard.ZstdCompressor(level=3, write_checksum=True)
    with (
        open(path_jsonl, "wb") as plain,
        open(path_zst, "wb") as raw,
        compressor.stream_writer(raw, closefd=False) as packed,
    ):
        batch = []
        while written < target:
            i = rng.choices(range(len(names)), weights)[0]
            n_words = max(1, int(rng.expovariate(1 / means[i]) / 6))
            text = " ".join(rng.choices(WORDS, k=n_words))
            line = json.dumps({"text": text, "meta": {"pile_set_name": names[i]}}) + "\n"
            batch.append(line.encode())
            written += len(batch[-1])
            docs += 1
            if len(batch) >= 2000:
                block = b"".join(batch)
                plain.write(block)
                packed.write(block)
                batch = []
        block = b"".join(batch)
        plain.write(block)
        packed.write(block)
    return {
        "documents": docs,
        "uncompressed_bytes": written,
        "compressed_bytes": path_zst.stat().st_size,
    }


def generate_huge(path_zst: Path, mib: int) -> dict:
    """A ``.jsonl.zst`` with 3 normal documents, one of `mib` MiB of text, then 3 more; written
    in 1 MiB pieces (the huge line is never held)."""
    import zstandard

    normal = [
        json.dumps({"text": f"doc {i}", "meta": {"pile_set_name": "Github"}}) for i in range(6)
    ]
    with open(path_zst, "wb") as fh, zstandard.ZstdCompressor(level=3).stream_writer(fh) as out:
        out.write(("\n".join(normal[:3]) + "\n").encode())
        out.write(b'{"text": "')
        for _ in range(mib):
            out.write(b"x" * (1 << 20))
        out.write(b'", "meta": {"pile_set_name": "Books3"}}\n')
        out.write(("\n".join(normal[3:]) + "\n").encode())
    return {"huge_line_bytes": (mib << 20) + 48, "compressed_bytes": path_zst.stat().st_size}


def _whole_lines(pieces, target_bytes: int = 16 << 20):
    """Decompressed pieces regrouped into chunks of whole lines, with their line counts: the
    cutting of `iter_line_chunks` without its key counts (stage s6)."""
    import numpy as np

    from segpile_lab.pile._chunks import _NEWLINE, _Scanner

    scanner, parts, size = _Scanner(), [], 0
    for piece, *_ in pieces:
        cut = piece.rfind(b"\n") + 1
        if cut and size + len(piece) >= target_bytes:
            data = b"".join([*parts, piece[:cut]])
            yield data, scanner.count(np.frombuffer(data, dtype=np.uint8), _NEWLINE)
            parts, size = [piece[cut:]], len(piece) - cut
        else:
            parts.append(piece)
            size += len(piece)
    if parts:
        data = b"".join(parts)
        yield data, scanner.count(np.frombuffer(data, dtype=np.uint8), _NEWLINE)


def run_case(case: str, jsonl: str, zst: str) -> dict:
    """Time one case in this process; returns seconds, rows and peak RSS."""
    import polars as pl

    import segpile_lab as sl
    from segpile_lab.pile._background import prefetch
    from segpile_lab.pile._chunks import iter_line_chunks
    from segpile_lab.pile.containers import iter_decompressed

    schema = {"text": pl.String, "meta": pl.Struct({"pile_set_name": pl.String})}
    read_pile, iter_pile_batches = sl.read_pile, sl.iter_pile_batches  # imports done before timing
    chunk_mib = {"s2": 4, "s3": 16, "s4": 1 << 20}.get(case)
    if chunk_mib:  # the text in memory, cut at line ends, before the clock starts
        text = Path(jsonl).read_bytes()
        pieces = [chunk.data for chunk in iter_line_chunks([(text, 0, 0)], chunk_mib << 20)]
        del text

    def chunks():  # what c1's background thread produces
        return iter_line_chunks(iter_decompressed(zst), 16 << 20)

    usage = resource.getrusage(resource.RUSAGE_SELF)
    rss_before, cpu_before = usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime
    start = time.perf_counter()
    if case == "a":
        rows = pl.read_ndjson(jsonl, schema=schema).height
    elif case == "a2":
        rows = pl.read_ndjson(zst, schema=schema).height
    elif case == "b":
        import zstandard

        rows = 0
        with open(zst, "rb") as fh, zstandard.ZstdDecompressor().stream_reader(fh) as reader:
            while block := reader.read(1 << 20):
                rows += block.count(b"\n")
    elif case == "c1":
        rows = read_pile(zst, progress=False).height
    elif case == "c2":
        stats = sl.CompositionStats()
        for batch in iter_pile_batches(zst, batch_rows=8192, progress=False):
            stats.update(batch)
        rows = int(stats.to_frame()["documents"].sum())
    elif case == "s1":
        rows = sum(chunk.n_lines for chunk in chunks())
    elif chunk_mib:
        rows = sum(pl.read_ndjson(piece, schema=schema).height for piece in pieces)
    elif case == "s5":
        rows = sum(pl.read_ndjson(c.data, schema=schema).height for c in prefetch(chunks))
    elif case == "s6":
        kept = [  # the line counts are what line numbers would need; no column is added
            pl.read_ndjson(data, schema=schema)
            for data, _ in prefetch(lambda: _whole_lines(iter_decompressed(zst)))
        ]
        rows = pl.concat(kept, rechunk=False).height
    elif case == "s7":
        batches = pl.scan_ndjson(zst, schema=schema).collect_batches()
        rows = pl.concat(list(batches), rechunk=False).height
    elif case == "h1":
        rows = pl.read_ndjson(zst, schema=schema).height
    elif case in ("h2", "h3"):
        limit = 256 << 20 if case == "h2" else 16 << 20
        rows = read_pile(zst, progress=False, max_line_bytes=limit).height
    else:
        raise ValueError(case)
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime - cpu_before,  # all threads
        "rows": rows,
        "peak_rss_bytes": usage.ru_maxrss * 1024,
        "rss_after_imports": rss_before,
    }


def measure(jsonl: Path, zst: Path, repeat: int, cases: dict[str, str]) -> dict[str, dict]:
    """Best of `repeat` runs per case, each in a fresh subprocess (its own peak RSS); the cases
    take turns (a, a2, b, c1, c2, a, …) so that a burst of load on a shared machine does not
    fall on one case only."""
    runs: dict[str, list[dict]] = {case: [] for case in cases}
    for _ in range(repeat):
        for case in cases:
            out = subprocess.run(
                [sys.executable, __file__, "--run", case, str(jsonl), str(zst)],
                check=True,
                capture_output=True,
                text=True,
            )
            runs[case].append(json.loads(out.stdout.strip().splitlines()[-1]))
    results = {}
    for case, case_runs in runs.items():
        best = min(case_runs, key=lambda r: r["seconds"])
        best["all_seconds"] = [round(r["seconds"], 3) for r in case_runs]
        results[case] = best
        print(f"  {case}: {best['all_seconds']} s")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--mb", type=float, default=512, help="uncompressed size in MB (default 512)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; the best counts")
    parser.add_argument(
        "--huge-mib", type=int, default=512, help="the huge line of h1-h3 in MiB (default 512)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="JSON results file")
    parser.add_argument("--note", default="", help="a note on the run, e.g. 'loaded machine'")
    parser.add_argument("--workdir", type=Path, default=None, help="where to write the data")
    parser.add_argument("--run", nargs=3, metavar=("CASE", "JSONL", "ZST"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        print(json.dumps(run_case(*args.run)))
        return

    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        jsonl, zst = Path(tmp) / "bench.jsonl", Path(tmp) / "bench.jsonl.zst"
        t0 = time.perf_counter()
        data = generate(jsonl, zst, args.mb)
        print(
            f"generated {data['uncompressed_bytes'] / 1e6:.0f} MB "
            f"({data['documents']:,} documents, zstd {data['compressed_bytes'] / 1e6:.0f} MB) "
            f"in {time.perf_counter() - t0:.0f} s"
        )
        results = measure(jsonl, zst, args.repeat, CASES)
        huge_zst = Path(tmp) / "huge.jsonl.zst"
        huge = generate_huge(huge_zst, args.huge_mib)
        huge_results = measure(huge_zst, huge_zst, 1, HUGE_CASES)
    mb = data["uncompressed_bytes"] / 1e6
    for r in results.values():
        r["mb_per_s"] = mb / r["seconds"]
        r["vs_a"] = results["a"]["seconds"] / r["seconds"]
        r["vs_a2"] = results["a2"]["seconds"] / r["seconds"]
        r["peak_rss_vs_file"] = r["peak_rss_bytes"] / data["uncompressed_bytes"]
    header = (
        f"{'case':4} {'what':40} {'MB/s':>6} {'×(a)':>5} {'×(a2)':>5} {'CPU s':>6} "
        f"{'peak RSS MiB':>12} {'(imports)':>9} {'RSS/file':>8}"
    )
    print(header)
    print("-" * len(header))
    for case, r in results.items():
        print(
            f"{case:4} {CASES[case]:40} {r['mb_per_s']:6.0f} {r['vs_a']:5.2f} {r['vs_a2']:5.2f} "
            f"{r['cpu_seconds']:6.2f} {r['peak_rss_bytes'] / 2**20:12.0f} "
            f"{r['rss_after_imports'] / 2**20:9.0f} {r['peak_rss_vs_file']:8.2f}"
        )
    print(f"one {huge['huge_line_bytes'] / 2**20:.0f} MiB line between 6 documents:")
    for case, r in huge_results.items():
        r["peak_rss_vs_polars"] = r["peak_rss_bytes"] / huge_results["h1"]["peak_rss_bytes"]
        print(
            f"{case:4} {HUGE_CASES[case]:40} rows {r['rows']:3} {r['seconds']:6.2f} s "
            f"peak RSS {r['peak_rss_bytes'] / 2**20:6.0f} MiB ({r['peak_rss_vs_polars']:.2f}× h1)"
        )
    rows = {r["rows"] for c, r in results.items() if c != "b"}
    print(
        "(s1-s6: stages of c1; s2-s4 parse text already in memory, so their RSS means little; "
        "s6 is the most c1's design could reach, s7 what Polars streams natively)"
    )
    report = {
        "benchmark": "pile_reader",
        "what": CASES,
        "data": data,
        "results": results,
        "huge_line": {"what": HUGE_CASES, "data": huge, "results": huge_results},
        "consistent_row_counts": len(rows) == 1,
        "targets": {
            "read_pile_vs_polars_on_zst_file": results["c1"]["vs_a2"],
            "read_pile_vs_polars_on_decompressed_file": results["c1"]["vs_a"],
            "iter_pile_batches_peak_rss_vs_file": results["c2"]["peak_rss_vs_file"],
            "ceiling_of_this_design_vs_polars_on_zst_file": results["s6"]["vs_a2"],
            "huge_line_peak_rss_mib_default_limit": huge_results["h2"]["peak_rss_bytes"] / 2**20,
            "huge_line_peak_rss_vs_polars_default_limit": huge_results["h2"]["peak_rss_vs_polars"],
        },
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "note": f"load average {os.getloadavg()[0]:.1f} at the end (how busy the machine "
            "was); best of --repeat runs per case, the cases taking turns"
            + (f"; {args.note}" if args.note else ""),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
