"""Re-identification of people no choice ever looked at: the original recipe against the default one, and re-ranking.

    python benchmarks/reid.py --data path/to/Person-Re-Id-Dataset --out runs/reid-bench
    python benchmarks/reid.py ... --arms default      # some arms; the others, once trained, are reused

About 1.5 hours on 2 CPU cores. Not a test: it trains each arm with `siamese_train`, exactly as a user would, scores it
on test people with the Market-1501 rule, and writes one markdown table (`--table`, by default
`benchmarks/reid_results.md`, which the docs include).

The people are split three ways:
- **test**: 130 people drawn (seed `TEST_SEED`) from those that `siamese_train`'s default split always trains on.
  The default recipe's settings (input size, frozen layers, mirror averaging, epochs) were chosen by scores on the
  people that split validates on, so no choice of recipe, epoch or setting ever looked at the test people. Their
  images are copied to OUT/test-people; no arm sees them in training or validation.
- **validation** and **training**: `siamese_train` is given every other person (OUT/dev-data: their images, and
  the CSV triplets that show none of the test people) and splits them itself, as a user's run does: 20 % of them
  validate, and choose the epoch kept in `best_model.pt`.
Each arm is scored with its `best_model.pt`, through the user's path: `siamese_encode` writes the test people's
embeddings, ranked by exact Euclidean distance, and `siamese_evaluate` must print the same numbers. Every number comes
with a 95 % interval: the 2.5 and 97.5 percentiles over bootstrap resamples of the test people (their queries kept
together). Differences between two scorings of the same queries are bootstrapped paired, on the same resamples.

The default arm's embeddings are also scored after average query expansion, k-reciprocal re-ranking and both, with
the published parameters (α-QE: k=5, α=3; re-ranking: k1=20, k2=6, λ=0.3), never tuned here; `siamese_evaluate
--rerank` must print the re-ranked numbers too.
"""
from __future__ import annotations
import argparse, json, os, platform, shutil, subprocess, sys, time
from pathlib import Path
import numpy as np, pandas as pd, torch

from siamese_nbdev.data import identity_table, split_identities, write_subset, get_data_dir
from siamese_nbdev.model import load_model, load_checkpoint
from siamese_nbdev.encode import load_embeddings, encode_images
from functools import partial
from siamese_nbdev.evaluate import evaluate_embeddings, format_metrics, bootstrap_metrics
from siamese_nbdev.rerank import rerank_distances
from siamese_nbdev.recipes import RECIPES

N_TEST, TEST_SEED, N_BOOT = 130, 2026, 2000
ARMS = {  # name: (what it is, siamese_train's arguments beyond --data and --out)
    'default': ("`siamese_train`'s default, identity-aware, from the offline ImageNet Lite0 weights "
                "(`--weights lite0-imagenet`)", ['--weights', 'lite0-imagenet']),
    'original': ("the tutorial's: EfficientNet-B0 from scratch, pixels / 255, the CSV's fixed triplets, margin 1, "
                 "Adam 1e-3, 15 epochs (`--recipe original`)", ['--recipe', 'original']),
    'original-lite0': ("the tutorial's, from the offline ImageNet Lite0 weights "
                       "(`--recipe original --weights lite0-imagenet`)",
                       ['--recipe', 'original', '--weights', 'lite0-imagenet']),
}
NO_FLIP = 'default, without mirror averaging'  # the default arm's weights, scored with flip_average off
POST = {'Euclidean': (False, False), '+ α-QE': (False, True), '+ re-ranking': (True, False),
        '+ α-QE + re-ranking': (True, True)}  # scoring: (rerank, aqe)

def sh(*cmd, **kw) -> subprocess.CompletedProcess:
    "Run `cmd`, stopping the benchmark if it fails"
    r = subprocess.run([str(c) for c in cmd], **kw)
    if r.returncode: sys.exit(f"failed ({r.returncode}): {' '.join(map(str, cmd))}")
    return r

