#!/usr/bin/python3
"""The benchmark's report logic (bench/run_bench.py), without running a benchmark: ratios are
medians of pair ratios, a busy workload is measured again, a measure still spread after the last
attempt is refused and the README table shows its spread instead of figures, and the table is
written between its markers, atomically. Runs are kept in a history; the table takes each row from
the newest comparable run that did not refuse it."""
import os
import sys
import tempfile

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(ROOT, "bench"))
import run_bench  # noqa: E402

failures = []


def check(condition, what):
    if not condition:
        failures.append(what)


# Pairs: Anneal 10, 20, 30 against PyTorch 20, 20, 90 (times, lower is better): ratios 2, 1, 3.
row = run_bench.pair_row("w", "time", "us", [10, 20, 30], [20, 20, 90], False, 1.0, 2.0)
check(row["ratio"] == 2 and row["ratio_min"] == 1 and row["ratio_max"] == 3, "ratio is the median of pair ratios: %s" % row)
check(abs(row["anneal_spread"] - 1.0) < 1e-12, "spread is (max - min) / median: %s" % row["anneal_spread"])
check(run_bench.busy_sides(row) == ["anneal", "pytorch"], "both sides busy: %s" % run_bench.busy_sides(row))

# A workload whose first attempt spreads and second is quiet: measured twice, the quiet one kept.
attempts = []


def flaky():
    attempts.append(1)
    a = [100, 160, 100, 100, 100] if len(attempts) == 1 else [100, 104, 99, 101, 100]
    return [run_bench.pair_row("flaky", "samples/s", "1/s", a, [50] * 5, True, 1.0, 2.0)]


rows = run_bench.until_quiet(flaky, 3)
check(len(attempts) == 2, "a busy workload is measured again until quiet: %d attempts" % len(attempts))
check(rows[0]["attempts"] == 2 and not rows[0]["refused"], "the quiet attempt is kept: %s" % rows[0])
check(abs(rows[0]["ratio"] - 2.0) < 1e-12, "the kept attempt's ratio: %s" % rows[0]["ratio"])

# Always busy: three attempts, then refused.
attempts.clear()


def busy():
    attempts.append(1)
    return [run_bench.pair_row("busy", "samples/s", "1/s", [100, 150, 100, 100, 100], [50] * 5, True, 1.0, 2.0),
            run_bench.pair_row("busy", "real GFLOP/s", "GFLOP/s", [1, 1, 1, 1, 1], [1] * 5, True, 1.0, 2.0)]


rows = run_bench.until_quiet(busy, 3)
check(len(attempts) == 3, "at most --attempts measurements: %d" % len(attempts))
check(rows[0]["refused"] and rows[0]["attempts"] == 3, "still spread after the last attempt: refused: %s" % rows[0])
check(not rows[1]["refused"], "a measure within 15 %% is not refused with its neighbour: %s" % rows[1])

quiet = run_bench.pair_row("quiet MLP", "samples/s", "1/s", [1000, 1010, 990, 1000, 1005], [500] * 5, True, 41.0, 460.0)
quiet.update(attempts=1, refused=False)
result = {"started": "2026-12-03T12:30:00Z", "commit": "abc1234", "threads": 2, "repeats": 5, "attempts": 3,
          "cpu": {"model": "Test CPU", "isa": ["avx2"]}, "bf16_autocast_run": False, "sgemm_gflops_1024": 150.0,
          "rows": [rows[0], quiet]}
table = run_bench.readme_table([result])
lines = table.splitlines()
busy_line = [line for line in lines if line.startswith("| busy |")]
quiet_line = [line for line in lines if line.startswith("| quiet MLP |")]
check(len(busy_line) == 1 and "refused: rounds spread 50 % (Anneal) / 0 % (peer)" in busy_line[0]
      and "2.00" not in busy_line[0], "a refused row shows its spread, not its figures: %s" % busy_line)
check(len(quiet_line) == 1 and "2.00× (1.98–2.02)" in quiet_line[0] and "1 000" in quiet_line[0],
      "a quiet row shows its figures: %s" % quiet_line)
check("1 of the 2 measures below were **refused** in each of the 1 run(s) (up to 3 attempts in each)" in lines[0],
      "the header counts refusals: %s" % lines[0])
check("1. 2026-12-03 12:30 UTC, commit abc1234: 5 rounds, sgemm 150 GFLOP/s at 1024³." in lines,
      "the run is listed with its date, commit and sgemm ceiling: %s" % lines)

# A time shows its unit once: "5.36 µs", not the unit's code as well.
timed = run_bench.pair_row("lesson", "time per update", "us", [5.36] * 5, [112.0] * 5, False, 15.0, 240.0)
timed.update(attempts=1, refused=False)
timed_line = [line for line in run_bench.readme_table([dict(result, rows=[timed])]).splitlines()
              if line.startswith("| lesson |")]
