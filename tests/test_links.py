"""Every link in README.md (as the repository shows it and as the package index shows it) and in docs/ leads
somewhere: a relative link to a file of the repository (and its `#anchor` to an id of the page, or to a heading of
README.md), an absolute link only to a published site on `ALLOWED`, kept here with the reason each is linked.
Offline: it reads the committed files, it fetches nothing."""
import html, re, runpy
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit
import pytest, setuptools

ROOT = Path(__file__).resolve().parent.parent
DOCS, README = ROOT/'docs', ROOT/'README.md'

ALLOWED = {  # host, or host/path and what is under it: why the docs link there
    'github.com/parth1620': "the original tutorial's author, Parth Dhameliya: his GitHub page and the tutorial's "
                             "dataset repository, Person-Re-Id-Dataset, which the package downloads",
    'github.com/facebookresearch/faiss': 'FAISS, the library behind the `faiss` extra',
    'pypi.org/project': 'packages on the Python package index that the extras install',
    'pytorch.org/docs': "PyTorch's documentation (torchrun, for training on several GPUs)",
    'fastapi.tiangolo.com': "FastAPI's documentation: the web framework `siamese_app` is built on (the `app` extra)",
    'github.com/brendenlake/omniglot': "Omniglot's repository (Lake et al.): the handwritten characters and one-shot "
                                       "runs the one-shot chapter and the characters tutorial use, and their licence",
}
NOT_PUBLISHED = ('siamese-nbdev.github.io', 'github.com/siamese-nbdev')  # nbdev's defaults for settings.ini's `user`

class _Links(HTMLParser):
    "The href/src of every tag, and every id (or `<a name>`) a fragment can point to"
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links, self.ids = [], set()
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.links += [a[k] for k in ('href', 'src') if a.get(k)]
        self.ids |= {a[k] for k in ('id', 'name') if a.get(k) and (k == 'id' or tag == 'a')}

def parse_html(text:str) -> _Links:
    p = _Links(); p.feed(text); p.close()
    return p

_re_md_link = re.compile(r'!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)')

def md_links(md:str) -> list:
    "Targets of the markdown links and images in `md`, and of its HTML tags, outside fenced code"
    md = re.sub(r'^```.*?^```', '', md, flags=re.S|re.M)
    return _re_md_link.findall(md) + parse_html(md).links

