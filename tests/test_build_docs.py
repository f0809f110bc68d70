"""tools/build_docs.py expands Quarto's include shortcode as Quarto does, in pages and in README.md, and stops on a
file it cannot include: the docs show measured tables as the scripts that measured them wrote them. Each figure's
alt text is its cell's `#| fig-alt:` (the build stops on a figure without one), and a page with several headings
gets a table of contents. The `test_built_docs_*` tests read the committed docs/ and README.md: after a change to
the build or the notebooks they pass once the docs are rebuilt (`python tools/build_docs.py`)."""
import importlib.util, re
from html.parser import HTMLParser
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

# ---- what a reader sees: the build stops on a missing figure, a link that leads nowhere, a machine path
def test_built_docs_are_sound():
    "The committed pages and README.md: every relative link and #anchor resolves, no machine path (the build's check)"
    assert len(list((ROOT/'docs').glob('*.html'))) >= 10
    bad = bd.check_built(ROOT/'docs', ROOT/'README.md')
    assert not bad, '\n'.join(bad)

def test_broken_links_are_found(tmp_path):
    (tmp_path/'a.html').write_text('<h2 id="here">x</h2><a href="a.html#here">ok</a><a href="#gone">bad</a><a href="b.html">bad</a>')
    assert bd.broken_links(tmp_path/'a.html', ['a.html#here', '#here', 'https://x.org/#y']) == []
    assert bd.broken_links(tmp_path/'a.html', ['#gone', 'b.html']) == ['a.html: #gone (no such anchor)', 'a.html: b.html (no such file)']
    assert bd.check_built(tmp_path, tmp_path/'README.md') == ['a.html: #gone (no such anchor)', 'a.html: b.html (no such file)']

def test_missing_figures_are_found():
    new, out = nbformat.v4.new_code_cell, nbformat.v4.new_output
    png = out('display_data', data={'image/png': 'iVBOR', 'text/plain': '<Figure size 640x480 with 1 Axes>'})
    as_text = out('execute_result', data={'text/plain': '<Figure size 882x290 with 6 Axes>'}, execution_count=1)
    nb = nbformat.v4.new_notebook(cells=[
        new('plot_closest_imgs(q, closest)', outputs=[png]),  # shown: fine
        new('plot_closest_imgs(q, closest)', outputs=[as_text]),  # saved as text only
        new('fig, ax = plt.subplots()\nax.imshow(img)'),  # never run
        new('#| eval: false\nplt.plot(x)'),  # not run on purpose: not shown, not a figure
        new('x = 1 + 1'),
        new('def browse(q):\n    fig = plt.figure()\n    return plot_closest_imgs(q, c, d)'),  # defines, draws nothing
        new('fig = plot_closest_imgs(q, c, d)\ntest_eq(len(fig.axes), 6)'),  # a test of the figure, not a display
        new('plot_losses(history)')])  # run without its figure saved
    bad = bd.missing_figures(nb, 'nbs/x.ipynb')
    assert [b.split(':')[0] for b in bad] == ['nbs/x.ipynb cell 1 (plot_closest_imgs(q, closest))',
                                              'nbs/x.ipynb cell 2 (fig, ax = plt.subplots())',
                                              'nbs/x.ipynb cell 7 (plot_losses(history))']
    assert 'text only' in bad[0] and 'no image saved' in bad[1]

def test_raw_markdown_is_found():
    nested = '(<a href="model.html#f"><code>f</code></a>](model.html#f)) and'
    assert len(bd.raw_markdown(f'<p>the layers {nested}</p>', 'cli.html')) == 1
    assert len(bd.raw_markdown('<p>see [the model](model.html#apn_model)</p>', 'cli.html')) == 1
    assert bd.raw_markdown('<p>see <a href="model.html#apn_model">the model</a> and x[0](y)</p>', 'cli.html') == []

def test_machine_paths_are_found():
    for shown in ['/work/shared/data/Person-Re-Id-Dataset cpu', 'best checkpoint: /tmp/tmpxiy2uyg1/best_model.pt',
                  'siamese_train --data ../shared/data/x', 'C:\\Users\\ann\\x.jpg', 'in /home/ann/x.py, line 3']:
        assert len(bd.machine_paths(f'<pre>{shown}</pre>', 'p.html')) == 1, shown
    for fine in ['siamese_train --data path/to/Person-Re-Id-Dataset', 'nbs/02_train.ipynb', 'docs/images/x.png',
                 '<img src="data:image/png;base64,AAAA/work/AAAA">', 'run/best_model.pt', 'tempfile.mkdtemp()']:
        assert bd.machine_paths(fine, 'p.html') == [], fine

def test_code_lines_fit():
    "Code in the notebooks fits the docs' code boxes: no line over 120 characters (`#|` options are not shown)"
    long = [f'{nb.name} cell {i}: {len(l)} characters: {l[:60]}...'
            for nb in sorted((ROOT/'nbs').glob('*.ipynb'))
            for i, c in enumerate(nbformat.read(nb, as_version=4).cells) if c.cell_type == 'code'
            for l in c.source.splitlines() if len(l) > 120 and not l.startswith('#|')]
    assert not long, '\n'.join(long)


# ---- figures say what they show (alt text); long pages have a table of contents
PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='
PLACEHOLDER = 'No description has been provided for this image'  # nbconvert's alt text when none is given

def figure_cell(src:str):
    "A code cell that drew a figure: `src` and a PNG output"
    out = nbformat.v4.new_output('display_data', data={'image/png': PNG, 'text/plain': '<Figure size 640x480>'})
    return nbformat.v4.new_code_cell(src, outputs=[out])

