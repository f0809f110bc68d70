"""Execute notebooks in place, so that their saved outputs (the docs pages show them) are the current code's.

Each notebook runs top to bottom in a fresh kernel from its own folder, `slow` cells included (the docs show their
outputs); then its stream outputs are stored as Jupyter shows them: consecutive pieces merged, each line as its last
carriage return leaves it, and the streams left blank (finished progress bars) dropped; then `nbdev_clean` tidies
the metadata. The tutorial needs the dataset: set `SIAMESE_DATA` (see the README).

Usage, from the repo root:  python tools/run_notebooks.py nbs/02_train.ipynb [nbs/05e_recipes.ipynb ...]
"""
import argparse, subprocess, sys, time
from pathlib import Path
import nbformat
from nbconvert.preprocessors import ExecutePreprocessor

def visible(text:str) -> str:
    "`text` as a terminal or Jupyter shows it: on each line, what the last carriage return leaves"
    return '\n'.join(line.rsplit('\r', 1)[-1] for line in text.split('\n'))

def tidy_streams(nb) -> int:
    "Merge each cell's consecutive stream outputs, keep their visible text, drop blank ones; how many went"
    gone = 0
    for c in nb.cells:
        if c.cell_type != 'code': continue
        outs = []
        for o in c.outputs:
            if o.output_type == 'stream' and outs and outs[-1].output_type == 'stream' and outs[-1].name == o.name:
                outs[-1].text += o.text
            else: outs.append(o)
        for o in outs:
            if o.output_type == 'stream': o.text = visible(o.text)
        keep = [o for o in outs if not (o.output_type == 'stream' and not o.text.strip())]
        gone += len(c.outputs) - len(keep)
        c.outputs = keep
    return gone

def run(path:Path, timeout:int):
    "Execute `path` in place, then tidy its streams and clean it"
    t0, nb = time.time(), nbformat.read(path, as_version=4)
    ExecutePreprocessor(timeout=timeout, kernel_name='python3').preprocess(nb, {'metadata': {'path': str(path.parent)}})
    gone = tidy_streams(nb)
    nbformat.write(nb, path)
    subprocess.run(['nbdev_clean', '--fname', str(path)], check=True)
    print(f"{path}: executed in {time.time() - t0:.0f} s; {gone} stream pieces merged or dropped", flush=True)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('notebooks', nargs='+', type=Path)
    ap.add_argument('--timeout', type=int, default=1800, help='seconds a cell may take')
    a = ap.parse_args()
    for p in a.notebooks: run(p, a.timeout)
