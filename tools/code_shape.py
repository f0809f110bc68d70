"""The shape of the package's code, measured on the notebooks' JSON and the exported modules' AST.

Prints a markdown table: lines per exported cell (median / 90th percentile / max), exported cells that define more
than one public name, function lines (median / 90th percentile), functions over 30 lines or 8 parameters, and, for
the names given with --where, the line of its cell each one starts at and its length.

Usage, from the repo root:  python tools/code_shape.py [--where train_fn fit siamese_train]
"""
import argparse, ast, json
from pathlib import Path
import numpy as np

ROOT = Path(__file__).resolve().parent.parent

def exported_cells(nb_path:Path) -> list:
    "The source lines of each `#| export` / `#| exports` cell of the notebook, directives left out"
    cells = json.loads(nb_path.read_text(encoding='utf-8'))['cells']
    out = []
    for c in cells:
        if c['cell_type'] != 'code': continue
        lines = ''.join(c['source']).splitlines()
        flags = [l.replace(' ', '') for l in lines if l.lstrip().startswith('#|')]
        if any(f.startswith(('#|export', '#|exports')) and not f.startswith('#|exporti') for f in flags):
            out.append([l for l in lines if not l.lstrip().startswith('#|')])
    return out

def public_names(src:str) -> list:
    "Top-level public names a cell defines: functions, classes and assignments not starting with `_`"
    names = []
    for node in ast.parse(src).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)): names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names += [t.id for t in targets if isinstance(t, ast.Name)]
    return [n for n in names if not n.startswith('_')]

def functions(lib:Path) -> list:
    "(module, name, lines, parameters) of every function and method in the library's modules"
    out = []
    for py in sorted(lib.glob('*.py')):
        if py.name.startswith('_'): continue
        for node in ast.walk(ast.parse(py.read_text(encoding='utf-8'))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                a = node.args
                n_params = len(a.posonlyargs + a.args + a.kwonlyargs) - bool(a.args and a.args[0].arg in ('self', 'cls'))
                out.append((py.stem, node.name, node.end_lineno - node.lineno + 1, n_params))
    return out

def where(name:str, cells:dict) -> str:
    "Where `name` is defined: notebook, the line of its cell it starts at, and the cell's length"
    for nb, cs in cells.items():
        for c in cs:
            for i, l in enumerate(c):
                if l.startswith((f'def {name}(', f'class {name}(', f'class {name}:', f'{name} =')):
                    return f'{nb}: line {i + 1} of a {len(c)}-line cell'
    return 'not found'

def main(names:list):
    nbs = sorted(p for p in (ROOT/'nbs').glob('[0-9]*.ipynb'))
    cells = {p.name: exported_cells(p) for p in nbs}
    all_cells = [c for cs in cells.values() for c in cs]
    sizes = np.array([len(c) for c in all_cells])
    multi = sum(len(public_names('\n'.join(c))) > 1 for c in all_cells)
    fns = functions(ROOT/'siamese_nbdev')
    f_lines = np.array([f[2] for f in fns])
    print('| | siamese_nbdev |\n|---|---|')
    print(f'| lines per exported cell, median / 90th pct / max | {np.median(sizes):g} / '
          f'{np.percentile(sizes, 90):.0f} / {sizes.max()} |')
    print(f'| exported cells defining more than one public name | {multi} of {len(all_cells)} |')
    print(f'| exported cells over 40 lines | {(sizes > 40).sum()} |')
    print(f'| function lines, median / 90th pct | {np.median(f_lines):g} / {np.percentile(f_lines, 90):.0f} |')
    long = [f'{m}.{n} ({l})' for m, n, l, _ in fns if l > 30]
    many = [f'{m}.{n} ({p})' for m, n, _, p in fns if p > 8]
    print(f'| functions over 30 lines | {len(long)} of {len(fns)}: {", ".join(long) or "none"} |')
    print(f'| functions with more than 8 parameters | {len(many)}: {", ".join(many) or "none"} |')
    for n in names:
        lines = [f for f in fns if f[1] == n]
        size = f', {lines[0][2]} lines, {lines[0][3]} parameters' if lines else ''
        print(f'| `{n}` | {where(n, cells)}{size} |')

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--where', nargs='*', default=['train_fn', 'fit', 'APN_Dataset', 'siamese_train'],
                    help='names to locate in their cells')
    main(ap.parse_args().where)
