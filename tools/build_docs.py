"""Offline docs build: nbdev's notebook processing + nbconvert, no Quarto.

Why this exists: nbdev renders its docs with Quarto, which cannot be installed on our development machines. This
script produces the same pages from the same processed notebooks so the docs can be built, read and checked
locally and in CI:

1. `nbdev.serve.proc_nbs` writes processed notebooks into `_proc/` (gitignored), exactly as `nbdev_docs` does
   before it calls Quarto: `#| hide` and `#| export` cells are dropped, `show_doc` cells are added and executed
   (signatures with their docments), the first `# Title` / `> description` cell becomes a frontmatter raw cell,
   and backticked names become links to the docs site.
2. Each processed notebook becomes one static page `docs/<name>.html` (named by nbdev's `output-file`, so
   `00_data.ipynb` -> `data.html`) with nbconvert's HTMLExporter. Nothing is executed: the outputs stored in the
   notebooks, plots included (embedded as data URIs), are what the pages show, as with nbdev's Quarto config.
   The Quarto-only bits nbdev leaves in `_proc` are handled here: Quarto's `{{< include FILE >}}` lines in
   markdown cells are replaced by the file's text (FILE relative to the notebook's folder, or to `nbs/` when it
   starts with `/`, as Quarto resolves it; a missing file stops the build), cell options (`#| echo: false`,
   `#| output: false`, `#| include: false`, `#| fig-alt: text`) are applied and stripped, `:::` fenced divs become
   `<div>`s, `[text](url){attrs}` links become `<a>` tags, links to the docs site and to the repository become relative
   links (see Links), and heading ids follow Pandoc's lowercase scheme so nbdev's `page.html#name` links resolve.
   A cell's `fig-alt` becomes the alt text of its figures, as in Quarto (nbconvert's default alt text says only
   that none was given): the build stops on a figure without one. A page with `TOC_MIN` or more headings (levels
   1-3 in its cells) gets an on-page table of contents, as nbs/_quarto.yml's `toc: true` gives Quarto's pages: at
   the top of the page, or beside it on a wide screen.
3. `README.md` is rendered from `_proc/index.ipynb` with nbconvert's MarkdownExporter; its images are written to
   `docs/images/readme_*.png` and referenced relative to the repo root, with their cells' `fig-alt` as alt text.

Links. The project has no published docs site and no public repository, yet nbdev links every backticked name to
the docs site (settings.ini's `doc_host` + `doc_baseurl`) and show_doc adds a "source" link to each definition on
the git host (`git_url`/blob/`branch`/FILE#Lnn). So every link to the docs site becomes a link to the page in
`docs/`, and every source link a link to FILE in the repository relative to the page (`../siamese_nbdev/data.py`;
no `#Lnn`, which only a git host shows); the sidebar links to the page's notebook. The pages thus work wherever
the repository is (a clone, file://, any static host), and the build stops on a link left pointing at either URL.
README.md links to `docs/PAGE.html` and to other files by their path from the repo root, which the repository's
web view resolves. The package index renders README.md (setup.py's `long_description`) without the repository,
where no relative link resolves: setup.py's `pypi_readme` turns each relative link into its text and drops
relative images, so the index shows only links to published sites. tests/test_links.py checks all three: every
relative link and `#anchor` resolves, and absolute links go only to an allow-list of published sites.

The output is deterministic (no timestamps, no random cell ids), so CI can rebuild and check `git diff`. The
pages work from file:// and from any static host (GitHub Pages included). The hosted docs are still built by nbdev
and Quarto: `.github/workflows/deploy.yaml` runs fastai's quarto-ghp workflow (`nbdev_docs`, then publishes
`_docs/` to the gh-pages branch). This script always writes `docs/`, whatever `doc_path` says.

Usage, from the repo root:  python tools/build_docs.py [--cached]
"""
import argparse, ast, html, os, posixpath, re, sys, time
from urllib.parse import unquote, urlsplit
from pathlib import Path

import nbformat, yaml
from nbconvert import HTMLExporter, MarkdownExporter
from nbconvert.filters import markdown2html
from nbconvert.preprocessors import CoalesceStreamsPreprocessor
from nbdev.config import get_config
from nbdev.doclinks import nbglob
from nbdev.serve import proc_nbs
from pygments.formatters import HtmlFormatter

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT/'docs'

