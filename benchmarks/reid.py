"""Re-identification of people no choice ever looked at: what each change of the recipe buys, what the default costs.

    python benchmarks/reid.py --data path/to/Person-Re-Id-Dataset --out runs/reid-bench
    python benchmarks/reid.py ... --runs default      # some runs; the others, once trained, are reused

About 2.5 hours on 2 CPU cores. Not a test: it trains each run with `siamese_train`, exactly as a user would, scores it
on test people with the Market-1501 rule, and writes one markdown table (`--table`, by default
`benchmarks/reid_results.md`, which the docs include), the same numbers as JSON beside it, and two figures: the
ablation as bars (`reid_results_ablation.png`) and the time-to-score curves (`reid_results_time_to_score.png`).

- **One change at a time** (ABLATION): the tutorial's recipe, then ImageNet weights, then P×K batches with batch-hard
  mining, then the identity loss with its BNNeck, then a larger input, then mirror averaging, then the doubled
  learning rate of the default recipe, each row adding one change to the row before, with paired differences between
  neighbours.
- **Time to score** (TIME_TO_SCORE): the default recipe before (15 epochs) and now (12 epochs at twice the learning
  rate), and the runs that measured the levers between them (fewer epochs; smaller images first), scored as they
  ship; the curve draws each run's validation mAP against the minutes its epochs took.

The people are split three ways:
- **test**: 130 people drawn (seed `TEST_SEED`) from those that `siamese_train`'s default split always trains on.
  The default recipe's settings (input size, frozen layers, mirror averaging, epochs, learning rate) were chosen by
  scores on the people that split validates on, and by time, so no choice of recipe, epoch or setting ever looked at
  the test people. Their images are copied to OUT/test-people; no run sees them in training or validation.
- **validation** and **training**: `siamese_train` is given every other person (OUT/dev-data: their images, and
  the CSV triplets that show none of the test people) and splits them itself, as a user's run does: 20 % of them
  validate, and choose the epoch kept in `best_model.pt`.
Each run is scored with its `best_model.pt`. As it ships, through the user's path: `siamese_encode` writes the test
people's embeddings, ranked by exact Euclidean distance, and `siamese_evaluate` must print the same numbers; rows
that switch mirror averaging off or on load the same weights with it switched. Every number comes with a 95 %
interval: the 2.5 and 97.5 percentiles over bootstrap resamples of the test people (their queries kept together).
Differences between two scorings of the same queries are bootstrapped paired, on the same resamples.

The default recipe's embeddings are also scored after average query expansion, k-reciprocal re-ranking and both,
with the published parameters (α-QE: k=5, α=3; re-ranking: k1=20, k2=6, λ=0.3), never tuned here; `siamese_evaluate
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
from siamese_nbdev.plot import plot_arms, plot_time_to_score
from siamese_nbdev.core import atomic_save

N_TEST, TEST_SEED, N_BOOT = 130, 2026, 2000
LITE0 = ['--weights', 'lite0-imagenet']
OLD_LR = ['--lr', '3.5e-4']  # the identity-aware recipe's peak learning rate until it was doubled
RUNS = {  # name: siamese_train's arguments beyond --data and --out
    'original': ['--recipe', 'original'],
    'imagenet': ['--recipe', 'original', *LITE0],
    'batch-hard': [*LITE0, '--img-size', '128', '64', '--no-id-loss', *OLD_LR],
    'id-loss': [*LITE0, '--img-size', '128', '64', *OLD_LR],
    'lr-3.5e-4': [*LITE0, *OLD_LR],
    'default': LITE0,
    'old-default': [*LITE0, '--epochs', '15', '--valid-last', '15', *OLD_LR],
    '13-epochs': [*LITE0, '--epochs', '13', '--valid-last', '5', *OLD_LR],
    'progressive': [*LITE0, '--epochs', '15', '--small-epochs', '7', *OLD_LR],
}
ABLATION = [  # (row, the run it scores, mirror averaging, what the row changes from the row before)
    ('original', 'original', False, "the tutorial's recipe: EfficientNet-B0 from scratch, pixels / 255, the CSV's "
     "fixed triplets, margin 1, Adam 1e-3, 15 epochs, 128×64 (`--recipe original`)"),
    ('+ ImageNet weights', 'imagenet', False, "EfficientNet-Lite0 from the offline ImageNet weights, the rest the "
     "original's (`--recipe original --weights lite0-imagenet`)"),
    ('+ P×K, batch-hard', 'batch-hard', False, "batches of 16 people × 4 images, each anchor's hardest positive and "
     "negative (margin 0.3 on unit-length features), and the identity-aware recipe's training around them: ImageNet "
     "normalisation, flips, crops and erasing, warm-up then cosine decay of Adam 3.5e-4 over 12 epochs, last stride 1, "
     "stem frozen; still 128×64 (`--img-size 128 64 --no-id-loss --lr 3.5e-4`)"),
    ('+ identity loss, BNNeck', 'id-loss', False, "the label-smoothed identity loss through the BNNeck added to "
     "batch-hard mining (`--img-size 128 64 --lr 3.5e-4`)"),
    ('+ input 192×96', 'lr-3.5e-4', False, "images enlarged to 192×96, each image embedded alone (`--lr 3.5e-4`)"),
    ('+ mirror averaging', 'lr-3.5e-4', True, "each image embedded with its mirror image, averaged, as "
     "`siamese_train` saves its models"),
    ('+ learning rate 7e-4', 'default', True, "Adam's peak learning rate doubled, to 7e-4: `siamese_train`'s "
     "default recipe, as it saves its model"),
]
TIME_TO_SCORE = {'before': ('old-default', "the default recipe before: 15 epochs at a peak learning rate of 3.5e-4, "
                            "validated after every one (`--epochs 15 --valid-last 15 --lr 3.5e-4`)"),
                 '13 epochs': ('13-epochs', "13 epochs, the last 5 validated (`--epochs 13 --valid-last 5 --lr 3.5e-4`)"),
                 '12 epochs': ('lr-3.5e-4', "12 epochs, the last 3 validated (`--lr 3.5e-4`)"),
                 'smaller images first': ('progressive', "15 epochs, the first 7 on images shrunk to 128×64, the last "
                                          "3 validated (`--epochs 15 --small-epochs 7 --lr 3.5e-4`)"),
                 'now': ('default', "`siamese_train`'s default: 12 epochs at a peak learning rate of 7e-4, the last 3 "
                         "validated")}
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

def train(run:str, dev_data:Path, out:Path) -> dict:
    "Train `run` into out/run/run with `siamese_train`, once; its command and wall time"
    done = out/run/'train.json'
    if done.exists(): return json.loads(done.read_text())
    cmd = ['siamese_train', '--data', str(dev_data), *RUNS[run], '--out', str(out/run/'run'), '--overwrite']
    print('$', ' '.join(cmd), flush=True)
    t0 = time.time()
    sh(*cmd)
    rec = dict(command=cmd, seconds=round(time.time() - t0, 1))
    done.write_text(json.dumps(rec, indent=1))
    return rec

def score(run:str, test_dir:Path, table:pd.DataFrame, out:Path, mirror:bool) -> dict:
    """Metrics (per query too) of `run`'s best_model.pt on the test people, with or without mirror averaging.
    As the checkpoint says: through `siamese_encode`'s embeddings, and `siamese_evaluate` must print the same;
    the other way: the same weights loaded with mirror averaging switched"""
    ckpt = out/run/'run'/'best_model.pt'
    if load_checkpoint(ckpt)['config']['flip_average'] != mirror:
        model = load_model(ckpt, flip_average=mirror)
        return evaluate_embeddings(encode_images(model, table.name, test_dir), table, per_query=True)
    enc = out/run/'test-people.npz'
    sh('siamese_encode', '--model', ckpt, '--images', test_dir, '--out', enc, stdout=subprocess.DEVNULL)
    names, emb = load_embeddings(enc)
    m = evaluate_embeddings(emb[pd.Index(names).get_indexer(table.name)], table, per_query=True)
    cli = sh('siamese_evaluate', '--model', ckpt, '--images', test_dir, capture_output=True, text=True).stdout.strip()
    if cli != format_metrics(m): sys.exit(f"{run}: siamese_evaluate printed {cli!r}, Python {format_metrics(m)!r}")
    return m

def score_post(run:str, test_dir:Path, table:pd.DataFrame, out:Path) -> dict[str, dict]:
    "Metrics of `run`'s test embeddings (from `score`) under each scoring of POST; siamese_evaluate --rerank checked"
    names, emb = load_embeddings(out/run/'test-people.npz')
    emb = emb[pd.Index(names).get_indexer(table.name)]
    res = {what: evaluate_embeddings(emb, table, per_query=True, distances=partial(rerank_distances, rerank=r, aqe=q))
           for what, (r, q) in POST.items()}
    cli = sh('siamese_evaluate', '--model', out/run/'run'/'best_model.pt', '--images', test_dir, '--rerank',
             capture_output=True, text=True).stdout.strip()
    if cli != format_metrics(res['+ re-ranking']): sys.exit(
        f"{run}: siamese_evaluate --rerank printed {cli!r}, Python {format_metrics(res['+ re-ranking'])!r}")
    return res

def bounds(samples:np.ndarray) -> list[float]:
    "The 2.5 and 97.5 percentiles of bootstrap `samples`: their middle 95 %"
    return [float(v) for v in np.percentile(samples, [2.5, 97.5])]

def interval(samples:np.ndarray, fmt:str='.3f', sep:str='–') -> str:
    "The middle 95 % of bootstrap `samples`, as text"
    lo, hi = bounds(samples)
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

def run_facts(run:str, rec:dict, history:pd.DataFrame, out:Path) -> dict:
    "What a row says of the run it scores: its best epoch and its training minutes (the whole command)"
    return {'best epoch': f"{load_checkpoint(out/run/'run'/'best_model.pt')['epoch']} of {len(history)}",
            'training (min)': f"{rec['seconds']/60:.1f}"}

def epoch_seconds(h:pd.DataFrame) -> dict:
    "Mean seconds of a run's epochs (its history `h`) without validation and with it (validation: the difference)"
    mean = lambda rows: f"{rows.seconds.mean():.0f}" if len(rows) else '–'
    return {'s / epoch, training only': mean(h[h.mAP.isna()]), 's / epoch, validated': mean(h[h.mAP.notna()])}

def as_record(row:dict, boot:dict) -> dict:
    "A row as plain values for the JSON file: its facts, metrics and their 95 % intervals"
    keep = {('label' if k == 'arm' else k): v for k, v in row.items() if k != 'metrics'}
    return dict(keep, metrics={k: row['metrics'][k] for k in METRICS},
                ci={k: bounds(boot[k]) for k in METRICS})

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--data', help='dataset folder: train/ and train.csv (default: $SIAMESE_DATA, else the cache)')
    p.add_argument('--out', default='runs/reid-bench', help='runs and the split folders go here')
    p.add_argument('--table', default=Path(__file__).parent/'reid_results.md', help='where the results table goes '
                   '(beside it: the same as .json, and the two figures as _time_to_score.png and _ablation.png)')
    p.add_argument('--runs', nargs='+', choices=list(RUNS), default=list(RUNS), help='train these runs (each '
                   'once); the table holds every run trained so far')
    a = p.parse_args(argv)
    data, out, table_md = get_data_dir(a.data), Path(a.out), Path(a.table)
    out.mkdir(parents=True, exist_ok=True)
    test_dir, dev_data = prepare(data, out)
    test_table, dev_table = identity_table(test_dir), identity_table(dev_data/'train')
    print(f"test: {test_table.pid.nunique()} people, {len(test_table)} images; development: "
          f"{dev_table.pid.nunique()} people, {len(dev_table)} images", flush=True)
    runs = [r for r in RUNS if r in a.runs or (out/r/'train.json').exists()]
    recs = {r: train(r, dev_data, out) for r in runs}  # all training first: scoring is minutes
    histories = {r: pd.read_csv(out/r/'run'/'history.csv') for r in runs}
    scored = {}
    def scores(run, mirror):  # each run scored once each way
        if (run, mirror) not in scored: scored[run, mirror] = score(run, test_dir, test_table, out, mirror)
        return scored[run, mirror]
    rows = [dict(arm=label, run=run, mirror=mirror, change=what, **run_facts(run, recs[run], histories[run], out),
                 metrics=scores(run, mirror))
            for label, run, mirror, what in ABLATION if run in runs]
    tts = [dict(arm=label, run=run, recipe=what, **run_facts(run, recs[run], histories[run], out),
                **epoch_seconds(histories[run]),
                metrics=scores(run, True))
           for label, (run, what) in TIME_TO_SCORE.items() if run in runs]
    for r in rows + tts: print(f"{r['arm']}: {format_metrics(r['metrics'])}", flush=True)
    boots = {r['arm']: bootstrap_metrics(r['metrics']['per_query'], N_BOOT) for r in rows + tts}
    n_q = (rows + tts)[0]['metrics']['queries']
    cpu = f"{platform.machine()}, {os.cpu_count()} CPU cores, torch {torch.__version__}"
    lines = ['### One change at a time', '', 'Each row adds one change to the row before; every run is scored with '
             'its best epoch, chosen by its validation people.', '']
    lines += table_lines(rows, boots, ['arm', 'change', 'best epoch', 'training (min)'])
    lines += ['', 'Paired differences on the same test queries (95 % interval):', '']
    steps = [(a_['arm'], b_['arm']) for a_, b_ in zip(rows, rows[1:])]
    lines += differences(steps + ([(rows[0]['arm'], rows[-1]['arm'])] if len(rows) > 2 else []), rows, boots)
    lines += ['', '### Time to score', '', "The default recipe before and now, and the runs between them, each scored "
              "with mirror averaging, as `siamese_train` saves it. The figure draws their validation mAP (on their "
              "held-out development people) against the minutes their epochs took; the table's minutes are the whole "
              "`siamese_train` command, and its seconds per epoch say how fast the machine was during each run.", '']
    lines += table_lines(tts, boots, ['arm', 'recipe', 'best epoch', 's / epoch, training only',
                                      's / epoch, validated', 'training (min)'])
    lines += ['', 'Paired differences on the same test queries (95 % interval):', '']
    lines += differences([('before', 'now'), ('before', '12 epochs'), ('12 epochs', 'smaller images first'),
                          ('12 epochs', 'now')], tts, boots)
    lines += ['', f"Test people: {test_table.pid.nunique()} ({len(test_table)} images, {n_q} queries), Market-1501 "
              f"rule, exact Euclidean distance; intervals: {N_BOOT} bootstrap resamples of the test people. "
              f"Development people: {dev_table.pid.nunique()}, of whom `siamese_train` validates on 20 %. "
              f"Training time is the whole `siamese_train` command on {cpu}, one run at a time on an otherwise "
              f"idle machine."]
    post = []
    if 'default' in runs:
        post = [dict(arm=what, scoring=what, metrics=m)
                for what, m in score_post('default', test_dir, test_table, out).items()]
        post_boots = {r['arm']: bootstrap_metrics(r['metrics']['per_query'], N_BOOT) for r in post}
        lines += ['', '### Re-ranking and query expansion', '', "The default recipe's embeddings of the same test "
                  "people, ranked four ways: by Euclidean distance; after average query expansion (α-QE, k=5, α=3); "
                  "after k-reciprocal re-ranking (k1=20, k2=6, λ=0.3); after both. The parameters are the published "
                  "ones, not tuned here.", ''] + table_lines(post, post_boots, ['scoring'])
        lines += ['', 'Paired differences on the same test queries (95 % interval):', '']
        lines += differences([('Euclidean', what) for what in list(POST)[1:]], post, post_boots)
    text = '\n'.join(lines) + '\n'
    plain = lambda h: h.replace({np.nan: None}).to_dict('list')  # JSON has null, not NaN
    record = dict(ablation=[as_record(r, boots[r['arm']]) for r in rows],
                  time_to_score=[dict(as_record(r, boots[r['arm']]), history=plain(histories[r['run']])) for r in tts])
    atomic_save(json.dumps(record, indent=1, ensure_ascii=False), table_md.with_suffix('.json'),
                write=lambda s, f: f.write(s.encode()))
    if rows: plot_arms(record['ablation'], fname=table_md.with_name(table_md.stem + '_ablation.png'))
    if tts: plot_time_to_score({r['arm']: histories[r['run']] for r in tts},
                               fname=table_md.with_name(table_md.stem + '_time_to_score.png'))
    table_md.write_text(text)
    print('\n' + text)

if __name__ == '__main__': main()
