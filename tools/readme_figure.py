"""Make the README's picture, `nbs/images/closest.png`, from a checkpoint trained with `siamese_train`'s default recipe.

    siamese_train --data DATA --out run --weights lite0-imagenet && python tools/readme_figure.py run/last.pt DATA

The gallery is every image of the people `siamese_train` held out (same split: 20 % of the identities, seed 42), so
the query and its matches are people the network never saw in training. The query is the first held-out image.
"""
import sys
from pathlib import Path
from siamese_nbdev.data import identity_table, split_identities
from siamese_nbdev.model import load_model
from siamese_nbdev.encode import get_encoding_csv, encode_query
from siamese_nbdev.search import closest_imgs
from siamese_nbdev.plot import plot_closest_imgs
from siamese_nbdev.cli import default_split

def main(ckpt, data, out='nbs/images/closest.png'):
    img_dir, model = Path(data)/'train', load_model(ckpt)
    held_out = split_identities(identity_table(img_dir), *default_split())[1]  # the split siamese_train makes
    gallery = list(held_out.name)
    df_enc = get_encoding_csv(model, gallery, img_dir)
    query = gallery[0]
    closest = closest_imgs(encode_query(model, img_dir/query), df_enc[df_enc.Anchor != query], k=10)
    plot_closest_imgs(img_dir/query, closest, img_dir, fname=out)
    print(closest.to_string(index=False))
    print(f'{len(gallery)} gallery images of {held_out.pid.nunique()} held-out people; written {out}')

if __name__ == '__main__': main(*sys.argv[1:])