def notebooks(nbs_path:Path) -> list:
    "Notebook paths relative to `nbs_path`, in nbdev's sidebar order (each folder's index first, then by name)"
    files = [Path(f).relative_to(nbs_path) for f in nbglob(nbs_path, func=Path)]
    return sorted(files, key=lambda p: (p.parent.parts, '00' if p.name.startswith('index.') else p.name))

def pop_frontmatter(nb) -> dict:
    "Remove the `---` frontmatter raw cell nbdev puts first, and return its fields (title, description, output-file)"
    c = nb.cells[0] if nb.cells else None
    if c is None or c.cell_type != 'raw' or not c.source.lstrip().startswith('---'): return {}
    nb.cells.pop(0)
    return yaml.safe_load(c.source.strip().strip('-')) or {}

_re_dir = re.compile(r'^\s*#\s*\|\s*([\w-]+)\s*:?\s*(.*?)\s*$')

def split_directives(src:str):
    "The leading `#| name: value` lines of a code cell as a dict, and the source without them"
    lines, dirs = src.splitlines(), {}
    while lines and (m := _re_dir.match(lines[0])): dirs[m[1]] = m[2].strip('"\''); lines.pop(0)
    return dirs, '\n'.join(lines)

def fenced_divs(md:str) -> str:
    "Turn Quarto/Pandoc `::: {.class}` ... `:::` fenced divs into HTML `<div>`s (blank lines keep markdown inside)"
    out = []
    for line in md.splitlines():
        m = re.match(r'^\s*:{3,}\s*(.*?)\s*$', line)
        if not m: out.append(line); continue
        classes = ' '.join(a[1:] for a in m[1].strip('{} ').split() if a.startswith('.'))
        out += [f'<div class="{classes}">', ''] if m[1] else ['', '</div>']
    return '\n'.join(out)

_re_attr_link = re.compile(r'\[([^\]]*)\]\(([^)\s]+)\)\{([^}]*)\}')

def attr_links(md:str) -> str:
    "Turn Pandoc links with attributes, `[source](url){target=\"_blank\" ...}` (from show_doc), into `<a>` tags"
    def _a(m):
        attrs = ''.join(f' {k}="{v}"' for k, v in re.findall(r'([\w-]+)="([^"]*)"', m[3]))
        return f'<a href="{m[2]}"{attrs}>{m[1]}</a>'
    return _re_attr_link.sub(_a, md)

def unlink_code(md:str) -> str:
    "Undo nbdev's links inside fenced code blocks (docments comments in show_doc signatures), which show as raw text"
    return re.sub(r'```.*?```', lambda m: re.sub(r'\[(`[^`]*`)\]\([^)\s]*\)', r'\1', m[0]), md, flags=re.S)

class IncludeError(Exception): "An include shortcode that cannot be expanded"

_re_include = re.compile(r'^[ \t]*\{\{<\s*include\s+(.+?)\s*>\}\}[ \t]*$', re.M)

def expand_includes(md:str, # Markdown that may hold `{{< include FILE >}}` lines
                    nb_dir:Path, # The notebook's folder: a relative FILE is relative to it, also in included files
                    project:Path, # Quarto's project folder (`nbs/`): a FILE starting with / is relative to it
                    src:str='', # The notebook, for error messages
                    _seen:tuple=(),
                   ) -> str:
    "Replace Quarto's include shortcodes, each on a line of its own, with the files' text, as Quarto does"
    def _include(m):
        name = m[1].strip('"\'')
        f = ((project/name.lstrip('/')) if name.startswith('/') else nb_dir/name).resolve()
        if f in _seen: raise IncludeError(f"{src}: {m[0].strip()} includes itself, through {_seen[-1]}")
        if not f.is_file(): raise IncludeError(f"{src}: {m[0].strip()}: there is no file {f}")
        return expand_includes(f.read_text().rstrip('\n'), nb_dir, project, src, _seen + (f,))
    return _re_include.sub(_include, md)

def unescape_shortcodes(md:str) -> str:
    "Quarto shows an escaped shortcode, `{{</* name */>}}`, as the shortcode itself"
    return re.sub(r'\{\{<\s*/\*(.*?)\*/\s*>\}\}', lambda m: '{{< ' + m[1].strip() + ' >}}', md)

