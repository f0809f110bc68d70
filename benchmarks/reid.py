"""Re-identification of people never seen in training: the original recipe against the recommended one.

    python benchmarks/reid.py --data ../shared/data/Person-Re-Id-Dataset --out runs/reid-bench
    python benchmarks/reid.py ... --arms recommended      # one arm; the others, once trained, are reused

About two hours on 2 CPU cores. Not a test: it trains each arm with `siamese_train`, exactly as a user would, then
scores it on held-out people with the Market-1501 rule and prints one markdown table (also written to OUT/results.md).

- Held-out people: the 20% of identities (seed 42) that `siamese_train`'s default recipe sets aside for validation;
  no arm trains on them. The original recipe's triplets that show any of them are dropped from its train.csv.
- Every arm is scored with its *final* epoch's weights (`last.pt`), so no arm picks an epoch by looking at the test
  people, and through the user's path: `siamese_encode` writes the embeddings of the held-out images, compared by
  plain Euclidean distance (`evaluate_embeddings`), and `siamese_evaluate` must print the same numbers.
- Training wall time: the whole `siamese_train` command, image checks and per-epoch validation included.
  Arms run one after another; a run finished in OUT is reused, not retrained, so its time is the time it took then.
"""
from __future__ import annotations
import argparse, json, os, platform, shutil, subprocess, sys, time
from pathlib import Path
import numpy as np, pandas as pd, torch

from siamese_nbdev.data import identity_table, split_identities, read_triplets
from siamese_nbdev.encode import load_encodings
from siamese_nbdev.evaluate import evaluate_embeddings, format_metrics
from siamese_nbdev.cli import default_split

ARMS = {  # name: (what it is, siamese_train's arguments beyond --data and --out)
    'original': ("original recipe: EfficientNet-B0 from scratch, pixels/255, the CSV's fixed triplets, margin 1, Adam 1e-3, 15 epochs",
                 ['--recipe', 'original']),
    'original-lite0': ("original recipe from the offline ImageNet EfficientNet-Lite0 weights",
                       ['--recipe', 'original', '--weights', 'lite0-imagenet']),
    'recommended': ("siamese_train's default (reid) recipe from the offline ImageNet Lite0 weights",
                    ['--weights', 'lite0-imagenet']),
}

def sh(*cmd, **kw) -> subprocess.CompletedProcess:
    "Run `cmd`, stopping the benchmark if it fails"
    r = subprocess.run([str(c) for c in cmd], **kw)
    if r.returncode: sys.exit(f"failed ({r.returncode}): {' '.join(map(str, cmd))}")
    return r

def held_out(data:Path, out:Path) -> tuple[set, Path, Path]:
    "The held-out identities; a folder with only their images; a dataset folder whose train.csv has none of them"
    table = identity_table(data/'train')
    test = split_identities(table, *default_split())[1]  # the split siamese_train makes
    people = set(test.pid)
    test_dir, train_data = out/'test-people', out/'data-without-test-people'
    def copy_test_people(tmp):
        for name in test.name: shutil.copy2(data/'train'/name, tmp/name)
    def write_train_data(tmp):
        pid = table.set_index('name').pid
        triplets = read_triplets(data/'train.csv')
        shows_test = triplets[['Anchor', 'Positive', 'Negative']].apply(lambda c: c.map(pid).isin(people)).any(axis=1)
        triplets[~shows_test].to_csv(tmp/'train.csv', index=False)
        (tmp/'train').symlink_to((data/'train').resolve(), target_is_directory=True)
        print(f"train.csv for the original recipe: {(~shows_test).sum()} of {len(triplets)} triplets (the others show held-out people)")
    make_dir_once(test_dir, copy_test_people)
    make_dir_once(train_data, write_train_data)
    return people, test_dir, train_data

def make_dir_once(path:Path, fill):
    "Unless `path` exists: `fill` a temporary sibling folder, then rename it to `path`, so no half-made folder is ever reused"
    if path.exists(): return
    tmp = path.with_name(f'.{path.name}.tmp'); shutil.rmtree(tmp, ignore_errors=True); tmp.mkdir(parents=True)
    fill(tmp)
    tmp.rename(path)

