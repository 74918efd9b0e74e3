"""Shared helpers of the benchmark scripts (tools/bench-import, tools/bench-annotations).

Standard library only: the contenders that the benchmarks run as children of their own script
import this module too, and must not pay for anything heavy.

Measurement: each contender runs as its own child of a tiny wrapper process, which reaps it with
os.wait4, so the rusage is the contender's alone. Its ru_maxrss is the largest resident set of
any single process in the contender's tree (Linux folds reaped grandchildren in as a max, not a
sum). Units: 1 MB = 1,000,000 bytes.
"""
import os, platform, sqlite3, subprocess, sys
from pathlib import Path

MB = 1e6

# The measuring wrapper, a minimal Python (`-I -S`) that runs one contender and reports the
# contender's own os.wait4 rusage. It is needed because exec() records the hiwater RSS of the
# address space it replaces: a child spawned straight from the benchmark (a bigger process)
# would start with that process's peak. Through the wrapper, a child's ru_maxrss is exact
# whenever it exceeds the wrapper's ~8 MB (printed as the "RSS floor" of the measurement).
WRAPPER = """
import os, sys, time
out, err, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
actions = [(os.POSIX_SPAWN_OPEN, 1, out, flags, 0o644), (os.POSIX_SPAWN_OPEN, 2, err, flags, 0o644)]
start = time.perf_counter()
pid = os.posix_spawn(cmd[0], cmd, os.environ, file_actions=actions)
_, status, usage = os.wait4(pid, 0)
print(time.perf_counter() - start, usage.ru_maxrss * 1024, os.waitstatus_to_exitcode(status))
"""


def measure(cmd, log_prefix, prog="bench"):
    """Run cmd as one child; return (wall seconds, peak RSS bytes, stdout text).

    Exits (with the child's stderr) when the wrapper fails or the child exits non-zero; its
    stdout and stderr are kept in `log_prefix`.out and .err.
    """
    out, err = f"{log_prefix}.out", f"{log_prefix}.err"
    done = subprocess.run([sys.executable, "-I", "-S", "-c", WRAPPER, out, err, *map(str, cmd)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{prog}: measuring wrapper failed for {cmd[0]}:\n{done.stderr}")
    wall, rss, code = done.stdout.split()
    if int(code) != 0:
        sys.exit(f"{prog}: {' '.join(map(str, cmd))} exited with {code}:\n"
                 f"{Path(err).read_text()[-2000:]}{Path(out).read_text()[-2000:]}")
    return float(wall), int(rss), Path(out).read_text()


def rss_floor(log_prefix, prog="bench"):
    """The RSS the wrapper itself reports for a process that does nothing (`true`)."""
    return measure([_true()], log_prefix, prog)[1]


def _true():
    for candidate in ("/bin/true", "/usr/bin/true"):
        if os.access(candidate, os.X_OK):
            return candidate
    return "true"


def rotated(items, run):
    """items rotated by (run - 1): on ext4, creating files right after many deletions (the
    previous run's folders) is slower, and no contender should always be first to pay it."""
    items = list(items)
    shift = (run - 1) % len(items) if items else 0
    return items[shift:] + items[:shift]


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info(**extra):
    """CPU count and model, Python, SQLite and kernel versions, plus the caller's extras."""
    info = {"nproc": len(os.sched_getaffinity(0)), "cpu": cpu_model(),
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "kernel": platform.release()}
    info.update(extra)
    return info


def verdict(ok):
    return "PASS" if ok else "FAIL"