def clean_md(md:str) -> str: return unescape_shortcodes(unlink_code(attr_links(fenced_divs(md))))

def clean_cells(nb, # A processed notebook
                includes=lambda md: md, # Expands include shortcodes in a markdown cell's source
               ):
    "Apply Quarto cell options (`fig-alt`: its figures' alt text) and strip them; fix Quarto-only markdown; drop ids"
    cells = []
    for c in nb.cells:
        c.pop('id', None)  # random per nbdev run: would make the output differ between builds
        if c.cell_type == 'markdown': c.source = clean_md(includes(c.source))
        if c.cell_type != 'code': cells.append(c); continue
        dirs, c.source = split_directives(c.source)
        if dirs.get('include') == 'false': continue
        if dirs.get('output') == 'false': c.outputs = []
        if dirs.get('echo') == 'false' or not c.source.strip(): c.metadata.transient = {'remove_source': True}
        if dirs.get('fig-alt'): c.metadata.alt = dirs['fig-alt']  # nbconvert's alt for the cell's images
        for o in c.outputs:
            if 'text/markdown' in o.get('data', {}): o.data['text/markdown'] = clean_md(o.data['text/markdown'])
        # progress bars: merge stream chunks, keep what follows each line's last \r (as Jupyter shows it)
        CoalesceStreamsPreprocessor().preprocess_cell(c, {}, 0)
        c.outputs = [o for o in c.outputs if o.output_type != 'stream' or o.text.strip()]
        if c.outputs: CoalesceStreamsPreprocessor().preprocess_cell(c, {}, 0)  # rejoin what the blanks split
        if c.source.strip() or c.outputs: cells.append(c)
    nb.cells = cells
    nb.nbformat_minor = min(nb.nbformat_minor, 4)  # no cell ids
    return nb

def load(proc:Path, rel:Path, nbs_path:Path) -> tuple:
    "Read a processed notebook; return it cleaned, its frontmatter, and its page path relative to `docs/`"
    nb = nbformat.read(proc/rel, as_version=4)
    fm = pop_frontmatter(nb)
    fm.setdefault('title', rel.stem)
    name = fm.get('output-file') or re.sub(r'^\d+[a-zA-Z0-9]*_', '', rel.stem.lower()) + '.html'  # nbdev's rule
    page = (rel.parent/name).as_posix()
    includes = lambda md: expand_includes(md, nbs_path/rel.parent, nbs_path, f'nbs/{rel.as_posix()}')
    return clean_cells(nb, includes), fm, page

def relative(page:str, target:str) -> str:
    "URL of `target` from `page`, both relative to the docs root"
    return posixpath.relpath(target, posixpath.dirname(page) or '.')

def pandoc_id(s:str) -> str:
    "Pandoc's identifier for a heading id nbconvert made: lowercase, only letters, digits, `_`, `-` and `.`, from the first letter"
    return re.sub(r'^[^a-z]+', '', re.sub(r'[^\w.-]', '', s.lower()))

def local_url(url:str, # A link in a built page or README.md
              page:str, # The page it is on, relative to `docs/`
              site:str, # The docs site's URL, settings.ini's doc_host + doc_baseurl
              blob:str, # Where the git host shows the repository's files, git_url + /blob/ + branch
             ):
    "`url` into the docs site or the repository's files, relative to `page`; None for any other link"
    for base, root in ((site.rstrip('/'), ''), (blob.rstrip('/'), '../')):
        if url != base and not url.startswith((base + '/', base + '#')): continue
        path, _, frag = url[len(base):].lstrip('/').partition('#')
        if root: return relative(page, root + path)  # no #L12: line anchors exist only on the git host
        path = (path or 'index.html') + ('index.html' if path.endswith('/') else '')
        return relative(page, path) + (f'#{frag}' if frag else '')
    return None

def site_url(cfg) -> str: return cfg.doc_host + cfg.doc_baseurl
def blob_url(cfg) -> str: return f"{cfg.git_url.rstrip('/')}/blob/{cfg.branch}"

