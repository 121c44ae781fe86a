"""Forum thread page (GET /t/{id}, 50 posts) under concurrent HTTP load, against a ceiling.

Starts `kindred serve` on 127.0.0.1 in a temporary data directory (SQLite by default,
PostgreSQL with --postgres: a fresh database that is dropped afterwards), seeds a thread with
49 replies through the JSON API, then loads the page from separate processes: `wrk` when it
is installed, else bench/kit/httpload.py. The same load then hits two ceilings served by
uvicorn from this file: a bare Starlette + Jinja2 endpoint rendering an equivalent 50-post page
from memory (no database, no middleware) and a plain-text endpoint.

Also counts the bytes of the thread page with its same-origin CSS and JS on a cold cache.

    .venv/bin/python bench/forum_pages.py                 # 8 clients, 10 s, SQLite
    .venv/bin/python bench/forum_pages.py --postgres --duration 20
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kit import (
    KINDRED,
    PYTHON,
    api,
    exit_on_sigterm,
    fetch,
    free_port,
    kindred_env,
    machine,
    pct,
    profiled,
    running,
    signup,
    table,
    tree_cpu,
)
from kit.httpload import Spec, load

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"

# ----------------------------------------------------------------------------- ceiling app

CEILING_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }} · Kindred</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/site.css"></head>
<body><header class="site"><a href="/">Kindred</a><nav><a href="/login">Sign in</a></nav></header>
<main id="main"><p class="breadcrumb"><a href="/c/{{ slug }}">{{ community }}</a></p>
<article class="thread"><header class="page-head"><h1>{{ title }}</h1>
<p class="meta"><span class="kind">Discussion</span></p></header>
<ol class="posts">
{% for p in posts %}
<li id="p{{ p.id }}" class="post{% if loop.first %} opening{% endif %}">
<header class="post-meta"><span class="author">{{ p.author }}</span>
<time datetime="{{ p.created_at }}">{{ p.created_at[:16] }} UTC</time></header>
<div class="post-body">{{ p.html | safe }}</div>
<footer class="post-actions"><ul class="reactions">
{% for label in reactions %}<li><span class="reaction-count">{{ label }} · 0</span></li>{% endfor %}
</ul></footer></li>
{% endfor %}
</ol></article>
<section class="reply"><h2>Reply</h2><p><a href="/login">Sign in</a> to reply.</p></section>
</main><footer class="site">Kindred</footer></body></html>
"""


def serve_ceiling(port: int, posts_file: str) -> None:
    """uvicorn + bare Starlette: /page renders the 50 posts from memory; /plain is text."""
    import jinja2
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse, PlainTextResponse
    from starlette.routing import Route

    data = json.loads(Path(posts_file).read_text())
    template = jinja2.Environment(autoescape=True).from_string(CEILING_TEMPLATE)
    reactions = ["Thanks", "Me too", "Sending strength"]

    async def page(request):
        return HTMLResponse(template.render(**data, reactions=reactions))

    async def plain(request):
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/page", page), Route("/plain", plain)])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# ----------------------------------------------------------------------------- seeding


def seed_thread(port: int, replies: int) -> tuple[int, dict]:
    """Two members, one thread and `replies` replies; returns the thread id and its JSON."""
    tag = uuid.uuid4().hex[:6]
    alice, bob = signup(port, f"alice_{tag}"), signup(port, f"bob_{tag}")
    status, body = api(
        port,
        "POST",
        "/api/v1/communities/grief/threads",
        {"title": "Finding the words after a loss", "body": _body(0)},
        token=alice,
    )
    if status != 201:
        raise RuntimeError(f"create thread: {status} {body}")
    thread_id = (body.get("thread") or body)["id"]
    for i in range(1, replies + 1):
        status, body = api(
            port,
            "POST",
            f"/api/v1/threads/{thread_id}/posts",
            {"body": _body(i)},
            token=bob if i % 2 else alice,
        )
        if status != 201:
            raise RuntimeError(f"reply {i}: {status} {body}")
    status, thread = api(port, "GET", f"/api/v1/threads/{thread_id}", token=alice)
    return thread_id, thread


