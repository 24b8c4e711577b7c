"""The similarity check against copydetect (and Dolos when node can install it).

Part 1, detection: synthetic backprop classes (``autograder.similarity.synthetic``:
independent solutions dealt to honest students, one planted copy per
disguise: renamed, reordered, reformatted, dead code added, all four). Each
tool ranks every pair; reported: where the planted pairs rank, the lowest
planted score, the highest honest score, and how many honest pairs reach our
"look closer" threshold. copydetect 0.5.0 gets the same code ours reads (each
student's gap functions, one file per student) with the release's versions
as boilerplate, and its defaults (noise 25, guarantee 30 characters); a pair
scores the larger of its two similarities. Dolos (``@dodona/dolos-lib``,
installed into ``benchmarks/dolos/node_modules`` by ``npm ci``) gets the same
files and boilerplate when it is installed, and ignores fingerprints found in
more than half of the files (``maxFingerprintPercentage``, as ours does);
copydetect has no such option.

Part 2, scale: ours at 100, 300 and 1,000 students (all pairs) on a local
Dask cluster of ``--jobs`` workers, split into its phases, against copydetect
on the same classes in the same run where it finishes in reasonable time
(``--copydetect-max``).

    python benchmarks/bench_similarity.py --jobs 2
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograder.similarity import extract, synthetic  # noqa: E402
from autograder.similarity.report import THRESHOLD  # noqa: E402
from autograder.similarity.run import similarity_check  # noqa: E402

DISGUISES = [("rename",), ("reorder",), ("reformat",), ("dead_code",),
             ("rename", "reorder", "reformat", "dead_code")]
DOLOS_DIR = Path(__file__).resolve().parent / "dolos"
DOLOS_SCRIPT = r"""
const { Dolos } = require("@dodona/dolos-lib");
(async () => {
  const [ignore, ...files] = process.argv.slice(2);
  const dolos = new Dolos({ language: "python", maxFingerprintPercentage: 0.5 });
  const report = await dolos.analyzePaths(files, ignore);
  const out = report.allPairs().map(p => [p.leftFile.path, p.rightFile.path, p.similarity]);
  console.log(JSON.stringify(out));
})().catch(e => { console.error(e); process.exit(1); });
"""


def unit_files(course: Path, folder: Path) -> tuple[list[str], Path]:
    """One file per student holding the source of their units (what ours reads),
    and the release's units as the boilerplate file; returns (students, boilerplate)."""
    spec = extract.assignment_spec(course, synthetic.ASSIGNMENT)
    folder.mkdir(parents=True, exist_ok=True)
    names = extract.list_students(course)
    (folder / "students").mkdir(exist_ok=True)
    for name in names:
        sub = extract.read_submission(course, name, spec)
        text = "\n\n".join(u.text for _, u in sorted(sub.units.items()))
        (folder / "students" / f"{name}.py").write_text(text + "\n")
    (folder / "boilerplate").mkdir(exist_ok=True)
    stub = "\n\n".join(u.text for _, u in sorted(spec.stubs.items()))
    (folder / "boilerplate" / "release.py").write_text(stub + "\n")
    return names, folder / "boilerplate"


def copydetect_scores(folder: Path, boilerplate: Path) -> tuple[dict, float]:
    from copydetect import CopyDetector

    t0 = time.perf_counter()
    detector = CopyDetector(test_dirs=[str(folder / "students")],
                            boilerplate_dirs=[str(boilerplate)], extensions=["py"],
                            display_t=0.0, autoopen=False, silent=True,
                            out_file=str(folder / "copydetect.html"))
    detector.run()
    seconds = time.perf_counter() - t0
    names = [Path(f).stem for f in detector.test_files]
    sim = detector.similarity_matrix
    out = {}
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            out[frozenset((names[i], names[j]))] = float(max(sim[i, j, 0], sim[i, j, 1], 0))
    return out, seconds


def dolos_scores(folder: Path, boilerplate: Path) -> tuple[dict | None, float, str]:
    if not (DOLOS_DIR / "node_modules" / "@dodona" / "dolos-lib").is_dir():
        return None, 0.0, "not installed (cd benchmarks/dolos && npm ci)"
    files = sorted(str(p) for p in (folder / "students").glob("*.py"))
    t0 = time.perf_counter()
    done = subprocess.run(["node", "-e", DOLOS_SCRIPT, str(boilerplate / "release.py"), *files],
                          cwd=DOLOS_DIR,
                          capture_output=True, text=True, timeout=3600)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        return None, seconds, f"failed: {done.stderr.strip().splitlines()[-1:]}"
    pairs = json.loads(done.stdout)
    return ({frozenset((Path(a).stem, Path(b).stem)): float(s) for a, b, s in pairs},
            seconds, "ok")


def ours_scores(course: Path, client) -> tuple[dict, float, object]:
    t0 = time.perf_counter()
    result = similarity_check(course, synthetic.ASSIGNMENT, client=client, top=10)
    return ({frozenset((p.a, p.b)): p.score for p in result.pairs},
            time.perf_counter() - t0, result)


def detection_row(tool: str, scores: dict, truth, names: list[str]) -> dict:
    planted = truth.planted_pairs()
    everything = [scores.get(frozenset((a, b)), 0.0)
                  for i, a in enumerate(names) for b in names[i + 1:]]
    honest = [scores.get(frozenset((a, b)), 0.0) for i, a in enumerate(names)
              for b in names[i + 1:] if frozenset((a, b)) not in planted]
    mine = [scores.get(p, 0.0) for p in planted]
    # A tie with an honest pair counts against the tool.
    ranks = sorted(1 + sum(1 for h in honest if h >= s) + sum(1 for m in mine if m > s)
                   for s in mine)
    return {"tool": tool, "planted_ranks": ranks,
            "planted_on_top": min(mine) > max(honest),
            "planted_min": min(scores.get(p, 0.0) for p in planted),
            "honest_max": max(honest), "honest_p999": float(np.quantile(honest, 0.999)),
            "pairs": len(everything)}