def fix_html(body:str, page:str, site_url:str, blob_url:str='') -> str:
    "Docs-site and source links -> relative links; heading ids lowercased like Pandoc's, which nbdev's links expect"
    def _link(m): return f'href="{local_url(html.unescape(m[1]), page, site_url, blob_url) or m[1]}"'
    body = re.sub(r'href="([^"]*)"', _link, body)
    as_pandoc = lambda m: m[1] + pandoc_id(unquote(m[2])) + m[3]  # ids and the links to them alike
    body = re.sub(r'(<h[1-6] id=")([^"]*)(")', as_pandoc, body)
    return re.sub(r'(class="anchor-link" href="#)([^"]*)(")', as_pandoc, body)

def copy_images(body:str, page:str, src_dir:Path, docs:Path) -> list:
    "Copy the local images that markdown cells reference (`![](img/x.png)`) next to the page, as Quarto does"
    copied = []
    for src in sorted(set(re.findall(r'<img [^>]*src="([^":#?]+)"', body))):
        f, dest = src_dir/src, docs/posixpath.dirname(page)/src
        if f.is_file() and f.resolve().is_relative_to(src_dir.resolve()):
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(f.read_bytes()); copied.append(dest)
    return copied

TOC_MIN = 3  # headings a page needs for a table of contents
_re_heading = re.compile(r'<h([1-3]) id="([^"]+)">(.*?)</h\1>', re.S)

def page_toc(body:str, # A page's cells as HTML, heading ids final (after `fix_html`)
            ) -> str:
    "An on-page table of contents: a link to each heading of levels 1-3 in `body`; empty below `TOC_MIN` headings"
    heads = _re_heading.findall(body)
    if len(heads) < TOC_MIN: return ''
    text = lambda h: re.sub(r'<a class="anchor-link".*?</a>|<(?!/?code\b)[^>]*>', '', h).strip()  # <code> kept
    items = '\n'.join(f'<li class="toc-h{level}"><a href="#{hid}">{text(h)}</a></li>' for level, hid, h in heads)
    return (f'<nav class="toc" aria-label="On this page">\n<div class="toc-title">On this page</div>\n'
            f'<ul>\n{items}\n</ul>\n</nav>\n')