check(len(timed_line) == 1 and "| 5.36 µs | PyTorch | 112 µs |" in timed_line[0] and " us" not in timed_line[0],
      "a time's unit is written once: %s" % timed_line)


# History: each row from the newest run that did not refuse it; newest, not best.
def measured(started, commit, anneal, refused, model="Test CPU"):
    row = run_bench.pair_row("MLP", "samples/s", "1/s", [anneal] * 5, [100] * 5, True, 40.0, 400.0)
    row.update(attempts=1, refused=refused)
    return dict(result, started=started, commit=commit, cpu={"model": model, "isa": ["avx2"]}, rows=[row])


old_good = measured("2026-12-01T09:00:00Z", "1111111", 300, False)
newer_good = measured("2026-12-02T09:00:00Z", "2222222", 200, False)
newest_busy = measured("2026-12-03T09:00:00Z", "3333333", 900, True)
other_cpu = measured("2026-12-02T12:00:00Z", "4444444", 500, False, model="Other CPU")
runs = run_bench.comparable_runs([old_good, newer_good, other_cpu, newest_busy], newest_busy)
check(runs == [old_good, newer_good, newest_busy], "only runs on the same CPU and settings, oldest first: %s" %
      [r["commit"] for r in runs])
picked = run_bench.table_rows(runs)
check(len(picked) == 1 and picked[0][1] == 1 and picked[0][0]["anneal"] == 200,
      "a row refused in the newest run comes from the newest run that kept it, not the best: %s" % (picked,))
lines = run_bench.readme_table(runs).splitlines()
check(any("2026-12-02 09:00 UTC, commit 2222222" in line for line in lines)
      and not any("1111111" in line or "3333333" in line for line in lines),
      "only the runs rows came from are listed: %s" % lines)
check(any(line.startswith("| MLP | samples/s | 200 |") and line.endswith("| 1 |") for line in lines),
      "the row names its run: %s" % lines)
check("refused" not in lines[0], "no refusal counted where an earlier run kept the measure: %s" % lines[0])
picked = run_bench.table_rows([old_good, measured("2026-12-04T09:00:00Z", "5555555", 100, False)])
check(picked[0][0]["anneal"] == 100 and picked[0][1] == 1, "a newer kept row replaces an older one: %s" % (picked,))
picked = run_bench.table_rows([newest_busy])
check(picked[0][0]["refused"] and picked[0][1] == 0, "refused in every run: the newest run's row: %s" % (picked,))
check(run_bench.comparable_runs([newest_busy, dict(newer_good, threads=1)], newest_busy) == [newest_busy],
      "a run with other threads is not comparable")
check(run_bench.comparable_runs([newest_busy, dict(old_good, quick=True)], newest_busy) == [newest_busy],
      "a --quick run is not comparable with a full one")
alone = dict(old_good, rows=[dict(old_good["rows"][0], pytorch=None, pytorch_values=[], ratio=None)])
check(run_bench.comparable_runs([alone, newer_good], newest_busy) == [newer_good, newest_busy],
      "a run without PyTorch is not comparable with runs against it")

# OPENBLAS_CORETYPE is cleared for both sides unless kept, and the table says which kernels ran.
# OpenBLAS's threads sleep as soon as a call returns, unless the environment says otherwise.
timeout = {"OPENBLAS_THREAD_TIMEOUT": "4"}
env, cleared = run_bench.measuring_env({"OPENBLAS_CORETYPE": "Haswell", "PATH": "/bin"}, False, "default")
check(cleared == "Haswell" and env == dict(timeout, PATH="/bin"), "a forced kernel set is cleared: %s %s" % (env, cleared))
env, cleared = run_bench.measuring_env({"OPENBLAS_CORETYPE": "Haswell"}, True, "default")
check(cleared is None and env == dict(timeout, OPENBLAS_CORETYPE="Haswell"), "--keep-blas-env keeps it: %s %s" % (env, cleared))
env, cleared = run_bench.measuring_env({"PATH": "/bin"}, False, "default")
check(cleared is None and env == dict(timeout, PATH="/bin"), "nothing to clear: %s %s" % (env, cleared))
env, _ = run_bench.measuring_env({"OPENBLAS_THREAD_TIMEOUT": "20"}, False, "default")
check(env == {"OPENBLAS_THREAD_TIMEOUT": "20"}, "a thread timeout the environment sets is kept: %s" % env)
# Both sides keep freed memory by default, after any tunables the environment already sets.
env, _ = run_bench.measuring_env({"PATH": "/bin"}, False)
check(env == dict(timeout, PATH="/bin", GLIBC_TUNABLES=run_bench.KEEP_FREED_MALLOC), "malloc keeps freed memory: %s" % env)
env, _ = run_bench.measuring_env({"GLIBC_TUNABLES": "glibc.cpu.x86_shstk=off"}, False)
check(env["GLIBC_TUNABLES"] == "glibc.cpu.x86_shstk=off:" + run_bench.KEEP_FREED_MALLOC,
      "tunables already set are kept: %s" % env)
