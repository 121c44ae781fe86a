"""Shared helpers for the benchmarks: servers in their own process groups, /proc accounting,
a tiny JSON client for seeding, a keep-alive HTTP/1.1 load client (httpload), chat load
processes and ceiling servers (chatload, chat_ceilings), PostgreSQL and Redis for a run
(services) and table printing.

Lives in a package (bench/kit/) so that `make bench`, which runs every bench/*.py, skips it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
KINDRED = str(VENV_BIN / "kindred")
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


# ----------------------------------------------------------------------------- processes


def exit_on_sigterm() -> None:
    """Turn SIGTERM and SIGINT into SystemExit so that every finally: stops its servers
    (load processes ignore SIGINT, see ignore_sigint, and are told to quit by the parent)."""

    def handler(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def ignore_sigint() -> None:
    """For load processes: Ctrl-C reaches the whole process group; the parent cleans up."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kindred_env(data_dir: str, port: int, **extra: str) -> dict[str, str]:
    """Environment for `kindred serve` under load: no rate limits, no new-member holds."""
    env = dict(os.environ)
    env.update(
        KINDRED_DATA_DIR=data_dir,
        KINDRED_SITE_URL=f"http://127.0.0.1:{port}",
        KINDRED_RATE_LIMITS="off",
        KINDRED_NEW_MEMBER_POSTS="0",
        KINDRED_LINK_POSTS="0",
    )
    env.update(extra)
    return env