class _Page(HTMLParser):
    "The alt text of each `<img>` (None: no alt), the id of each heading h1-h3, and the table of contents' links"
    def __init__(self):
        super().__init__()
        self.alts, self.heads, self.toc, self._in_toc = [], [], [], False
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == 'img': self.alts.append(a.get('alt'))
        if tag in ('h1', 'h2', 'h3') and a.get('id'): self.heads.append(a['id'])
        if tag == 'nav' and 'toc' in a.get('class', '').split(): self._in_toc = True
        if tag == 'a' and self._in_toc: self.toc.append(a['href'])
    def handle_endtag(self, tag):
        if tag == 'nav': self._in_toc = False

def parse_page(text:str) -> _Page:
    p = _Page(); p.feed(text); p.close()
    return p

def page_of(nb, page:str='p.html') -> str:
    "The page `render_page` makes of notebook `nb`, after `clean_cells`"
    return bd.render_page(bd.clean_cells(nb), {'title': 'T'}, page, 'p.ipynb', [(page, 'T')], get_config())

def test_fig_alt():
    "A cell's `#| fig-alt:` is its figure's alt text on the page and in README.md, and is not shown as code"
    alt = 'Training loss falling over three epochs'
    nb = nbformat.v4.new_notebook(cells=[figure_cell(f'#| fig-alt: {alt}\nplot_losses(history)'),
                                         figure_cell(f'#| echo: false\n#| fig-alt: "{alt}, again"\nplt.plot(x)')])
    page = page_of(nb)
    assert parse_page(page).alts == [alt, f'{alt}, again']
    assert 'fig-alt' not in page and 'plot_losses' in page and '>plt<' not in page  # the source shown, without options
    nb = nbformat.v4.new_notebook(cells=[figure_cell(f'#| fig-alt: {alt}\nplot_losses(history)')])
    readme, images = bd.render_readme(bd.clean_cells(nb), {'title': 'T'}, bd.DOCS/'images')
    assert re.findall(r'!\[([^\]]*)\]\(docs/images/readme_0_0.png\)', readme) == [alt]

def test_figures_without_alt_are_found():
    "The build names each figure cell without a `fig-alt`; a figure not shown (output: false) needs none"
    nb = nbformat.v4.new_notebook(cells=[figure_cell('#| fig-alt: Loss per epoch\nplot_losses(h)'),
                                         figure_cell('plot_losses(h)'), figure_cell('#| echo: false\nplt.plot(x)'),
                                         figure_cell('#| output: false\nplt.plot(x)'),
                                         nbformat.v4.new_code_cell('x = 1')])
    bad = bd.figures_without_alt(nb, 'nbs/x.ipynb')
    assert [b.split(':')[0] for b in bad] == ['nbs/x.ipynb cell 1 (plot_losses(h))', 'nbs/x.ipynb cell 2 (plt.plot(x))']
    assert 'add `#| fig-alt: what it shows`' in bad[0]

def test_images_without_alt_are_found():
    fine = ['<img alt="A loss curve" src="data:image/png;base64,AAAA">',
            '<img src="a.png" alt="The query &amp; its matches">']
    bad = ['<img src="a.png">', '<img alt="" src="a.png">',
           f'<img alt="{PLACEHOLDER}"\nsrc="data:image/png;base64,AAAA">']
    for page in fine: assert bd.images_without_alt(page, 'p.html') == [], page
    for page in bad: assert len(bd.images_without_alt(page, 'p.html')) == 1, page
    assert 'base64,...' in bd.images_without_alt(bad[2], 'p.html')[0]  # the message does not print the image
    md = '![A query](docs/q.png) and ![png](docs/images/readme_9_0.png) ![](x.png)'
    assert bd.images_without_alt(md, 'README.md') == [
        'README.md: an image without alt text: ![png](docs/images/readme_9_0.png)',
        'README.md: an image without alt text: ![](x.png)']

def test_page_toc():
    "A page with TOC_MIN headings or more lists them all at the top, in order, each link to its heading"
    md = ['# Part 1', 'Text', '## The `triplets`', '### Sub-part', '#### Too deep for it', '## Training']
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(c) for c in md])
    page = page_of(nb)
    p = parse_page(page)
    assert p.toc == ['#part-1', '#the-triplets', '#sub-part', '#training']
    assert p.heads == ['part-1', 'the-triplets', 'sub-part', 'training']  # h4 not parsed: not in the contents
    toc = re.search(r'<nav class="toc".*?</nav>', page, re.S)[0]
    assert '<li class="toc-h2"><a href="#the-triplets">The <code>triplets</code></a></li>' in toc and '¶' not in toc
    assert page.index('<nav class="toc"') < page.index('<h1 id="part-1"')
    short = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell('## Only one')])
    assert 'class="toc"' not in page_of(short)

def test_built_docs_describe_figures():
    "The committed pages and README.md: every image has alt text, not nbconvert's placeholder (rebuild the docs to fix)"
    no_alt = [f'{p.name}: {alt!r}' for p in sorted((ROOT/'docs').glob('*.html'))
              for alt in parse_page(p.read_text(encoding='utf-8')).alts if (alt or '').strip() in ('', PLACEHOLDER)]
    no_alt += [f'README.md: {alt!r}' for alt in re.findall(r'!\[([^\]]*)\]\(', (ROOT/'README.md').read_text())
               if alt.strip() in ('', 'png')]
    assert not no_alt, f'{len(no_alt)} images without alt text:\n' + '\n'.join(no_alt)

def test_built_docs_have_toc():
    "Each committed page with TOC_MIN headings or more has a table of contents linking every one of them"
    for f in sorted((ROOT/'docs').glob('*.html')):
        p = parse_page(f.read_text(encoding='utf-8'))
        if len(p.heads) >= bd.TOC_MIN: assert p.toc == [f'#{h}' for h in p.heads], f.name