check("mmap_threshold=33554432" in run_bench.KEEP_FREED_MALLOC and "trim_threshold=" in run_bench.KEEP_FREED_MALLOC,
      "the tunables name glibc's mmap and trim thresholds: %s" % run_bench.KEEP_FREED_MALLOC)
note = run_bench.environment_note({"malloc": "keep-freed"})
check("glibc's malloc keeping freed memory" in note, "the header says how malloc was set: %s" % note)
header = run_bench.readme_table([dict(result, openblas_core="Cooperlake", openblas_coretype_cleared="Haswell")]).splitlines()[0]
check("OpenBLAS ran its Cooperlake kernels, the ones it picks for this CPU (OPENBLAS_CORETYPE=Haswell in the environment "
      "was cleared for both sides)." in header, "the header says the kernel set was cleared: %s" % header)
header = run_bench.readme_table([dict(result, openblas_core="Cooperlake", openblas_thread_timeout="4")]).splitlines()[0]
check("OpenBLAS ran its Cooperlake kernels, and its threads slept as soon as a call returned (OPENBLAS_THREAD_TIMEOUT=4;"
      in header, "the header says how OpenBLAS's threads waited: %s" % header)
check(run_bench.settings(dict(result, openblas_thread_timeout="4")) != run_bench.settings(result),
      "runs with and without the thread timeout are not comparable")
header = run_bench.readme_table([dict(result, openblas_core="Haswell", openblas_coretype_kept="Haswell")]).splitlines()[0]
check("OpenBLAS ran its Haswell kernels, forced by OPENBLAS_CORETYPE=Haswell for both sides" in header,
      "the header says the kernel set was kept: %s" % header)

# A run is kept under its start time and read back oldest first.
with tempfile.TemporaryDirectory() as tmp:
    history = os.path.join(tmp, "history")
    path = run_bench.record_run(newest_busy, history)
    run_bench.record_run(old_good, history)
    check(os.path.basename(path) == "2026-12-03T090000Z.json", "a run's file is named by its start: %s" % path)
    loaded = run_bench.load_runs(history)
    check([r["commit"] for r in loaded] == ["1111111", "3333333"], "runs load oldest first: %s" % loaded)
    check(sorted(os.listdir(history)) == ["2026-12-01T090000Z.json", "2026-12-03T090000Z.json"],
          "no temporary file is left: %s" % os.listdir(history))
check(run_bench.load_runs(os.path.join(ROOT, "no-such-history")) == [], "no history yet: no runs")


def not_a_run(path):
    try:
        run_bench.load_run(path)
    except run_bench.NotARun as e:
        return str(e)
    return None


with tempfile.TemporaryDirectory() as tmp:
    for name, text, expected in [("missing.json", None, "cannot read it"), ("broken.json", "{", "not JSON"),
                                 ("other.json", '{"rows": []}', "missing cpu, threads, repeats, sgemm_gflops_1024"),
                                 ("list.json", "[]", "missing cpu")]:
        path = os.path.join(tmp, name)
        if text is not None:
            with open(path, "w") as f:
                f.write(text)
        message = not_a_run(path)
        check(message is not None and message.startswith(path) and expected in message,
              "a file that is not a run is refused, naming it: %s" % message)
commit = run_bench.measured_commit()
check(commit is None or commit.split("+")[0].isalnum(), "the measured commit is git's short hash: %s" % commit)

# The README is rewritten between its markers and nowhere else.
with tempfile.TemporaryDirectory() as tmp:
    os.makedirs(os.path.join(tmp, "bench"))
    readme = os.path.join(tmp, "README.md")
    with open(readme, "w") as f:
        f.write("before\n<!-- bench-table:begin -->\nold table\n<!-- bench-table:end -->\nafter\n")
    saved_root = run_bench.ROOT
    run_bench.ROOT = tmp
    try:
        run_bench.write_readme([result])
    finally:
        run_bench.ROOT = saved_root
    text = open(readme).read()
    check(text.startswith("before\n<!-- bench-table:begin -->\n`bash bench/run.sh` on Test CPU") and text.endswith("<!-- bench-table:end -->\nafter\n")
          and "old table" not in text, "the table replaces what stood between the markers")
    check(sorted(os.listdir(tmp)) == ["README.md", "bench"], "no temporary file is left: %s" % os.listdir(tmp))

if failures:
    print("\n".join("FAILED: " + f for f in failures))
    sys.exit(1)
print("bench report logic: all checks passed")
