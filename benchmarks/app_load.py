"""A bounded load test of `siamese_app`, on this machine only: latency and errors under concurrent queries.

    python benchmarks/app_load.py                              # 200 queries, 8 at a time; writes app_results.md
    python benchmarks/app_load.py --queries 40 --concurrency 4 --out /tmp/app_results.md   # a quick check

Starts `siamese_app` as a user does (its own process, the shipped model on the shipped sample unless --model and
--gallery say otherwise, a fresh cache), waits until it serves, then sends the queries from `--concurrency` clients
at once, all to 127.0.0.1, through the page's own API: uploads of the sample's images (each client cycles through
them), one in three with re-ranking on, and one in three a gallery image picked by name. Reports each kind's median
and 95th-percentile latency (request sent to answer read, as a client sees it) and every error (the target: none).
"""
from __future__ import annotations
import argparse, os, platform, socket, subprocess, sys, tempfile, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
import httpx, numpy as np, torch
from siamese_nbdev.data import sample_dir
from siamese_nbdev.app import gallery_table

KINDS = ('upload', 'upload, re-ranked', 'gallery pick')

def start_app(args:list, cache:Path) -> tuple[subprocess.Popen, str, float]:
    "`siamese_app` on a free port of 127.0.0.1: its process, its address, and the seconds it took to serve"
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, '-c', 'from siamese_nbdev.app import siamese_app; siamese_app()',
                             '--port', str(port), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=os.environ | {'XDG_CACHE_HOME': str(cache)})
    url = f'http://127.0.0.1:{port}'
    while True:
        try: httpx.get(url + '/api/info').raise_for_status(); return proc, url, time.perf_counter() - t0
        except httpx.TransportError:
            if proc.poll() is not None: raise RuntimeError(f"siamese_app stopped with status {proc.returncode}")
            time.sleep(0.2)

def one_query(client:httpx.Client, i:int, images:list, folder:Path) -> tuple[str, float, str|None]:
    "Query number `i`: its kind, its latency in seconds, and its error (None if it got a correct answer)"
    kind, name = KINDS[i % 3], images[i % len(images)]
    t0 = time.perf_counter()
    try:
        if kind == 'gallery pick': r = client.post('/api/search', data={'name': name})
        else: r = client.post('/api/search', files={'file': (name, (folder/name).read_bytes())},
                              data={'rerank': str(kind != 'upload').lower()})
        ok = r.status_code == 200 and len(r.json()['results']) == 10
        err = None if ok else f'{r.status_code} {r.text[:200]}'
    except httpx.HTTPError as e: err = f'{type(e).__name__}: {e}'
    return kind, time.perf_counter() - t0, err

def run(url:str, n:int, concurrency:int, images:list, folder:Path) -> list:
    "Send `n` queries from `concurrency` clients at once; every result"
    assert url.startswith('http://127.0.0.1:'), url  # this machine only
    clients = [httpx.Client(base_url=url, timeout=120) for _ in range(concurrency)]
    try:
        with ThreadPoolExecutor(concurrency) as pool:
            return list(pool.map(lambda i: one_query(clients[i % concurrency], i, images, folder), range(n)))
    finally:
        for c in clients: c.close()

def table(results:list, seconds:float, startup:float, n:int, concurrency:int, gallery:int) -> str:
    "The markdown report"
    rows = ['| queries | n | p50 (ms) | p95 (ms) | errors |', '|---|---|---|---|---|']
    for kind in (*KINDS, 'all'):
        r = [x for x in results if kind in ('all', x[0])]
        ms = np.array([x[1] for x in r]) * 1000
        rows.append(f'| {kind} | {len(r)} | {np.percentile(ms, 50):.0f} | {np.percentile(ms, 95):.0f} '
                    f'| {sum(x[2] is not None for x in r)} |')
    errors = [x[2] for x in results if x[2] is not None]
    return '\n'.join(rows) + (
        f"\n\n{n} queries, {concurrency} at a time, against 127.0.0.1 only: {n / seconds:.1f} queries/s over "
        f"{seconds:.1f} s, on a gallery of {gallery} images (the server had encoded it in {startup:.0f} s, once, "
        f"before serving). The server embeds one query at a time, so a query's latency includes the wait for those "
        f"before it. " + (f"First error: {errors[0]}" if errors else "No errors.") +
        f"\n\nMeasured by `benchmarks/app_load.py` on {platform.machine()}, {os.cpu_count()} CPU cores, "
        f"torch {torch.__version__}, the server with {torch.get_num_threads()} thread(s) as this process.\n")

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--queries', type=int, default=200)
    p.add_argument('--concurrency', type=int, default=8)
    p.add_argument('--model', help='checkpoint (default: the app\'s, MARKET_MODEL)')
    p.add_argument('--gallery', help="folder of images (default: the app's, the shipped sample)")
    p.add_argument('--out', default=str(Path(__file__).parent/'app_results.md'))
    a = p.parse_args(argv)
    folder = Path(a.gallery or sample_dir()/'train')
    images, args = gallery_table(folder).name.tolist(), [*(['--model', a.model] if a.model else []),
                                         *(['--gallery', a.gallery] if a.gallery else [])]
    with tempfile.TemporaryDirectory() as cache:
        proc, url, startup = start_app(args, Path(cache))
        try:
            t0 = time.perf_counter()
            results = run(url, a.queries, a.concurrency, images, folder)
            seconds = time.perf_counter() - t0
            httpx.get(url + '/api/info').raise_for_status()  # still up
        finally:
            proc.terminate(); proc.wait()
    report = table(results, seconds, startup, a.queries, a.concurrency, len(images))
    Path(a.out).write_text(report)
    print(report)

if __name__ == '__main__': main()
