"""Make the README's picture, `nbs/images/closest.png`: the shipped model searching people it never saw.

    python tools/readme_figure.py DATA      # DATA: the Person-Re-Id-Dataset folder

The model is `MARKET_MODEL` (see `siamese_nbdev/weights/market_lite0.md`). The gallery is every image of the 130
people it never saw in training or in any choice, and the query is their first Market-1501 query (the first image, by
name, of the first person and camera). As in the scores, the query's person seen by the query's own camera is left
out of the gallery (the Market-1501 rule): what is left must be found by the person, not by the background.
"""
import sys
from pathlib import Path
from siamese_nbdev.data import identity_table
from siamese_nbdev.model import load_model, load_checkpoint, MARKET_MODEL
from siamese_nbdev.encode import get_encoding_csv
from siamese_nbdev.search import closest_imgs
from siamese_nbdev.evaluate import market_query_gallery, market_gallery
from siamese_nbdev.plot import plot_closest_imgs

def main(data, out='nbs/images/closest.png'):
    img_dir, model = Path(data)/'train', load_model(MARKET_MODEL)
    people = identity_table(img_dir)
    unseen = people[people.pid.isin(load_checkpoint(MARKET_MODEL)['held_out_people'])].reset_index(drop=True)
    df_enc = get_encoding_csv(model, unseen.name, img_dir)
    query = market_query_gallery(unseen)[0].name[0]
    gallery = market_gallery(unseen, query)
    enc = df_enc[df_enc.Anchor == query].iloc[0, 1:].to_numpy('float32')
    closest = closest_imgs(enc, df_enc[df_enc.Anchor.isin(gallery.name)], k=10)
    plot_closest_imgs(img_dir/query, closest, img_dir, fname=out)
    print(closest.to_string(index=False))
    print(f'query {query}; gallery: {len(gallery)} images of {unseen.pid.nunique()} people the model never saw '
          f'(the query and its person from its camera left out); written {out}')

if __name__ == '__main__': main(*sys.argv[1:])
