# nbdev 2's setup.py, without `pkg_resources` (removed in setuptools 82): everything comes from settings.ini.
from configparser import ConfigParser
import re, setuptools, shlex

assert setuptools.__version__ >= '36.2' or len(setuptools.__version__.split('.')[0]) > 1
config = ConfigParser(delimiters=['='])
config.read('settings.ini', encoding='utf-8')
cfg = config['DEFAULT']

cfg_keys = 'version description keywords author author_email'.split()
expected = cfg_keys + "lib_name user branch license status min_python audience language".split()
for o in expected: assert o in cfg, "missing expected setting: {}".format(o)
setup_cfg = {o:cfg[o] for o in cfg_keys}

licenses = {
    'apache2': ('Apache-2.0', None),  # an SPDX name; setuptools deprecates license classifiers
    'mit': ('MIT License', 'OSI Approved :: MIT License'),
}
statuses = [ '1 - Planning', '2 - Pre-Alpha', '3 - Alpha', '4 - Beta', '5 - Production/Stable', '6 - Mature', '7 - Inactive' ]
py_versions = '3.9 3.10 3.11 3.12 3.13'.split()

requirements = shlex.split(cfg.get('requirements', ''))
min_python = cfg['min_python']
lic = licenses.get(cfg['license'].lower(), (cfg['license'], None))
dev_requirements = (cfg.get('dev_requirements') or '').split()
extras = {'dev': dev_requirements}
# optional extras: a settings.ini key `extra_NAME = pkg ...` becomes `pip install siamese_nbdev[NAME]`
extras.update({k[len('extra_'):]: cfg[k].split() for k in cfg if k.startswith('extra_')})

def pypi_readme(md):
    "README.md for the package index, which has no repository files: relative links become their text, relative images go"
    md = re.sub(r'!\[[^\]]*\]\((?!https?://)[^)]*\)\n?', '', md)
    return re.sub(r'\[((?:[^\[\]]|\[[^\]]*\])*)\]\((?!https?://)[^)]*\)', r'\1', md)

setuptools.setup(
    name = cfg['lib_name'],
    license = lic[0],
    classifiers = [
        'Development Status :: ' + statuses[int(cfg['status'])],
        'Intended Audience :: ' + cfg['audience'].title(),
        'Natural Language :: ' + cfg['language'].title(),
    ] + ['Programming Language :: Python :: '+o for o in py_versions[py_versions.index(min_python):]] + (['License :: ' + lic[1] ] if lic[1] else []),
    url = cfg['git_url'],
    packages = setuptools.find_packages(),
    include_package_data = False,  # package_data lists the shipped sample and model; MANIFEST.in only shapes the sdist
    package_data = {cfg['lib_name']: ['sample/*.csv', 'sample/*.md', 'sample/train/*.jpg', 'weights/*.pt', 'weights/*.md']},
    install_requires = requirements,
    extras_require = extras,
    python_requires  = '>=' + cfg['min_python'],
    long_description = pypi_readme(open('README.md', encoding='utf-8').read()),
    long_description_content_type = 'text/markdown',
    zip_safe = False,
    entry_points = {
        'console_scripts': cfg.get('console_scripts', '').split(),
        'nbdev': [f'{cfg.get("lib_path")}={cfg.get("lib_path")}._modidx:d']
    },
    **setup_cfg)
