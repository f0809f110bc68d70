"""Make the README's picture, `nbs/images/closest.png`, from a checkpoint trained with `siamese_train`.

    siamese_train --data DATA --out run --epochs 4 && python tools/readme_figure.py run/best_model.pt DATA

The gallery is every image of the people `siamese_train` held out (same split, seed 42), so the query and its
matches are people the network never saw in training. The query is the first held-out person's first image.
"""
import sys
from pathlib import Path
from siamese_nbdev.data import read_triplets, split_by_person, person_of
from siamese_nbdev.model import load_model
from siamese_nbdev.encode import list_images, get_encoding_csv
from siamese_nbdev.search import closest_imgs
from siamese_nbdev.plot import plot_closest_imgs
from siamese_nbdev.cli import encode_query

def main(ckpt, data, out='nbs/images/closest.png'):
    img_dir, model = Path(data)/'train', load_model(ckpt)
    held_out = {person_of(n) for n in split_by_person(read_triplets(Path(data)/'train.csv'), 0.2, 42)[1].Anchor}
    gallery = [n for n in list_images(img_dir) if person_of(n) in held_out]
    df_enc = get_encoding_csv(model, gallery, img_dir)
    query = gallery[0]
    closest = closest_imgs(encode_query(model, img_dir/query), df_enc[df_enc.Anchor != query], k=10)
    plot_closest_imgs(img_dir/query, closest, img_dir, fname=out)
    print(closest.to_string(index=False))
    print(f'{len(gallery)} gallery images of {len(held_out)} held-out people; written {out}')

if __name__ == '__main__': main(*sys.argv[1:])