def inline_md(s:str) -> str:
    "Markdown for one line (title, description) as inline HTML"
    return re.sub(r'^<p>|</p>\s*$', '', markdown2html(s).strip())

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} – {site}</title>
<meta name="description" content="{desc_text}">
<link rel="stylesheet" href="{css}">
</head>
<body>
<nav class="sidebar">
<a class="site-title" href="{home}">{site}</a>
<ul>
{nav}
</ul>
<a class="repo" href="{nb_link}">Source: <code>{src}</code></a>
</nav>
<main>
<header>
<h1 class="title">{title_html}</h1>
<div class="description">{desc_html}</div>
</header>
{toc}{body}
<footer>Built from <code>{src}</code> by <code>tools/build_docs.py</code>.</footer>
</main>
</body>
</html>
"""

def render_page(nb, fm:dict, page:str, src:str, pages:list, cfg) -> str:
    "One full HTML page: sidebar listing `pages` [(page, title)], header from the frontmatter, cells from nbconvert"
    exp = HTMLExporter(template_name='basic', exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exp.from_notebook_node(nb)
    active = lambda p: ' class="active"' if p == page else ''
    nav = '\n'.join(f'<li><a href="{relative(page, p)}"{active(p)}>{inline_md(t)}</a></li>' for p, t in pages)
    desc = fm.get('description', '')
    home = next((p for p, _ in pages if p == 'index.html'), pages[0][0])
    body = fix_html(body.strip(), page, site_url(cfg), blob_url(cfg))
    return PAGE.format(title=html.escape(fm['title']), site=html.escape(cfg.title), css=relative(page, 'styles.css'),
                       desc_text=html.escape(desc.replace('`', '')), home=relative(page, home), nav=nav,
                       nb_link=relative(page, f'../nbs/{src}'), title_html=inline_md(fm['title']),
                       desc_html=inline_md(desc) if desc else '', src=f'nbs/{src}', toc=page_toc(body), body=body)

CSS = """/* Written by tools/build_docs.py: page layout, then pygments highlighting, then nbs/styles.css */
body { margin: 0; font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #212529; }
a { color: #2780e3; text-decoration: none; } a:hover { text-decoration: underline; }
.sidebar { position: fixed; top: 0; bottom: 0; left: 0; width: 14rem; padding: 1.5rem 1rem; overflow-y: auto;
  background: #f8f9fa; border-right: 1px solid #dee2e6; box-sizing: border-box; }
.sidebar .site-title { display: block; font-weight: 600; font-size: 1.15rem; margin-bottom: 1rem; color: #212529; }
.sidebar ul { list-style: none; padding: 0; margin: 0 0 1.5rem; }
.sidebar li a { display: block; padding: .25rem .5rem; border-radius: 4px; color: #495057; }
.sidebar li a.active { background: #e7f1ff; color: #2780e3; font-weight: 600; }
.sidebar .repo { font-size: .85rem; }
main { margin-left: 14rem; padding: 1.5rem 2.5rem 3rem; max-width: 64rem; }
@media (max-width: 800px) { .sidebar { position: static; width: auto; border-right: 0; }
  main { margin-left: 0; padding: 1rem; } }
h1.title { margin-bottom: .25rem; }
header { margin-bottom: 2rem; }
h2 { margin-top: 2.5rem; border-bottom: 1px solid #dee2e6; padding-bottom: .3rem; }
.anchor-link { visibility: hidden; margin-left: .3rem; font-size: .8em; color: #adb5bd; }
h1:hover .anchor-link, h2:hover .anchor-link, h3:hover .anchor-link, h4:hover .anchor-link { visibility: visible; }
code { font-family: SFMono-Regular, Menlo, Consolas, monospace; font-size: .875em; color: #9753b8; }
pre { margin: 0; padding: .75rem 1rem; overflow-x: auto; font-size: .8rem; line-height: 1.45; }
pre code, a code { color: inherit; font-size: inherit; }
.input_area pre, .rendered_html .highlight pre { background: #f7f7f7; border-radius: 4px; }
.cell { margin-bottom: 1rem; }
.output_text pre { background: none; border-left: 2px solid lightsalmon; margin-left: .8rem; }
main img { max-width: 100%; }
.output_markdown hr { border: 0; border-top: 1px solid #dee2e6; margin: 1.5rem 0 .5rem; }
.output_markdown h3 { margin-top: .3rem; }
table { border: 0; border-collapse: collapse; font-size: .875rem; margin: .5rem 0; }
th, td { border: 0; border-bottom: 1px solid #dee2e6; padding: .3rem .6rem; text-align: left; }
div[class^="callout"] { border-left: 4px solid #2780e3; background: #f3f8fe; padding: .25rem 1rem; margin: 1rem 0; }
div.callout-warning, div.callout-caution { border-color: #ff7518; background: #fff8f2; }
.toc { font-size: .85rem; border-left: 2px solid #dee2e6; padding: .1rem 0 .1rem .9rem; margin: -1rem 0 2rem; }
.toc .toc-title { font-weight: 600; margin-bottom: .3rem; color: #495057; }
.toc ul { list-style: none; margin: 0; padding: 0; columns: 2 16rem; column-gap: 2rem; }
.toc li { break-inside: avoid; padding: .05rem 0; }
.toc li.toc-h1 { font-weight: 600; } .toc li.toc-h3 { padding-left: 1rem; }
@media (min-width: 100rem) { /* room right of the text: the contents beside it */
  .toc { position: fixed; top: 1.5rem; left: 84rem; width: 14rem; max-height: calc(100vh - 3rem); overflow-y: auto;
    margin: 0; } .toc ul { columns: auto; } }
footer { margin-top: 3rem; padding-top: 1rem; border-top: 1px solid #dee2e6; font-size: .8rem; color: #6c757d; }
"""

def write_css(docs:Path, cfg) -> Path:
    "`docs/styles.css`: layout, pygments highlighting and the project's own nbs/styles.css"
    extra = cfg.nbs_path/'styles.css'
    css = CSS + HtmlFormatter(style='default').get_style_defs('.highlight') + '\n'
    if extra.exists(): css += f'\n/* nbs/styles.css */\n{extra.read_text()}'
    (docs/'styles.css').write_text(css)
    return docs/'styles.css'

def tidy_md(md:str) -> str:
    "Outside fenced code: blank out whitespace-only lines (left before images) and squeeze runs of blank lines"
    parts = re.split(r'(^```.*?^```)', md, flags=re.S|re.M)
    return ''.join(p if i % 2 else re.sub(r'\n{3,}', '\n\n', re.sub(r'^[ \t]+$', '', p, flags=re.M))
                   for i, p in enumerate(parts))

def root_links(md:str, keep:str, cfg=None) -> str:
    "Links written for the docs site, made to work from the repo root: pages under docs/, files under nbs/, sources as they are"
    cfg = cfg or get_config()
    def _fix(m):
        url = local_url(m.group(2), 'index.html', site_url(cfg), blob_url(cfg)) or m.group(2)
        if re.match(r'[a-z]+:|#|/', url) or url.startswith(keep): return m.group(1) + url + ')'
        if url.startswith('../'): return f'{m.group(1)}{url[3:]})'  # a file of the repository, from docs/
        return f"{m.group(1)}{'docs' if url.split('#')[0].endswith('.html') else 'nbs'}/{url})"
    return re.sub(r'(\]\()([^)\s]+)\)', _fix, md)

_re_readme_img = re.compile(r'!\[(?P<alt>[^\]]*)\]\((?P<src>[^)\s]*readme_(?P<cell>\d+)_\d+\.\w+)\)')

def render_readme(nb, fm:dict, images:Path, cfg=None) -> tuple:
    "README markdown for the processed index notebook, and its images {path relative to repo root: bytes}"
    exp = MarkdownExporter()
    rel = images.relative_to(ROOT).as_posix()
    md, res = exp.from_notebook_node(nb, resources={'unique_key': 'readme', 'output_files_dir': rel})
    md = re.sub(r'<style scoped>.*?</style>\n?', '', md, flags=re.S)  # DataFrame CSS: GitHub shows it as text
    alt = lambda m: nb.cells[int(m['cell'])].metadata.get('alt', m['alt'])  # the cell's fig-alt, not nbconvert's 'png'
    md = _re_readme_img.sub(lambda m: f"![{alt(m)}]({m['src']})", md)
    head = f"# {fm['title']}\n\n" + (f"> {fm['description']}\n\n" if fm.get('description') else '')
    return head + root_links(tidy_md(md), rel, cfg).strip() + '\n', res.get('outputs', {})

def write_readme(nb, fm:dict, docs:Path, cfg=None) -> list:
    "Write README.md and its images (replacing old `docs/images/readme_*`); return the paths written"
    images = docs/'images'
    for old in images.glob('readme_*'): old.unlink()
    md, outs = render_readme(nb, fm, images, cfg)
    (ROOT/'README.md').write_text(md)
    for name, data in sorted(outs.items()):
        (ROOT/name).parent.mkdir(parents=True, exist_ok=True)
        (ROOT/name).write_bytes(data)
    return [ROOT/'README.md'] + [ROOT/n for n in sorted(outs)]

# ---- what a reader sees: the build stops on a figure missing from its page, a link that leads nowhere, a machine path
_re_fig_text = re.compile(r'^<(Figure size|matplotlib\.)')
_re_plots = re.compile(r'\bplot_\w*\(|\bbrowse\(')

def makes_figure(code:str) -> bool:
    "Would running `code` show a figure? It draws with pyplot outside a function, or its last line returns a plot"
    try: body = ast.parse(code).body
    except SyntaxError: return False
    top = [n for n in body if not isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom))]
    if any('plt.' in ast.unparse(n) for n in top): return True
    return bool(body) and isinstance(body[-1], ast.Expr) and bool(_re_plots.search(ast.unparse(body[-1])))

def missing_figures(nb, # A processed notebook, its `#|` directives still in the cells
                    src:str, # The notebook, for messages
                   ) -> list:
    "Cells whose figure the page would not show: saved only as its text (`<Figure size ...>`), or a plot never run"
    bad = []
    for i, c in enumerate(nb.cells):
        if c.cell_type != 'code': continue
        dirs, code = split_directives(c.source)
        if dirs.get('eval') == 'false' or dirs.get('include') == 'false' or dirs.get('output') == 'false': continue
        datas = [o.get('data', {}) for o in c.outputs]
        images = sum(any(k.startswith('image/') for k in d) for d in datas)
        as_text = [d for d in datas if _re_fig_text.match(d.get('text/plain', '')) and not any(k.startswith('image/') for k in d)]
        first = code.strip().splitlines()[0][:60] if code.strip() else ''
        if as_text: bad.append(f'{src} cell {i} ({first}): a figure saved as text only, {as_text[0]["text/plain"]!r}')
        elif not images and makes_figure(code): bad.append(f'{src} cell {i} ({first}): plots, but has no image saved')
    return bad

def figures_without_alt(nb, # A processed notebook, its `#|` directives still in the cells
                        src:str, # The notebook, for messages
                       ) -> list:
    "Cells that show a figure but have no `#| fig-alt:`: the alt text, what it shows, for those who cannot see it"
    bad = []
    for i, c in enumerate(nb.cells):
        if c.cell_type != 'code': continue
        dirs, code = split_directives(c.source)
        if dirs.get('include') == 'false' or dirs.get('output') == 'false' or dirs.get('fig-alt'): continue
        if any(k.startswith('image/') for o in c.outputs for k in o.get('data', {})):
            first = code.strip().splitlines()[0][:60] if code.strip() else ''
            bad.append(f'{src} cell {i} ({first}): a figure without alt text: add `#| fig-alt: what it shows`')
    return bad

_ALT_NONE = ('', 'No description has been provided for this image', 'png')  # none; nbconvert's in HTML, in markdown

def images_without_alt(text:str, # A built page, or README.md
                       src:str, # Its name, for messages
                      ) -> list:
    "The images in `text`, `<img>` tags (and `![alt](...)` in markdown), whose alt text is missing or says nothing"
    imgs = [(m[0], re.search(r'\salt="([^"]*)"', m[0])) for m in re.finditer(r'<img\b[^>]*>', text)]
    imgs = [(tag, html.unescape(alt[1]) if alt else '') for tag, alt in imgs]
    if src.endswith('.md'): imgs += [(m[0], m[1]) for m in re.finditer(r'!\[([^\]]*)\]\([^)]*\)', text)]
    short = lambda tag: re.sub(r'base64,[^"]*', 'base64,...', tag)[:100]
    return [f'{src}: an image without alt text: {short(tag)}' for tag, alt in imgs if alt.strip() in _ALT_NONE]

_re_machine = re.compile(r'(?<![\w.])(/work/|/home/|/root/|/Users/|/tmp/tmp|/private/var/|\.\./shared/|[A-Z]:\\Users\\)')

def machine_paths(text:str, # A built page or README.md
                  src:str, # Its name, for messages
                 ) -> list:
    "Paths of the machine that built the docs (home folders, temporary folders, the dev data checkout) in `text`"
    text = re.sub(r'data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+', '', text)  # embedded images
    return [f'{src}: shows a machine path, ...{text[max(0, m.start()-40):m.end()+40]!r}...'.replace('\\n', ' ')
            for m in _re_machine.finditer(text)]

def page_ids(page:Path) -> set: return set(re.findall(r'\sid="([^"]+)"', page.read_text(encoding='utf-8')))

def broken_links(src:Path, # A page or README.md
                 hrefs:list, # The links in it
                 local:tuple=(), # URLs whose links must have been made relative: the docs site, the repository
                ) -> list:
    "The links in `hrefs`, relative to `src`, whose file or `#anchor` does not exist, or that point at `local`"
    bad = []
    for href in hrefs:
        u = urlsplit(html.unescape(href))
        if local and html.unescape(href).startswith(local): bad.append(f'{src.name}: {href} (not made a relative link)')
        if u.scheme or href.startswith(('//', 'mailto:')): continue
        target = src if not u.path else src.parent/unquote(u.path)
        if not target.exists(): bad.append(f'{src.name}: {href} (no such file)')
        elif u.fragment and target.suffix == '.html' and unquote(u.fragment) not in page_ids(target):
            bad.append(f'{src.name}: {href} (no such anchor)')
    return bad

def page_links(page:Path) -> list: return re.findall(r'(?:href|src)="([^"]+)"', page.read_text(encoding='utf-8'))
def readme_links(readme:Path) -> list: return re.findall(r'\]\(([^)\s]+)\)', readme.read_text(encoding='utf-8'))

_re_raw_link = re.compile(r'</a>\]\(|\]\([\w./-]+\.html(#[^)]*)?\)')

def raw_markdown(page:str, # A built page's HTML
                 src:str, # Its name, for messages
                ) -> list:
    "Markdown links the page shows as text, e.g. an automatic link nested in a hand-written one"
    return [f'{src}: shows raw markdown, ...{page[max(0, m.start()-60):m.end()+20]!r}...' for m in _re_raw_link.finditer(page)]

def check_built(docs:Path, readme:Path, local:tuple=()) -> list:
    "What is wrong in the pages and README.md: links leading nowhere or to `local`, raw markdown, machine paths, no alt"
    pages = sorted(docs.rglob('*.html'))
    bad = [b for p in pages for b in broken_links(p, page_links(p), local) + raw_markdown(p.read_text(encoding='utf-8'), p.name)]
    bad += [b for p in pages for b in images_without_alt(p.read_text(encoding='utf-8'), p.name)]
    if readme.exists():
        md = readme.read_text(encoding='utf-8')
        bad += broken_links(readme, readme_links(readme), local) + images_without_alt(md, 'README.md')
    return bad + [b for f in pages + [readme] if f.exists() for b in machine_paths(f.read_text(encoding='utf-8'), f.name)]

def main(cached:bool=False):
    "Process the notebooks, write one page per notebook, styles.css and README.md; print what was written"
    t0 = time.time()
    os.chdir(ROOT)
    cfg = get_config()
    docs, proc = DOCS, cfg.config_path/'_proc'
    nbs = notebooks(cfg.nbs_path)
    if not nbs: sys.exit(f'No notebooks in {cfg.nbs_path}')
    try: proc_nbs(cfg.nbs_path, force=not cached)
    except Exception as e:  # usually a cell nbdev runs for show_doc: exports and cells with imports
        sys.exit(f"nbdev's notebook processing failed: {e}\nnbdev runs exported cells and any cell with an "
                 "import to render show_doc; keep imports in cells of their own.")
    procs = [(nbformat.read(proc/rel, as_version=4), f'nbs/{rel.as_posix()}') for rel in nbs]
    no_fig = [b for nb, src in procs for b in missing_figures(nb, src)]
    if no_fig: sys.exit('Figures the docs would not show (run the notebook and save it with its outputs):\n' + '\n'.join(no_fig))
    if no_alt := [b for nb, src in procs for b in figures_without_alt(nb, src)]:
        sys.exit('Figures without alt text (say what each shows, for readers who cannot see it):\n' + '\n'.join(no_alt))
    try: loaded = [(rel, *load(proc, rel, cfg.nbs_path)) for rel in nbs]
    except IncludeError as e: sys.exit(f'Cannot include a file: {e}')
    pages = [(page, fm['title']) for _, _, fm, page in loaded]
    docs.mkdir(exist_ok=True)
    written = [write_css(docs, cfg)]
    for rel, nb, fm, page in loaded:
        out = docs/page
        out.parent.mkdir(parents=True, exist_ok=True)
        text = render_page(nb, fm, page, rel.as_posix(), pages, cfg)
        out.write_text(text)
        written += [out] + copy_images(text, page, proc/rel.parent, docs)
    for old in sorted(set(docs.rglob('*.html')) - set(written)):
        old.unlink(); print(f'removed stale {old.relative_to(ROOT)}')
    index = next(((nb, fm) for rel, nb, fm, _ in loaded if rel.as_posix() == cfg.readme_nb), None)
    if index: written += write_readme(*index, docs, cfg)
    else: print(f'no nbs/{cfg.readme_nb}: README.md not written')
    for p in written: print(f'wrote {p.relative_to(ROOT)}')
    if bad := check_built(docs, ROOT/'README.md', (site_url(cfg), cfg.git_url)): sys.exit('What a reader would see is wrong:\n' + '\n'.join(bad))
    print(f'checked: every figure saved, with its alt text; every relative link and #anchor resolves, none to '
          f'{site_url(cfg)} or {cfg.git_url}, no machine path shown')
    print(f'done in {time.time() - t0:.1f}s')

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--cached', action='store_true', help="reuse nbdev's _proc cache for unchanged notebooks")
    main(**vars(ap.parse_args()))