def train(arm:str, data:Path, out:Path) -> dict:
    "Train `arm` into out/arm/run with `siamese_train`, once; its command and wall time"
    done = out/arm/'train.json'
    if done.exists(): return json.loads(done.read_text())
    cmd = ['siamese_train', '--data', str(data), *ARMS[arm][1], '--out', str(out/arm/'run'), '--overwrite']
    print('$', ' '.join(cmd), flush=True)
    t0 = time.time()
    sh(*cmd)
    rec = dict(command=cmd, seconds=round(time.time() - t0, 1))
    done.write_text(json.dumps(rec, indent=1))
    return rec

def score(arm:str, test_dir:Path, table:pd.DataFrame, out:Path) -> dict:
    "rank-k and mAP of `arm`'s final weights on the held-out people, from `siamese_encode`'s embeddings; checked against `siamese_evaluate`"
    ckpt, enc = out/arm/'run'/'last.pt', out/arm/'test-people.npz'
    sh('siamese_encode', '--model', ckpt, '--images', test_dir, '--out', enc, stdout=subprocess.DEVNULL)
    emb = load_encodings(enc).set_index('Anchor').loc[table.name].to_numpy(np.float32)
    metrics = evaluate_embeddings(emb, table)
    cli = sh('siamese_evaluate', '--model', ckpt, '--images', test_dir, capture_output=True, text=True).stdout.strip()
    if cli != format_metrics(metrics): sys.exit(f"{arm}: siamese_evaluate printed {cli!r}, the Python evaluator {format_metrics(metrics)!r}")
    return metrics

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--data', default='../shared/data/Person-Re-Id-Dataset', help='Market-style dataset folder: train/ and train.csv')
    p.add_argument('--out', default='runs/reid-bench', help='runs, held-out images and results.md go here')
    p.add_argument('--arms', nargs='+', choices=list(ARMS), default=list(ARMS))
    a = p.parse_args(argv)
    data, out = Path(a.data), Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    people, test_dir, train_data = held_out(data, out)
    test_table = identity_table(test_dir)
    print(f"held out: {len(people)} people, {len(test_table)} images in {test_dir}", flush=True)
    rows = []
    for arm in ARMS:
        if arm not in a.arms and not (out/arm/'train.json').exists(): continue
        rec = train(arm, data if arm == 'recommended' else train_data, out)
        m = score(arm, test_dir, test_table, out)
        epochs = len(pd.read_csv(out/arm/'run'/'history.csv'))
        rows.append(dict(arm=arm, recipe=ARMS[arm][0], epochs=epochs, minutes=rec['seconds']/60, **{k: m[k] for k in ('rank1', 'rank5', 'rank10', 'mAP')}))
        print(f"{arm}: {format_metrics(m)}  ({rec['seconds']/60:.1f} min of training)", flush=True)
    df = pd.DataFrame(rows)
    lines = ['| arm | recipe | epochs | training (min) | rank-1 | rank-5 | rank-10 | mAP |', '|---|---|---|---|---|---|---|---|']
    lines += [f"| {r.arm} | {r.recipe} | {r.epochs} | {r.minutes:.1f} | {r.rank1:.3f} | {r.rank5:.3f} | {r.rank10:.3f} | {r.mAP:.3f} |" for r in df.itertuples()]
    if {'original', 'recommended'} <= set(df.arm):
        get = df.set_index('arm').mAP
        lines.append(f"\nmAP, recommended − original: {100*(get['recommended'] - get['original']):+.1f} points"
                     + (f"; recommended − original-lite0: {100*(get['recommended'] - get['original-lite0']):+.1f}" if 'original-lite0' in get else ''))
    cpu = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, torch {torch.__version__}, {torch.get_num_threads()} threads"
    lines.append(f"\nHeld-out people: {len(people)} ({len(test_table)} images), Market-1501 rule, plain Euclidean distance; machine: {cpu}")
    text = '\n'.join(lines)
    (out/'results.md').write_text(text + '\n')
    print('\n' + text)

if __name__ == '__main__': main()