def split_people(table:pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    "Rows of the development people (training and validation) and of the test people"
    reid = RECIPES['reid']  # the people siamese_train's default recipe holds out, unless told otherwise
    always_trained = split_identities(table, reid.valid_frac, reid.seed)[0]
    test = split_identities(always_trained, N_TEST/always_trained.pid.nunique(), TEST_SEED)[1]
    return table[~table.pid.isin(set(test.pid))], test

def make_dir_once(path:Path, fill):
    "Unless `path` exists: `fill` a temporary sibling folder, then rename it to `path` (never a half-made folder)"
    if path.exists(): return
    tmp = path.with_name(f'.{path.name}.tmp'); shutil.rmtree(tmp, ignore_errors=True); tmp.mkdir(parents=True)
    fill(tmp)
    tmp.rename(path)

def prepare(data:Path, out:Path) -> tuple[Path, Path]:
    "OUT/test-people (the test images) and OUT/dev-data (every other image, and the triplets without test people)"
    table = identity_table(data/'train')
    dev, test = split_people(table)
    test_dir, dev_data = out/'test-people', out/'dev-data'
    def copy_test(tmp):
        for name in test.name: shutil.copy2(data/'train'/name, tmp/name)
    make_dir_once(test_dir, copy_test)
    make_dir_once(dev_data, lambda tmp: write_subset(data, tmp, set(dev.pid)))
    return test_dir, dev_data

def train(arm:str, dev_data:Path, out:Path) -> dict:
    "Train `arm` into out/arm/run with `siamese_train`, once; its command and wall time"
    done = out/arm/'train.json'
    if done.exists(): return json.loads(done.read_text())
    cmd = ['siamese_train', '--data', str(dev_data), *ARMS[arm][1], '--out', str(out/arm/'run'), '--overwrite']
    print('$', ' '.join(cmd), flush=True)
    t0 = time.time()
    sh(*cmd)
    rec = dict(command=cmd, seconds=round(time.time() - t0, 1))
    done.write_text(json.dumps(rec, indent=1))
    return rec

def score(arm:str, test_dir:Path, table:pd.DataFrame, out:Path) -> dict:
    "Metrics (per query too) of `arm`'s best_model.pt on the test people, from `siamese_encode`'s embeddings"
    ckpt, enc = out/arm/'run'/'best_model.pt', out/arm/'test-people.npz'
    sh('siamese_encode', '--model', ckpt, '--images', test_dir, '--out', enc, stdout=subprocess.DEVNULL)
    names, emb = load_embeddings(enc)
    m = evaluate_embeddings(emb[pd.Index(names).get_indexer(table.name)], table, per_query=True)
    cli = sh('siamese_evaluate', '--model', ckpt, '--images', test_dir, capture_output=True, text=True).stdout.strip()
    if cli != format_metrics(m): sys.exit(f"{arm}: siamese_evaluate printed {cli!r}, Python {format_metrics(m)!r}")
    return m

def score_post(arm:str, test_dir:Path, table:pd.DataFrame, out:Path) -> dict[str, dict]:
    "Metrics of `arm`'s test embeddings (from `score`) under each scoring of POST; siamese_evaluate --rerank checked"
    names, emb = load_embeddings(out/arm/'test-people.npz')
    emb = emb[pd.Index(names).get_indexer(table.name)]
    res = {what: evaluate_embeddings(emb, table, per_query=True, distances=partial(rerank_distances, rerank=r, aqe=q))
           for what, (r, q) in POST.items()}
    cli = sh('siamese_evaluate', '--model', out/arm/'run'/'best_model.pt', '--images', test_dir, '--rerank',
             capture_output=True, text=True).stdout.strip()
    if cli != format_metrics(res['+ re-ranking']): sys.exit(
        f"{arm}: siamese_evaluate --rerank printed {cli!r}, Python {format_metrics(res['+ re-ranking'])!r}")
    return res

def score_without_flip(arm:str, test_dir:Path, table:pd.DataFrame, out:Path) -> dict:
    "Metrics of the same weights with mirror averaging switched off"
    model = load_model(out/arm/'run'/'best_model.pt', flip_average=False)
    return evaluate_embeddings(encode_images(model, table.name, test_dir), table, per_query=True)

def interval(samples:np.ndarray, fmt:str='.3f', sep:str='–') -> str:
    "The middle 95 % of bootstrap `samples`"
    lo, hi = np.percentile(samples, [2.5, 97.5])
    return f"{lo:{fmt}}{sep}{hi:{fmt}}"

METRICS = {'rank1': 'rank-1', 'rank5': 'rank-5', 'mAP': 'mAP', 'mINP': 'mINP'}

def table_lines(rows:list[dict], boots:dict, cols:list[str]) -> list[str]:
    "A markdown table: the row's `cols`, then each metric with its 95 % bootstrap interval"
    lines = ['| ' + ' | '.join(cols + list(METRICS.values())) + ' |', '|---' * (len(cols) + len(METRICS)) + '|']
    for r in rows:
        b = boots[r['arm']]
        cells = [str(r[c]) for c in cols] + [f"{r['metrics'][k]:.3f} ({interval(b[k])})" for k in METRICS]
        lines.append(f"| {' | '.join(cells)} |")
    return lines

def differences(pairs:list[tuple[str, str]], rows:list[dict], boots:dict) -> list[str]:
    "Paired differences, b − a, with intervals from the same resamples"
    get = {r['arm']: r['metrics'] for r in rows}
    out = []
    for a, b in pairs:
        if a not in get or b not in get: continue
        d = {k: 100*(get[b][k] - get[a][k]) for k in ('rank1', 'mAP', 'mINP')}
        ci = {k: interval(100*(boots[b][k] - boots[a][k]), '+.1f', ' to ') for k in ('rank1', 'mAP', 'mINP')}
        out.append(f"- **{b}** − **{a}**: " + ', '.join(f"{METRICS[k]} {d[k]:+.1f} points ({ci[k]})" for k in d))
    return out

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--data', help='dataset folder: train/ and train.csv (default: $SIAMESE_DATA, else the cache)')
    p.add_argument('--out', default='runs/reid-bench', help='runs and the split folders go here')
    p.add_argument('--table', default=Path(__file__).parent/'reid_results.md', help='where the results table goes')
    p.add_argument('--arms', nargs='+', choices=list(ARMS), default=list(ARMS))
    a = p.parse_args(argv)
    data, out = get_data_dir(a.data), Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    test_dir, dev_data = prepare(data, out)
    test_table, dev_table = identity_table(test_dir), identity_table(dev_data/'train')
    print(f"test: {test_table.pid.nunique()} people, {len(test_table)} images; development: "
          f"{dev_table.pid.nunique()} people, {len(dev_table)} images", flush=True)
    arms = [arm for arm in ARMS if arm in a.arms or (out/arm/'train.json').exists()]
    recs = {arm: train(arm, dev_data, out) for arm in arms}  # all training first: scoring is minutes
    rows = []
    for arm in arms:
        epoch = load_checkpoint(out/arm/'run'/'best_model.pt')['epoch']
        epochs = len(pd.read_csv(out/arm/'run'/'history.csv'))
        row = {'recipe': ARMS[arm][0], 'best epoch': f"{epoch} of {epochs}",
               'training (min)': f"{recs[arm]['seconds']/60:.1f}"}
        rows.append(dict(arm=arm, metrics=score(arm, test_dir, test_table, out), **row))
        print(f"{arm}: {format_metrics(rows[-1]['metrics'])}", flush=True)
        if arm == 'default':
            rows.append(dict(row, arm=NO_FLIP, recipe='the same weights, each image embedded alone',
                             metrics=score_without_flip(arm, test_dir, test_table, out)))
    boots = {r['arm']: bootstrap_metrics(r['metrics']['per_query'], N_BOOT) for r in rows}
    lines = table_lines(rows, boots, ['arm', 'recipe', 'best epoch', 'training (min)'])
    lines += ['', 'Paired differences on the same test queries (95 % interval):', '']
    lines += differences([('original', 'default'), ('original', 'original-lite0'), ('original-lite0', 'default'),
                          (NO_FLIP, 'default')], rows, boots)
    n_q = rows[0]['metrics']['queries']
    cpu = f"{platform.machine()}, {os.cpu_count()} CPU cores, torch {torch.__version__}"
    lines += ['', f"Test people: {test_table.pid.nunique()} ({len(test_table)} images, {n_q} queries), Market-1501 "
              f"rule, exact Euclidean distance; intervals: {N_BOOT} bootstrap resamples of the test people. "
              f"Development people: {dev_table.pid.nunique()}, of whom `siamese_train` validates on 20 %. "
              f"Training time is the whole `siamese_train` command on {cpu}."]
    if 'default' in arms:
        post = [dict(arm=what, scoring=what, metrics=m)
                for what, m in score_post('default', test_dir, test_table, out).items()]
        post_boots = {r['arm']: bootstrap_metrics(r['metrics']['per_query'], N_BOOT) for r in post}
        lines += ['', '### Re-ranking and query expansion', '', "The default arm's embeddings of the same test people, "
                  "ranked four ways: by Euclidean distance; after average query expansion (α-QE, k=5, α=3); after "
                  "k-reciprocal re-ranking (k1=20, k2=6, λ=0.3); after both. The parameters are the published ones, "
                  "not tuned here.", ''] + table_lines(post, post_boots, ['scoring'])
        lines += ['', 'Paired differences on the same test queries (95 % interval):', '']
        lines += differences([('Euclidean', what) for what in list(POST)[1:]], post, post_boots)
    text = '\n'.join(lines) + '\n'
    Path(a.table).write_text(text)
    print('\n' + text)

if __name__ == '__main__': main()
