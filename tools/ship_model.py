"""Make the trained models that ship with the package, `MARKET_MODEL` and `OMNIGLOT_MODEL`, and their records.

    python benchmarks/reid.py --data DATA --out runs/reid-bench --runs default   # trains it: under 20 minutes on 2 CPU cores
    python tools/ship_model.py --bench runs/reid-bench
    python benchmarks/oneshot.py --omniglot OMNIGLOT --out runs/oneshot-bench    # about 20 minutes on 2 CPU cores
    python tools/ship_model.py --oneshot-run runs/oneshot-bench/scratch --omniglot OMNIGLOT

The model is the re-id benchmark's `default` arm: `siamese_train`'s default recipe (`--weights lite0-imagenet`),
trained and validated on 521 of the dataset's 651 people, its epoch chosen by validation mAP. The benchmark's 130 test
people, whom no choice ever looked at, are stored in the checkpoint as `held_out_people`: the demo and the tutorial
score the model only on them. The weights are stored in float16; the stored model is scored on the test people and
the record, `market_lite0.md`, is written beside it. The checkpoint stores the run's whole history (`history`).
"""
import argparse, json, os, platform
from pathlib import Path
import numpy as np, pandas as pd
from siamese_nbdev.data import identity_table
from siamese_nbdev.model import load_checkpoint, load_model, save_checkpoint, MARKET_MODEL, OMNIGLOT_MODEL
from siamese_nbdev.oneshot import evaluate_one_shot, one_shot_percent
from siamese_nbdev.encode import encode_images
from siamese_nbdev.evaluate import evaluate_embeddings, bootstrap_metrics

def score(model, table:pd.DataFrame, folder:Path) -> dict:
    "Metrics with each query's result, on the test people"
    return evaluate_embeddings(encode_images(model, table.name, folder, device='cpu'), table, per_query=True)

def cells(m:dict) -> str:
    "rank-1, rank-5 and mAP, each with its 95 % bootstrap interval"
    b = bootstrap_metrics(m['per_query'])
    ci = lambda k: f"{m[k]:.3f} ({np.percentile(b[k], 2.5):.3f}–{np.percentile(b[k], 97.5):.3f})"
    return ' | '.join(ci(k) for k in ('rank1', 'rank5', 'mAP'))

def main(bench:Path, dest:Path=MARKET_MODEL):
    run, test_dir = bench/'default'/'run', bench/'test-people'
    trained = json.loads((bench/'default'/'train.json').read_text())
    history = pd.read_csv(run/'history.csv')
    epochs = len(history)
    ckpt, table = load_checkpoint(run/'best_model.pt'), identity_table(test_dir)
    dev = identity_table(bench/'dev-data'/'train')
    if set(dev.pid) & set(table.pid): raise SystemExit(f"{bench}: test people in the development data")
    full = load_model(run/'best_model.pt')
    command = ' '.join(['siamese_train'] + [a if not a.startswith(str(bench)) else Path(a).name for a in trained['command'][1:]])
    save_checkpoint(full, dest, half=True, epoch=ckpt['epoch'], held_out_people=sorted(int(p) for p in table.pid.unique()),
                    trained_by=command, history=history.replace({np.nan: None}).to_dict('records'))
    shipped = load_model(dest)
    m_half, m_full = score(shipped, table, test_dir), score(full, table, test_dir)
    cfg = shipped.config
    text = f"""# `market_lite0.pt`, the model that ships with siamese_nbdev

`load_model(MARKET_MODEL)`: {cfg.backbone} with a {cfg.embed_size}-d embedding, {cfg.img_size[0]}×{cfg.img_size[1]} inputs, each image embedded with its mirror image (`flip_average`). Stored in float16, {dest.stat().st_size/2**20:.1f} MB.

**Trained** by `{command}`: `siamese_train`'s default recipe, identity-aware, from EfficientNet-Lite0's ImageNet weights, on {dev.pid.nunique()} of the dataset's 651 people ({len(dev)} images), of whom `siamese_train` validates on 20 %; epoch {ckpt['epoch']} of {epochs} kept, by validation mAP; {trained['seconds']/60:.1f} minutes for the whole command on {platform.machine()}, {os.cpu_count()} CPU cores. The checkpoint stores its whole training history (`history`).

**Scored** on the {table.pid.nunique()} people it never saw, in training or in any choice ({len(table)} images, {m_half['queries']} queries, Market-1501 rule: the query's person seen by the query's camera left out); 95 % intervals from 2000 bootstrap resamples of the people:

| weights | rank-1 | rank-5 | mAP |
|---|---|---|---|
| float16, as shipped | {cells(m_half)} |
| float32, as trained | {cells(m_full)} |

The checkpoint lists those people as `held_out_people`. Written by `tools/ship_model.py` from the re-id benchmark's runs (`benchmarks/reid.py`).
"""
    dest.with_suffix('.md').write_text(text)
    print(text)

