"""One-shot recognition of handwritten characters: Lake et al.'s 20 within-alphabet 20-way runs of Omniglot.

    python benchmarks/oneshot.py --omniglot path/to/omniglot --out runs/oneshot-bench
    python benchmarks/oneshot.py ... --arms imagenet   # also the arm from ImageNet weights
    python benchmarks/oneshot.py ... --arms            # train nothing: score the arms already in OUT

About 20 minutes an arm on 2 CPU cores. Not a test: it trains `siamese_train --recipe oneshot` on the two small
background sets exactly as a user would (one command, timed from start to end): from scratch (`scratch`, the
recipe's defaults) and, with `--arms imagenet`, from EfficientNet-Lite0's ImageNet weights. Then it scores on the
20 runs, by nearest embedding as `siamese_evaluate --one-shot` does:
- each fresh run's `best_model.pt` (its epoch chosen by one-shot episodes of held-out background alphabets: the runs
  choose nothing),
- the shipped `OMNIGLOT_MODEL`, and, zero-shot (never trained on characters), the shipped re-id model
  `MARKET_MODEL` and EfficientNet-Lite0's ImageNet features,
- the dataset's own baseline, the modified Hausdorff distance between inked pixels (`mhd_one_shot`),
and writes one markdown table (`--table`, by default `benchmarks/oneshot_results.md`, which the docs include),
beside the published accuracies on the same 20 runs. Every measured accuracy is over the 400 trials, with a 95 %
interval from bootstrap resamples of the runs.
"""
from __future__ import annotations
import argparse, json, platform, subprocess, sys, time
from pathlib import Path
import torch
from siamese_nbdev.model import APN_Model, LITE0_IMAGENET, MARKET_MODEL, OMNIGLOT_MODEL, load_model, load_checkpoint
from siamese_nbdev.oneshot import (evaluate_one_shot, mhd_one_shot, format_one_shot, one_shot_percent,
                                   PUBLISHED_ONE_SHOT)


ARMS = {  # name: (what it is, siamese_train's arguments beyond --data, --recipe oneshot and --out)
    'scratch': ("`siamese_train --recipe oneshot`: conv4 from scratch, the recipe's defaults", []),
    'imagenet': ("the same recipe from EfficientNet-Lite0's ImageNet weights, at 56×56, 20 epochs "
                 "(`--backbone efficientnet_lite0 --weights lite0-imagenet --img-size 56 56 --epochs 20`)",
                 ['--backbone', 'efficientnet_lite0', '--weights', 'lite0-imagenet', '--img-size', '56', '56',
                  '--epochs', '20']),
}

def train(omniglot:Path, run:Path, extra:list) -> float:
    "Train `siamese_train --recipe oneshot` into `run`; its wall-clock minutes, start to end (also in run/train.json)"
    cmd = ['siamese_train', '--data', omniglot/'images_background_small1', omniglot/'images_background_small2',
           '--recipe', 'oneshot', '--out', run, '--device', 'cpu', *extra]
    print(' '.join(map(str, cmd)), flush=True)
    start = time.time()
    if subprocess.run([str(c) for c in cmd]).returncode: sys.exit('training failed')
    minutes = (time.time() - start)/60
    (run/'train.json').write_text(json.dumps(dict(minutes=minutes, threads=torch.get_num_threads())))
    return minutes

