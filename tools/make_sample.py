"""Build the small real sample that ships in `siamese_nbdev/sample` from the full Person-Re-Id-Dataset.

Run once by the maintainers (`python tools/make_sample.py ../shared/data/Person-Re-Id-Dataset`); the result is
committed. It picks 40 identities seen by at least two cameras, 8 images each spread over the cameras, and
writes one Anchor/Negative/Positive triplet per image, laid out like the original dataset.
"""
import random, shutil, sys
from collections import defaultdict
from pathlib import Path
import pandas as pd

def main(src, dest='siamese_nbdev/sample', n_ids=40, per_id=8, seed=42):
    src, dest = Path(src), Path(dest)
    by_pid = defaultdict(list)
    for p in sorted((src/'train').glob('*.jpg')): by_pid[p.name[:4]].append(p.name)
    eligible = [pid for pid, names in by_pid.items()
                if len(names) >= per_id and len({n.split('_')[1][:2] for n in names}) >= 2]
    rng = random.Random(seed)
    pids = sorted(rng.sample(eligible, n_ids))
    chosen = {}
    for pid in pids:
        by_cam = defaultdict(list)
        for n in by_pid[pid]: by_cam[n.split('_')[1][:2]].append(n)
        names, cams = [], sorted(by_cam)
        while len(names) < per_id:  # round-robin over cameras
            for c in cams:
                if by_cam[c] and len(names) < per_id: names.append(by_cam[c].pop(0))
        chosen[pid] = sorted(names)
    if dest.exists(): shutil.rmtree(dest)
    (dest/'train').mkdir(parents=True)
    rows = []
    for pid, names in chosen.items():
        for n in names:
            shutil.copy(src/'train'/n, dest/'train'/n)
            pos = rng.choice([m for m in names if m != n])
            neg = rng.choice(chosen[rng.choice([q for q in pids if q != pid])])
            rows.append(dict(Anchor=n, Negative=neg, Positive=pos))
    pd.DataFrame(rows).to_csv(dest/'train.csv', index=False)
    print(f'{len(rows)} triplets, {len(pids)} identities written to {dest}')

if __name__ == '__main__': main(*sys.argv[1:2])