def _body(i: int) -> str:
    return (
        f"Reply {i}: it has been a hard week, and **writing it down** helps a little.\n\n"
        "Some days are easier than others. What helped me:\n\n"
        "- a short walk every morning\n- talking to *someone* who listens\n\n"
        "Thank you all for being here; it means more than I can say."
    )


def ceiling_data(thread: dict) -> dict:
    posts = thread.get("posts") or []
    t = thread.get("thread") or thread
    return {
        "title": t.get("title", "Thread"),
        "slug": "grief",
        "community": "Grief",
        "posts": [
            {
                "id": p.get("id"),
                "author": p.get("author") or p.get("pseudonym") or "member",
                "created_at": str(p.get("created_at", "")),
                "html": p.get("html", ""),
            }
            for p in posts
        ],
    }


# ----------------------------------------------------------------------------- measuring


WRK_LUA = """
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout))
end
"""


def measure(port: int, path: str, server_pid: int, clients: int, duration: float, tool: str):
    """One load run; returns a table row."""
    cpu0 = tree_cpu(server_pid)
    if tool == "wrk":
        with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
            lua.write(WRK_LUA)
            lua.flush()
            out = subprocess.run(
                [
                    "wrk",
                    "-t2",
                    f"-c{clients}",
                    f"-d{max(1, round(duration))}s",
                    "-s",
                    lua.name,
                    f"http://127.0.0.1:{port}{path}",
                ],
                capture_output=True,
                text=True,
                timeout=duration + 60,
                check=True,
            ).stdout
        line = next(ln for ln in out.splitlines() if ln.startswith("RESULT"))
        n, p50, p95, p99, mx, errors = (int(x) for x in line.split()[1:])
        p50, p95, p99, mx = (v / 1000 for v in (p50, p95, p99, mx))
        elapsed, client_cpu = duration, float("nan")
    else:
        r = load(port, Spec("GET", path), connections=clients, duration=duration)
        lat = r.latencies
        n, errors = len(lat), r.errors + sum(v for k, v in r.statuses.items() if k >= 400)
        p50, p95, p99, mx = (pct(lat, q) * 1000 for q in (50, 95, 99, 100))
        elapsed, client_cpu = r.elapsed, r.cpu
    cpu = tree_cpu(server_pid) - cpu0
    rps = n / elapsed
    return [rps, p50, p95, p99, mx, errors, cpu / max(n, 1) * 1e6, cpu / elapsed, client_cpu]


def page_bytes(port: int, path: str) -> list[list]:
    """The page plus every same-origin stylesheet and script it references."""
    html = fetch(port, path)
    rows = [[path, len(html), len(gzip.compress(html))]]
    text = html.decode(errors="replace")
    refs = re.findall(r'<link[^>]+rel="?stylesheet"?[^>]*href="([^"]+)"', text)
    refs += re.findall(r'<link[^>]+href="([^"]+)"[^>]*rel="?stylesheet"?', text)
    refs += re.findall(r'<script[^>]+src="([^"]+)"', text)
    for ref in dict.fromkeys(refs):
        if ref.startswith(("http:", "https:", "//")) and "127.0.0.1" not in ref:
            continue
        body = fetch(port, re.sub(r"^https?://[^/]+", "", ref))
        rows.append([ref, len(body), len(gzip.compress(body))])
    rows.append(["total", sum(r[1] for r in rows), sum(r[2] for r in rows)])
    return rows


# ----------------------------------------------------------------------------- PostgreSQL


def _psql(sql: str) -> None:
    subprocess.run(["psql", PG_ADMIN, "-q", "-c", sql], check=True, capture_output=True)