def part_detection(work: Path, seeds: list[int], honest: int, client) -> list[dict]:
    rows = []
    for seed in seeds:
        course = work / f"detect-{seed}"
        truth = synthetic.make_class(course, honest, DISGUISES, seed=seed)
        names = extract.list_students(course)
        ours, t_ours, _ = ours_scores(course, client)
        row = detection_row("ours", ours, truth, names)
        row.update(seed=seed, seconds=t_ours,
                   honest_at_threshold=sum(1 for p, s in ours.items()
                                           if s >= THRESHOLD and p not in truth.planted_pairs()))
        rows.append(row)
        _, boilerplate = unit_files(course, work / f"files-{seed}")
        cd, t_cd = copydetect_scores(work / f"files-{seed}", boilerplate)
        rows.append(dict(detection_row("copydetect 0.5.0", cd, truth, names), seed=seed,
                         seconds=t_cd))
        dolos, t_dolos, status = dolos_scores(work / f"files-{seed}", boilerplate)
        if dolos is not None:
            rows.append(dict(detection_row("Dolos 3.5.1", dolos, truth, names), seed=seed,
                             seconds=t_dolos))
        else:
            print(f"Dolos: {status}", file=sys.stderr)
    return rows


def part_scale(work: Path, sizes: list[int], jobs: int, copydetect_max: int) -> list[dict]:
    rows = []
    for n in sizes:
        course = work / f"scale-{n}"
        t0 = time.perf_counter()
        synthetic.make_class(course, n - 5, DISGUISES, seed=n)
        made = time.perf_counter() - t0
        result = similarity_check(course, synthetic.ASSIGNMENT, jobs=jobs, top=50)
        row = {"students": n, "pairs": result.all_pairs, "class_written_s": made,
               **{f"{k}_s": v for k, v in result.seconds.items()},
               "workers": result.workers, "pairs_sharing": len(result.pairs)}
        if n <= copydetect_max:
            _, boilerplate = unit_files(course, work / f"scale-files-{n}")
            _, row["copydetect_s"] = copydetect_scores(work / f"scale-files-{n}", boilerplate)
        rows.append(row)
        shutil.rmtree(course, ignore_errors=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=5, help="detection classes")
    parser.add_argument("--honest", type=int, default=60, help="honest students per class")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--copydetect-max", type=int, default=300,
                        help="largest class copydetect is timed on (it is O(n^2) in Python)")
    parser.add_argument("--json", type=Path, help="write the numbers here as well")
    parser.add_argument("--render", type=Path, metavar="JSON",
                        help="print the tables of a saved --json run instead of running")
    args = parser.parse_args(argv)
    if args.render:
        saved = json.loads(args.render.read_text())
        print(format_tables(saved["detection"], saved["scale"], args))
        return 0
    from distributed import Client

    work = Path(tempfile.mkdtemp(prefix="bench-similarity-"))
    try:
        with Client(processes=False, n_workers=1, threads_per_worker=1,
                    dashboard_address=None) as client:
            detection = part_detection(work, list(range(args.seeds)), args.honest, client)
        scale = part_scale(work, args.sizes, args.jobs, args.copydetect_max)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(format_tables(detection, scale, args))
    if args.json:
        args.json.write_text(json.dumps({"detection": detection, "scale": scale}, indent=1))
    return 0


def format_tables(detection: list[dict], scale: list[dict], args) -> str:
    lines = [f"Detection: {args.honest} honest students + {len(DISGUISES)} planted copies "
             f"per class, {args.seeds} classes (seeds 0..{args.seeds - 1})", "",
             "| seed | tool | planted ranks | planted on top | lowest planted | "
             "highest honest | honest 99.9th pct | honest >= threshold | seconds |",
             "|---:|---|---|---|---:|---:|---:|---:|---:|"]
    for r in detection:
        lines.append(f"| {r['seed']} | {r['tool']} | {r['planted_ranks']} | "
                     f"{'yes' if r['planted_on_top'] else 'no'} | {r['planted_min']:.3f} | "
                     f"{r['honest_max']:.3f} | {r['honest_p999']:.3f} | "
                     f"{r.get('honest_at_threshold', '')} | {r['seconds']:.2f} |")
    lines += ["", f"Scale: ours on a local cluster of {args.jobs} workers, all pairs", "",
              "| students | pairs | cluster start s | fingerprints s | pair counts s | "
              "top-50 regions s | total s | copydetect s | copydetect / ours |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in scale:
        cd = r.get("copydetect_s")
        ratio = "" if cd is None else f"{cd / r['total_s']:.1f}x"
        lines.append(f"| {r['students']} | {r['pairs']} | {r['cluster_s']:.1f} | "
                     f"{r['fingerprints_s']:.1f} | {r['pairs_s']:.2f} | {r['regions_s']:.1f} | "
                     f"{r['total_s']:.1f} | {'' if cd is None else f'{cd:.1f}'} | "
                     f"{ratio} |")
    if len(scale) > 1:
        a, b = scale[0], scale[-1]
        lines += ["", f"From {a['students']} to {b['students']} students "
                      f"({b['pairs'] / a['pairs']:.0f} times the pairs): total "
                      f"{b['total_s'] / a['total_s']:.1f} times, fingerprints "
                      f"{b['fingerprints_s'] / a['fingerprints_s']:.1f} times, pair counts "
                      f"{a['pairs_s']:.2f} s -> {b['pairs_s']:.2f} s."]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