def github_slug(heading:str) -> str:
    "The id GitHub gives a markdown heading: lowercase, punctuation dropped, spaces to hyphens"
    text = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', heading).replace('`', '')
    return re.sub(r'[^\w\- ]', '', text.strip().lower()).replace(' ', '-')

def md_ids(md:str) -> set:
    md = re.sub(r'^```.*?^```', '', md, flags=re.S|re.M)
    return {github_slug(h) for h in re.findall(r'^#{1,6}\s+(.*?)\s*#*\s*$', md, flags=re.M)} | parse_html(md).ids

def bad_absolute(url:str) -> str:
    "Why the absolute `url` is not allowed, or '' when it is"
    u = urlsplit(url)
    if u.scheme == 'data': return ''
    if u.scheme not in ('http', 'https'): return f'{u.scheme}: links are not followed by this test'
    where = u.netloc.lower().removeprefix('www.') + u.path
    under = lambda prefixes: any(where == p or where.startswith(p + '/') for p in prefixes)
    if under(NOT_PUBLISHED): return 'a site that is not published'
    if not under(ALLOWED): return 'a host not on ALLOWED (add it with a reason if it is published)'
    return ''

def bad_links(src:Path, links:list, ids_of) -> list:
    "`links` of the file `src` that lead nowhere; `ids_of(path)` gives the anchors of a file"
    bad = []
    for link in links:
        u = urlsplit(html.unescape(link))
        if u.scheme or link.startswith('//'):
            if why := bad_absolute(link): bad.append(f'{src.relative_to(ROOT)}: {link[:120]}: {why}')
            continue
        target = src if not u.path else (src.parent/unquote(u.path)).resolve()
        if not target.is_relative_to(ROOT): bad.append(f'{src.relative_to(ROOT)}: {link}: outside the repository')
        elif not target.is_file(): bad.append(f'{src.relative_to(ROOT)}: {link}: no such file')
        elif u.fragment and target.suffix in ('.html', '.md') and unquote(u.fragment) not in ids_of(target):
            bad.append(f'{src.relative_to(ROOT)}: {link}: no such anchor')
    return bad

_ids = {}
def ids_of(f:Path) -> set:
    if f not in _ids: _ids[f] = md_ids(f.read_text(encoding='utf-8')) if f.suffix == '.md' else parse_html(f.read_text(encoding='utf-8')).ids
    return _ids[f]

def pypi_description() -> str:
    "The long description setup.py gives the package index, from running setup.py with setuptools.setup captured"
    got = {}
    mp = pytest.MonkeyPatch()
    with mp.context() as m:
        m.chdir(ROOT)
        m.setattr(setuptools, 'setup', lambda **kw: got.update(kw))
        runpy.run_path(str(ROOT/'setup.py'), run_name='__main__')
    return got['long_description']

# ---- the rules themselves, on links known to be good or bad
def test_rules(tmp_path):
    assert bad_absolute('https://github.com/parth1620/Person-Re-Id-Dataset') == ''
    assert bad_absolute('https://pypi.org/project/faiss-cpu/') == ''
    assert bad_absolute('data:image/png;base64,iVBOR') == ''
    assert 'not published' in bad_absolute('https://siamese-nbdev.github.io/siamese_nbdev/data.html#apn_dataset')
    assert 'not published' in bad_absolute('https://github.com/siamese-nbdev/siamese_nbdev/blob/main/siamese_nbdev/data.py#L60')
    assert 'not on ALLOWED' in bad_absolute('https://example.com/x')
    assert bad_absolute('https://github.com/parth1620') == ''
    assert 'not on ALLOWED' in bad_absolute('https://github.com/parth16200/x')
    assert github_slug('From Python') == 'from-python' and github_slug('Read and run the `tutorial`') == 'read-and-run-the-tutorial'
    assert md_links('[a](x.html#b) ![img](i.png) [`f`](https://h/y) [t [n]](z.md)\n```\n[c](in-code)\n```\n<img src="p.png">') \
        == ['x.html#b', 'i.png', 'https://h/y', 'z.md', 'p.png']
    page = ROOT/'docs'/'data.html'
    assert bad_links(page, ['model.html#apn_model', '../siamese_nbdev/data.py', 'styles.css', '#apn_dataset'], ids_of) == []
    assert [b.split(': ')[-1] for b in bad_links(page, ['gone.html', 'model.html#no-such-id', '../../etc/passwd'], ids_of)] \
        == ['no such file', 'no such anchor', 'outside the repository']

# ---- the built files
@pytest.mark.parametrize('page', sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob('*.html')))
def test_docs_page(page):
    f = DOCS/page
    bad = bad_links(f, parse_html(f.read_text(encoding='utf-8')).links, ids_of)
    assert not bad, f'{len(bad)} links lead nowhere:\n' + '\n'.join(bad)

def test_readme():
    bad = bad_links(README, md_links(README.read_text(encoding='utf-8')), ids_of)
    assert not bad, f'{len(bad)} links lead nowhere:\n' + '\n'.join(bad)

def test_readme_on_package_index():
    "The package index shows README.md without the repository: only absolute links to published sites resolve there"
    links = md_links(pypi_description())
    relative = [l for l in links if not urlsplit(l).scheme]
    assert not relative, f'links that do not resolve on the package index: {relative}'
    bad = [f'{l}: {why}' for l in links if (why := bad_absolute(l))]
    assert not bad, '\n'.join(bad)

def test_original_tutorial_linked():
    "README.md and the docs' home page name the tutorial the package is built from, and link its author's work"
    for f in README, DOCS/'index.html':
        text = f.read_text(encoding='utf-8')
        assert 'Deep Learning with PyTorch: Siamese Network' in text, f'{f.name} does not name the original tutorial'
        assert 'https://github.com/parth1620' in text, f'{f.name} does not link the original tutorial'

# ---- how tools/build_docs.py makes them
def test_build_docs_makes_links_local(tmp_path):
    "Links to the docs site become links to its pages, source links links to the repository's files, from any page"
    import importlib.util
    spec = importlib.util.spec_from_file_location('build_docs', ROOT/'tools'/'build_docs.py')
    bd = importlib.util.module_from_spec(spec); spec.loader.exec_module(bd)
    site, blob = 'https://u.github.io/pkg', 'https://github.com/u/pkg/blob/main'
    local = lambda url, page='data.html': bd.local_url(url, page, site, blob)
    assert local(f'{site}/model.html#apn_model') == 'model.html#apn_model'
    assert local(f'{site}/sub/x.html', 'sub/y.html') == 'x.html' and local(f'{site}/', 'sub/y.html') == '../index.html'
    assert local(f'{blob}/pkg/data.py#L60') == '../pkg/data.py' and local(f'{blob}/pkg/data.py', 'sub/y.html') == '../../pkg/data.py'
    assert local('https://github.com/u/pkg2/blob/main/x.py') is None and local('https://pypi.org/project/x/') is None
    page = bd.fix_html(f'<a href="{site}/model.html#apn_model">m</a> <a href="{blob}/pkg/data.py#L3">source</a>', 'data.html', site, blob)
    assert page == '<a href="model.html#apn_model">m</a> <a href="../pkg/data.py">source</a>'
    (tmp_path/'a.html').write_text('<h2 id="x">x</h2>')
    assert bd.broken_links(tmp_path/'a.html', [f'{site}/a.html', 'https://pypi.org/'], (site, blob)) \
        == [f'a.html: {site}/a.html (not made a relative link)']