@contextlib.contextmanager
def postgres_database():
    name = f"kindred_bench_{uuid.uuid4().hex[:8]}"
    _psql(f"CREATE DATABASE {name}")
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        _psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# ----------------------------------------------------------------------------- main


def run(args: argparse.Namespace) -> None:
    tool = "wrk" if shutil.which("wrk") and not args.python_client else "python"
    print(
        f"# forum_pages: {machine()}; load tool {tool}; {args.clients} clients, "
        f"{args.duration:g} s per run; database {'PostgreSQL' if args.postgres else 'SQLite'}"
    )
    rows = []
    with contextlib.ExitStack() as stack:
        data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="kindred-bench-"))
        port = free_port()
        extra = {}
        if args.postgres:
            extra["KINDRED_DATABASE_URL"] = stack.enter_context(postgres_database())
        env = kindred_env(data_dir, port, **extra)
        if args.postgres:
            subprocess.run([KINDRED, "migrate"], env=env, check=True, capture_output=True)
        server = stack.enter_context(
            running(
                [KINDRED, "serve", "--host", "127.0.0.1", "--port", str(port), "--demo"],
                port,
                env,
                "/healthz",
            )
        )
        thread_id, thread = seed_thread(port, args.replies)
        path = f"/t/{thread_id}"
        fetch(port, path)  # warm the template cache
        rows.append(
            [
                "kindred GET " + path,
                *measure(port, path, server.pid, args.clients, args.duration, tool),
            ]
        )
        bytes_rows = page_bytes(port, path)
        profile = []
        if args.profile:
            profile = profiled(
                server.pid,
                args.profile,
                lambda: measure(port, path, server.pid, args.clients, args.profile, tool),
            )
        posts_file = Path(data_dir) / "ceiling.json"
        posts_file.write_text(json.dumps(ceiling_data(thread)))
        cport = free_port()
        ceiling = stack.enter_context(
            running(
                [PYTHON, __file__, "--serve-ceiling", str(cport), str(posts_file)],
                cport,
                None,
                "/plain",
            )
        )
        fetch(cport, "/page")
        for p in ("/page", "/plain"):
            rows.append(
                [f"ceiling {p}", *measure(cport, p, ceiling.pid, args.clients, args.duration, tool)]
            )
    table(
        [
            "server",
            "req/s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "max ms",
            "errors",
            "server CPU µs/req",
            "server cores",
            "client CPU s",
        ],
        rows,
        f"Thread page with {args.replies + 1} posts, {args.clients} concurrent clients",
    )
    share = rows[0][1] / rows[1][1] * 100 if rows[1][1] else float("nan")
    print(
        f"\nkindred reaches {share:.0f}% of the Starlette+Jinja2 ceiling's req/s "
        f"(target ≥ 50% with p99 ≤ 50 ms: "
        f"{'met' if share >= 50 and rows[0][4] <= 50 else 'missed'})"
    )
    if profile:
        table(["kind", "frame", "samples"], profile, f"py-spy on kindred serving {path}")
    table(
        ["resource", "bytes", "gzip bytes"],
        bytes_rows,
        "Thread page bytes on a cold cache (target ≤ 60 KB uncompressed)",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per run")
    parser.add_argument("--replies", type=int, default=49)
    parser.add_argument(
        "--profile", type=float, default=5.0, help="seconds of py-spy on kindred (0: none)"
    )
    parser.add_argument("--postgres", action="store_true", help="use a fresh PostgreSQL db")
    parser.add_argument("--python-client", action="store_true", help="do not use wrk")
    parser.add_argument(
        "--serve-ceiling", nargs=2, metavar=("PORT", "POSTS_JSON"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.serve_ceiling:
        return serve_ceiling(int(args.serve_ceiling[0]), args.serve_ceiling[1])
    exit_on_sigterm()
    started = time.monotonic()
    try:
        run(args)
    except SystemExit:
        print("interrupted; servers stopped")
        raise
    print(f"\n(took {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