def arm_row(name:str, run:Path, runs:Path) -> tuple:
    "An arm's row: what it is, with the epoch kept and its training minutes; what it trained on; its accuracy"
    ckpt, minutes = load_checkpoint(run/'best_model.pt'), json.loads((run/'train.json').read_text())['minutes']
    result = evaluate_one_shot(load_model(run/'best_model.pt'), runs, device='cpu')
    print(f'{name}:', format_one_shot(result), flush=True)
    what = f"{ARMS[name][0]}, fresh: epoch {ckpt['epoch']} of {ckpt['train_args']['epochs']} kept, {minutes:.1f} min"
    return (what, 'the 2 small background sets: 8 alphabets, 2 of them held out to validate', one_shot_percent(result)), result, minutes

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--omniglot', type=Path, required=True, help='folder with images_background_small1/2 and one-shot-runs')
    p.add_argument('--out', type=Path, required=True, help='working folder: each arm trains into OUT/ARM')
    p.add_argument('--arms', nargs='*', default=['scratch'], choices=list(ARMS),
                   help='arms to train now (default: scratch); arms already trained in OUT are scored too')
    p.add_argument('--table', type=Path, default=Path(__file__).parent/'oneshot_results.md')
    a = p.parse_args()
    runs = a.omniglot/'one-shot-runs'
    for name in a.arms: train(a.omniglot, a.out/name, ARMS[name][1])
    rows, fresh = [], {}
    for name in ARMS:
        if (a.out/name/'train.json').exists():
            row, fresh[name], minutes = arm_row(name, a.out/name, runs)
            rows.append(row)
            if name == 'scratch': scratch_minutes = minutes
    omni = None
    if OMNIGLOT_MODEL.exists():  # shipped from a run of this script (`tools/ship_model.py --oneshot-run`)
        omni = evaluate_one_shot(load_model(OMNIGLOT_MODEL), runs, device='cpu')
        rows.append((f"`OMNIGLOT_MODEL` (shipped: `{load_checkpoint(OMNIGLOT_MODEL)['trained_by']}`)",
                     'the same', one_shot_percent(omni)))
    market = evaluate_one_shot(load_model(MARKET_MODEL), runs, device='cpu')
    rows.append(('`MARKET_MODEL`, zero-shot', 'people (Market-1501), never characters', one_shot_percent(market)))
    lite = APN_Model('efficientnet_lite0', embed_size=0, weights=LITE0_IMAGENET, img_size=(105, 105)).eval()
    rows.append(('EfficientNet-Lite0 ImageNet features at 105×105, zero-shot', 'ImageNet photographs',
                 one_shot_percent(evaluate_one_shot(lite, runs, device='cpu'))))
    rows.append(("Modified Hausdorff distance (the dataset's baseline, `mhd_one_shot`)", 'nothing',
                 one_shot_percent(mhd_one_shot(runs))))
    table = ['| method | trained on | 20-way one-shot accuracy, % (95 % interval) |', '|---|---|---|']
    table += [f'| {who} | {on} | **{acc}** |' for who, on, acc in rows]
    table += [f'| {who} (published) | {on} | {acc:.1f} ({src}) |' for who, on, acc, src in PUBLISHED_ONE_SHOT]
    cpu = platform.processor() or platform.machine()
    text = (f"Written by `python benchmarks/oneshot.py` on {cpu}, {torch.get_num_threads()} threads, torch "
            f"{torch.__version__}. Measured rows: 400 trials (20 runs of 20), intervals from 2,000 bootstrap "
            "resamples of the runs. Published rows are as their authors report them on the same runs, not rerun "
            "here.\n\n" + '\n'.join(table) + '\n')
    if 'scratch' in fresh:
        ok = scratch_minutes <= 20 and fresh['scratch']['accuracy'] >= 0.92
        text += (f"\nTarget for a fresh `siamese_train --recipe oneshot`: ≥ 92 % in ≤ 20 minutes on two CPU cores: "
                 f"**{'met' if ok else 'missed'}** ({100*fresh['scratch']['accuracy']:.1f} % in {scratch_minutes:.1f} min).\n")
    if omni is not None: text += (f"\nTarget for `OMNIGLOT_MODEL`: ≥ 93 %: "
                                  f"**{'met' if omni['accuracy'] >= 0.93 else 'missed'}** ({100*omni['accuracy']:.1f} %).\n")
    a.table.write_text(text)
    print(text)

if __name__ == '__main__': main()
