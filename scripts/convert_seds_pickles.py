#!/usr/bin/env python3
"""One-shot converter of the SEDS release's Python pickles to files seds-lab reads.

The SEDS code (github.com/longtaojiang/SEDS) ships its features and captions as pickles,
which cannot be read safely (unpickling runs arbitrary code) and not at all from Rust. This
script converts them once, refusing every pickle global except numpy's array reconstruction
and plain containers:

    pose      per-video {'keypoints': (T, 133, 3) [x, y, score], 'img_list': [...]}
              -> OUT/<video>.npy  float32 (T, 133, 3), COCO-WholeBody order
                 (+ OUT/<video>.frames.txt, one img_list entry a line, with --frame-lists)
    rgb       per-video {'feature': (n, 1024)} I3D clip features
              -> OUT/<video>.npy  float32 (n, 1024)
    captions  {split: {sentence_id: record | [records]}} or one split's
              {sentence_id: record | [records]}; record = {'video_name' (How2Sign:
              'new_video_name'), 'text', 'ori_text', 'num_frames'}
              -> OUT/<split>.tsv with header
                 sentence_id, video_name, num_frames, text_en, text_orig
              (tabs and line breaks inside texts become spaces). A file holding one split
              is named after --split, or else after the pickle's file stem.

Usage:
    python3 scripts/convert_seds_pickles.py pose --out data/ph/pose  features/pose/*.pkl
    python3 scripts/convert_seds_pickles.py pose --out data/ph/pose  features/pose/   (recursive)
    python3 scripts/convert_seds_pickles.py rgb  --out data/ph/rgb   features/rgb/
    python3 scripts/convert_seds_pickles.py captions --out data/ph/captions data_ph/*.pkl

A directory input is searched recursively for *.pkl and the relative path of each pickle
(without .pkl) becomes the output name. Needs Python 3 and numpy. Exit status 1 and a
message naming the file when a pickle is refused or malformed.
"""

import argparse
import io
import pickle
import sys
import warnings
from pathlib import Path

import numpy as np

# Globals a SEDS pickle may reference: numpy array/scalar/dtype reconstruction (numpy 1.x
# "numpy.core" and numpy 2.x "numpy._core" module paths; protocol 5 uses _frombuffer),
# _codecs.encode (protocol 2 stores bytes through it) and builtin containers.
ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
    ("builtins", "list"),
    ("builtins", "dict"),
    ("builtins", "tuple"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "bytearray"),
    ("collections", "OrderedDict"),
}