def ship_oneshot(run:Path, omniglot:Path, dest:Path=OMNIGLOT_MODEL):
    "`run`'s best epoch as `OMNIGLOT_MODEL`, in float16, with its whole training history; scored on the 20 runs"
    ckpt, history = load_checkpoint(run/'best_model.pt'), pd.read_csv(run/'history.csv')
    args = ckpt['train_args']
    data = ' '.join(Path(d).name for d in args['data'])
    command = f"siamese_train --data {data} --recipe oneshot --out {run.name}"
    save_checkpoint(load_model(run/'best_model.pt'), dest, half=True, epoch=ckpt['epoch'],
                    history=history.to_dict('records'), trained_by=command)
    shipped, full = (evaluate_one_shot(load_model(p), omniglot/'one-shot-runs', device='cpu')
                     for p in (dest, run/'best_model.pt'))
    cfg, minutes = load_model(dest).config, history.seconds.sum()/60
    text = f"""# `{dest.name}`, the one-shot model that ships with siamese_nbdev

`load_model(OMNIGLOT_MODEL)`: {cfg.backbone} (four blocks of 3×3 convolution, batch norm, ReLU and max-pool), its {cfg.embed_size} pooled features the embedding, {cfg.img_size[0]}×{cfg.img_size[1]} inputs, no mirror averaging (a mirrored character is another one). Stored in float16, {dest.stat().st_size/2**10:.0f} kB, with its training history (`history`).

**Trained** by `{command}`: the one-shot recipe from scratch on Omniglot's two small background sets ({data}: 8 alphabets, Greek and Latin in both counted once), two alphabets held out by `siamese_train` to validate on 20-way one-shot episodes; epoch {ckpt['epoch']} of {len(history)} kept, by validation accuracy; {minutes:.1f} minutes of epochs on {platform.machine()}, {os.cpu_count()} CPU cores.

**Scored** on Lake et al.'s 20 within-alphabet 20-way runs (400 trials; alphabets none of the background sets has, and that no choice ever looked at), by nearest embedding (`evaluate_one_shot`); 95 % intervals from 2000 bootstrap resamples of the runs:

| weights | accuracy, % |
|---|---|
| float16, as shipped | {one_shot_percent(shipped)} |
| float32, as trained | {one_shot_percent(full)} |

Written by `tools/ship_model.py` from the one-shot benchmark's run (`benchmarks/oneshot.py`).
"""
    dest.with_suffix('.md').write_text(text)
    print(text)

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--bench', type=Path, default=Path('runs/reid-bench'), help="benchmarks/reid.py's --out folder")
    p.add_argument('--oneshot-run', type=Path, help="ship this run of benchmarks/oneshot.py as OMNIGLOT_MODEL instead")
    p.add_argument('--omniglot', type=Path, help='the Omniglot folder, with one-shot-runs (for --oneshot-run)')
    a = p.parse_args()
    if a.oneshot_run: ship_oneshot(a.oneshot_run, a.omniglot)
    else: main(a.bench)
