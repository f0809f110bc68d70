"""tools/build_docs.py expands Quarto's include shortcode as Quarto does, in pages and in README.md, and stops on a
file it cannot include: the docs show measured tables as the scripts that measured them wrote them."""
import importlib.util
from pathlib import Path
import nbformat, pytest
from nbdev.config import get_config

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location('build_docs', ROOT/'tools'/'build_docs.py')
bd = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bd)

TABLE = '| recipe | mAP |\n|---|---|\n| default | 0.786 |\n'

@pytest.fixture
def project(tmp_path):
    "A project with a notebook folder, `nbs/`, and a results file outside it, as `benchmarks/` is"
    (tmp_path/'nbs'/'sub').mkdir(parents=True)
    (tmp_path/'benchmarks').mkdir()
    (tmp_path/'benchmarks'/'results.md').write_text(TABLE)
    return tmp_path

def test_expand_includes(project):
    nbs = project/'nbs'
    md = 'Measured:\n\n{{< include ../benchmarks/results.md >}}\n\nThat is all.'
    assert bd.expand_includes(md, nbs, nbs) == f'Measured:\n\n{TABLE.rstrip()}\n\nThat is all.'
    assert bd.expand_includes('{{< include "../../benchmarks/results.md" >}}', nbs/'sub', nbs) == TABLE.rstrip()
    (nbs/'_part.md').write_text('Part\n\n{{< include ../benchmarks/results.md >}}')  # nested: from the notebook's folder
    assert bd.expand_includes('{{< include /_part.md >}}', nbs, nbs) == f'Part\n\n{TABLE.rstrip()}'
    inline = 'Text {{< include ../benchmarks/results.md >}} in a sentence'  # Quarto includes whole lines only
    assert bd.expand_includes(inline, nbs, nbs) == inline
    escaped = 'Write `{{</* include FILE */>}}`'
    assert bd.expand_includes(escaped, nbs, nbs) == escaped
    assert bd.clean_md(escaped) == 'Write `{{< include FILE >}}`'

def test_include_errors(project):
    nbs = project/'nbs'
    with pytest.raises(bd.IncludeError, match=r'nbs/x.ipynb: \{\{< include ../benchmarks/gone.md >\}\}: there is no file'):
        bd.expand_includes('{{< include ../benchmarks/gone.md >}}', nbs, nbs, 'nbs/x.ipynb')
    (nbs/'loop.md').write_text('{{< include loop.md >}}')
    with pytest.raises(bd.IncludeError, match='includes itself'): bd.expand_includes('{{< include loop.md >}}', nbs, nbs)

def notebook(*cells):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(c) for c in cells])

def test_page_and_readme(project):
    "Pages and README.md are both built from `clean_cells`' output: the table is in both, as markdown and as HTML"
    nbs = project/'nbs'
    cells = ['## Results', '{{< include ../benchmarks/results.md >}}']
    includes = lambda md: bd.expand_includes(md, nbs, nbs, 'nbs/index.ipynb')
    readme, _ = bd.render_readme(bd.clean_cells(notebook(*cells), includes), {'title': 'T'}, bd.DOCS/'images')
    assert TABLE in readme and '{{<' not in readme
    page = bd.render_page(bd.clean_cells(notebook(*cells), includes), {'title': 'T'}, 'cli.html', 'cli.ipynb',
                          [('cli.html', 'T')], get_config())
    assert '<td>0.786</td>' in page and '{{<' not in page

def test_load_names_the_notebook(project):
    "`load` resolves includes from the notebook's own folder in `nbs/`, and names it when the file is missing"
    proc, nbs = project/'_proc', project/'nbs'
    (proc/'sub').mkdir(parents=True)
    nbformat.write(notebook('{{< include ../../benchmarks/results.md >}}'), proc/'sub'/'07_cli.ipynb')
    nb, fm, page = bd.load(proc, Path('sub/07_cli.ipynb'), nbs)
    assert nb.cells[0].source == TABLE.rstrip() and page == 'sub/cli.html'
    nbformat.write(notebook('{{< include ../benchmarks/results.md >}}'), proc/'sub'/'07_cli.ipynb')
    with pytest.raises(bd.IncludeError, match='nbs/sub/07_cli.ipynb'): bd.load(proc, Path('sub/07_cli.ipynb'), nbs)

# ---- what a reader of the built docs and of README.md follows: every relative link and #anchor resolves
import html, re
from urllib.parse import urlsplit, unquote

def _ids(page:Path) -> set: return set(re.findall(r'\sid="([^"]+)"', page.read_text(encoding='utf-8')))

def _broken(src:Path, hrefs) -> list:
    "The links in `hrefs`, relative to `src`, whose file or `#anchor` does not exist"
    bad = []
    for href in hrefs:
        u = urlsplit(html.unescape(href))
        if u.scheme or href.startswith(('//', 'mailto:')): continue
        target = src if not u.path else src.parent/unquote(u.path)
        if not target.exists(): bad.append(f'{src.name}: {href} (no such file)')
        elif u.fragment and target.suffix == '.html' and unquote(u.fragment) not in _ids(target):
            bad.append(f'{src.name}: {href} (no such anchor)')
    return bad

def test_docs_links_resolve():
    pages = sorted((ROOT/'docs').glob('*.html'))
    assert len(pages) >= 10
    bad = [b for p in pages for b in _broken(p, re.findall(r'(?:href|src)="([^"]+)"', p.read_text(encoding='utf-8')))]
    assert not bad, '\n'.join(bad)

def test_readme_links_resolve():
    readme = ROOT/'README.md'
    bad = _broken(readme, re.findall(r'\]\(([^)\s]+)\)', readme.read_text(encoding='utf-8')))
    assert not bad, '\n'.join(bad)

def test_broken_links_are_found(tmp_path):
    (tmp_path/'a.html').write_text('<h2 id="here">x</h2><a href="a.html#here">ok</a><a href="#gone">bad</a><a href="b.html">bad</a>')
    assert _broken(tmp_path/'a.html', ['a.html#here', '#here', 'https://x.org/#y']) == []
    assert _broken(tmp_path/'a.html', ['#gone', 'b.html']) == ['a.html: #gone (no such anchor)', 'a.html: b.html (no such file)']