def spawn(argv: Sequence[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start a process in its own process group (so stop() takes its children too)."""
    log = tempfile.TemporaryFile()  # noqa: SIM115  (closed with the process object)
    proc = subprocess.Popen(
        list(argv), env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    proc.log = log  # type: ignore[attr-defined]
    return proc


def stop(proc: subprocess.Popen | None) -> None:
    """SIGTERM the process group, then SIGKILL whatever is left after 5 s."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def server_log(proc: subprocess.Popen, limit: int = 3000) -> str:
    log = proc.log  # type: ignore[attr-defined]
    log.seek(0)
    return log.read().decode(errors="replace")[-limit:]


def wait_http(proc: subprocess.Popen, port: int, path: str = "/", timeout: float = 30.0) -> None:
    """Poll until the server answers any HTTP status on `path`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early:\n{server_log(proc)}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not start in {timeout}s:\n{server_log(proc)}")


@contextlib.contextmanager
def running(argv: Sequence[str], port: int, env: dict | None = None, path: str = "/") -> Iterator:
    proc = spawn(argv, env)
    try:
        wait_http(proc, port, path)
        yield proc
    finally:
        stop(proc)


# ----------------------------------------------------------------------------- /proc


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def tree_pids(pid: int) -> list[int]:
    tree, out, todo = _children(), [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(tree.get(p, []))
    return out


def cpu_seconds(pids: Sequence[int]) -> float:
    """utime+stime of these processes (see /proc/<pid>/stat fields 14 and 15)."""
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def tree_cpu(pid: int) -> float:
    return cpu_seconds(tree_pids(pid))


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and its children."""
    total = 0
    for p in tree_pids(pid):
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * PAGE
        except OSError:
            continue
    return total


def self_cpu() -> float:
    t = os.times()
    return t.user + t.system


# ----------------------------------------------------------------------------- JSON client


def api(
    port: int,
    method: str,
    path: str,
    body: dict | None = None,
    token: str | None = None,
    timeout: float = 30,
) -> tuple[int, dict]:
    """One JSON request to 127.0.0.1 (seeding only, not load)."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=data, headers=headers, method=method
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else {}
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw)
        except ValueError:
            return exc.code, {"raw": raw[:200].decode(errors="replace")}


def fetch(port: int, path: str) -> bytes:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as resp:
        return resp.read()


PASSPHRASE = "lantern orchard velvet compass 42"


def signup(port: int, pseudonym: str) -> str:
    """A new member; returns the bearer token."""
    status, body = api(
        port,
        "POST",
        "/api/v1/signup",
        {"pseudonym": pseudonym, "passphrase": PASSPHRASE, "token": True},
    )
    if status != 201 or "token" not in body:
        raise RuntimeError(f"signup {pseudonym}: {status} {body}")
    return body["token"]


# ----------------------------------------------------------------------------- statistics


def pct(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted sequence (nan when empty)."""
    if not values:
        return float("nan")
    k = max(0, min(len(values) - 1, round(p / 100 * len(values) + 0.5) - 1))
    return values[k]


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], title: str = "") -> str:
    """A Markdown table (printed, and pasted into docs/performance.md as is)."""
    cells = [[_cell(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    lines = [f"\n{title}" if title else ""]
    lines.append("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in cells:
        first = r[0].ljust(widths[0])
        lines.append(
            "| "
            + " | ".join([first, *(c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True))])
            + " |"
        )
    text = "\n".join(lines)
    print(text, flush=True)
    return text


def _cell(value: object) -> str:
    if isinstance(value, float):
        if value != value:
            return "–"
        return (
            f"{value:,.0f}"
            if abs(value) >= 100
            else f"{value:.2f}"
            if value < 10
            else f"{value:.1f}"
        )
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def machine() -> str:
    with open("/proc/cpuinfo") as f:
        model = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "?")
    return f"{os.cpu_count()} CPUs ({model}), Python {sys.version.split()[0]}"


# ----------------------------------------------------------------------------- profiling


def py_spy_start(pid: int, seconds: int, out: str) -> subprocess.Popen | None:
    """Sample `pid` with py-spy (raw collapsed stacks) in the background, if installed."""
    exe = VENV_BIN / "py-spy"
    if not exe.exists():
        return None
    argv = [
        str(exe),
        "record",
        "-p",
        str(pid),
        "-d",
        str(seconds),
        "-r",
        "200",
        "-f",
        "raw",
        "--gil",
    ]
    return spawn([*argv, "-o", out, "--nonblocking"])


def py_spy_report(proc: subprocess.Popen | None, out: str, top: int = 15) -> list[list]:
    """Top frames by own samples and by inclusive samples (application frames only)."""
    if proc is None:
        return []
    try:
        proc.wait(120)
    except subprocess.TimeoutExpired:
        stop(proc)
    own: dict[str, int] = {}
    incl: dict[str, int] = {}
    total = 0
    with contextlib.suppress(OSError), open(out) as f:
        for line in f:
            stack, _, count = line.rstrip().rpartition(" ")
            if not count.isdigit():
                continue
            n = int(count)
            total += n
            frames = [_short(fr) for fr in stack.split(";")]
            if frames:
                own[frames[-1]] = own.get(frames[-1], 0) + n
            for fr in set(frames):
                incl[fr] = incl.get(fr, 0) + n
    if not total:
        return []
    rows = [["own", f, f"{n / total * 100:.1f}%"] for f, n in _top(own, top)]
    rows += [
        ["incl.", f, f"{n / total * 100:.1f}%"] for f, n in _top(incl, 2 * top, skip_generic=True)
    ]
    return rows


def _short(frame: str) -> str:
    # "func (path/to/file.py:123)" -> "func (file.py)"
    name, _, where = frame.partition(" (")
    file = where.rsplit("/", 1)[-1].split(":")[0].rstrip(")")
    return f"{name} ({file})"


GENERIC = (
    "asyncio",
    "base_events",
    "events.py",
    "uvloop",
    "runners",
    "<module>",
    "main (",
    "run (",
    "_run_once",
    "serve",
    "_run (",
    # ASGI plumbing every request passes through: hides where the time really goes
    "Middleware.__call__ (",
    "Middleware._http (",
    "wrapped_app (",
    "routing.py",
    "httptools_impl",
    "applications.py",
    "Thread._bootstrap",
    "concurrency.py",
)


def _top(counts: dict[str, int], n: int, skip_generic: bool = False) -> list[tuple[str, int]]:
    items = sorted(counts.items(), key=lambda kv: -kv[1])
    if skip_generic:
        items = [kv for kv in items if not any(g in kv[0] for g in GENERIC)]
    return items[:n]


def profiled(pid: int, seconds: float, work) -> list[list]:
    """Run `work()` while py-spy samples `pid` for `seconds`; returns py_spy_report rows."""
    fd, out = tempfile.mkstemp(suffix=".txt")
    os.close(fd)
    spy = py_spy_start(pid, max(1, round(seconds)), out)
    try:
        work()
        return py_spy_report(spy, out)
    finally:
        stop(spy)
        with contextlib.suppress(OSError):
            os.unlink(out)