class RefusedGlobal(pickle.UnpicklingError):
    """A pickle referenced a global outside ALLOWED_GLOBALS."""


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the globals in ALLOWED_GLOBALS."""

    def find_class(self, module, name):
        # Protocol 0-2 pickles name the builtins module as in Python 2.
        if module == "__builtin__":
            module = "builtins"
        if (module, name) not in ALLOWED_GLOBALS:
            raise RefusedGlobal(f"refused pickle global {module}.{name}")
        # numpy 2 keeps numpy.core as a deprecated alias of numpy._core.
        if module.startswith("numpy.core.") and hasattr(np, "_core"):
            module = "numpy._core." + module[len("numpy.core."):]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return super().find_class(module, name)


class ConvertError(Exception):
    """A file could not be converted; the message names the file."""


def safe_load(path):
    """Unpickles `path` with RestrictedUnpickler; raises ConvertError naming the file."""
    try:
        data = Path(path).read_bytes()
        return RestrictedUnpickler(io.BytesIO(data), encoding="latin1").load()
    except RefusedGlobal as e:
        raise ConvertError(f"{path}: {e}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            IndexError, KeyError, OSError) as e:
        raise ConvertError(f"{path}: cannot unpickle: {e}") from None


def pickle_inputs(inputs):
    """Yields (pickle path, output stem) for files and (recursively) directories."""
    for inp in inputs:
        p = Path(inp)
        if p.is_dir():
            for f in sorted(p.rglob("*.pkl")):
                yield f, f.relative_to(p).with_suffix("")
        else:
            yield p, Path(p.stem)


def write_npy(out_dir, stem, arr):
    """Saves `arr` as OUT/<stem>.npy, creating parent folders."""
    target = Path(out_dir) / stem.parent / (stem.name + ".npy")
    target.parent.mkdir(parents=True, exist_ok=True)
    np.save(target, arr, allow_pickle=False)
    return target


def array_field(obj, key, path, tail_shape, what):
    """obj[key] as a float32 array of shape (n, *tail_shape); ConvertError otherwise."""
    if not isinstance(obj, dict) or key not in obj:
        raise ConvertError(f"{path}: expected a dict with key {key!r} ({what})")
    try:
        arr = np.asarray(obj[key], dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise ConvertError(f"{path}: {key!r} is not numeric: {e}") from None
    if arr.ndim != 1 + len(tail_shape) or tuple(arr.shape[1:]) != tuple(tail_shape):
        want = ", ".join(["n"] + [str(d) for d in tail_shape])
        raise ConvertError(f"{path}: {key!r} has shape {arr.shape}, expected ({want}) {what}")
    return np.ascontiguousarray(arr)


def convert_pose(inputs, out_dir, frame_lists=False):
    """Converts pose pickles; returns the number of files written."""
    n = 0
    for path, stem in pickle_inputs(inputs):
        obj = safe_load(path)
        kp = array_field(obj, "keypoints", path, (133, 3), "COCO-WholeBody keypoints")
        write_npy(out_dir, stem, kp)
        if frame_lists and "img_list" in obj:
            names = [str(x) for x in obj["img_list"]]
            target = Path(out_dir) / stem.parent / (stem.name + ".frames.txt")
            target.write_text("".join(s.replace("\n", " ") + "\n" for s in names))
        n += 1
    return n


def convert_rgb(inputs, out_dir):
    """Converts RGB feature pickles; returns the number of files written."""
    n = 0
    for path, stem in pickle_inputs(inputs):
        obj = safe_load(path)
        write_npy(out_dir, stem, array_field(obj, "feature", path, (1024,), "I3D features"))
        n += 1
    return n


SPLIT_NAMES = {"train", "dev", "val", "test"}
TSV_HEADER = "sentence_id\tvideo_name\tnum_frames\ttext_en\ttext_orig\n"


def clean(text):
    """Text made safe for one TSV field."""
    return " ".join(str(text).replace("\t", " ").replace("\r", " ").replace("\n", " ").split())


def caption_rows(split_dict, path):
    """TSV rows of one split: {sentence_id: record | [records]}."""
    if not isinstance(split_dict, dict):
        raise ConvertError(f"{path}: a split must map sentence ids to records")
    rows = []
    for sid, recs in split_dict.items():
        if isinstance(recs, dict):
            recs = [recs]
        if not isinstance(recs, (list, tuple)):
            raise ConvertError(f"{path}: sentence {sid!r}: expected a record or a list of records")
        for rec in recs:
            if not isinstance(rec, dict):
                raise ConvertError(f"{path}: sentence {sid!r}: record is not a dict")
            video = rec.get("new_video_name", rec.get("video_name"))
            missing = [k for k, v in (("video_name", video), ("text", rec.get("text")),
                                      ("num_frames", rec.get("num_frames"))) if v is None]
            if missing:
                raise ConvertError(f"{path}: sentence {sid!r}: record lacks {', '.join(missing)}")
            try:
                frames = int(rec["num_frames"])
            except (TypeError, ValueError):
                raise ConvertError(
                    f"{path}: sentence {sid!r}: num_frames {rec['num_frames']!r} is not an integer"
                ) from None
            rows.append(f"{clean(sid)}\t{clean(video)}\t{frames}\t{clean(rec['text'])}"
                        f"\t{clean(rec.get('ori_text', ''))}\n")
    return rows


def convert_captions(inputs, out_dir, split=None):
    """Converts caption pickles to OUT/<split>.tsv; returns the split names written."""
    written = []
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for path, stem in pickle_inputs(inputs):
        obj = safe_load(path)
        if isinstance(obj, dict) and obj and set(map(str, obj.keys())) <= SPLIT_NAMES:
            splits = {str(k): v for k, v in obj.items()}
        else:
            splits = {split or stem.name: obj}
        for name, sd in splits.items():
            (out / f"{name}.tsv").write_text(TSV_HEADER + "".join(caption_rows(sd, path)),
                                             encoding="utf-8")
            written.append(name)
    return written


def main(argv=None):
    """Command-line entry point; returns the exit status."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="kind", required=True)
    for kind in ("pose", "rgb", "captions"):
        sp = sub.add_parser(kind)
        sp.add_argument("--out", required=True, help="output directory")
        sp.add_argument("inputs", nargs="+", help="pickle files or directories")
        if kind == "pose":
            sp.add_argument("--frame-lists", action="store_true",
                            help="also write <video>.frames.txt from img_list")
        if kind == "captions":
            sp.add_argument("--split", help="split name for a pickle holding one split")
    args = ap.parse_args(argv)
    try:
        if args.kind == "pose":
            n = convert_pose(args.inputs, args.out, args.frame_lists)
            print(f"wrote {n} keypoint arrays to {args.out}")
        elif args.kind == "rgb":
            n = convert_rgb(args.inputs, args.out)
            print(f"wrote {n} feature arrays to {args.out}")
        else:
            names = convert_captions(args.inputs, args.out, args.split)
            print(f"wrote caption splits {', '.join(names)} to {args.out}")
    except ConvertError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
