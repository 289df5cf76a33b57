#!/usr/bin/env python3
"""Tests of scripts/convert_seds_pickles.py (run with `python3 -m pytest` or plainly).

Writes SEDS-like pickles with numpy (pickle protocols 2, 4 and 5), converts them, checks the
.npy/.tsv outputs, and checks that malicious pickles (os.system, builtins.eval) are refused
without running anything. `python3 convert_test.py --keep DIR` also leaves a converted sample
in DIR for the Rust side (tests/converter.rs) to read back:
DIR/pose/clip-1.npy (2, 133, 3) with value[t, p, k] = 1000 t + 3 p + k, DIR/rgb/clip-1.npy
(3, 1024) with value[i, j] = i + j / 1024, and DIR/captions/test.tsv.
"""

import importlib.util
import os
import pickle
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.dont_write_bytecode = True  # keep scripts/ free of __pycache__
SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "convert_seds_pickles.py"


def load_converter():
    spec = importlib.util.spec_from_file_location("convert_seds_pickles", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


conv = load_converter()


def keypoints():
    t, p, k = np.meshgrid(np.arange(2), np.arange(133), np.arange(3), indexing="ij")
    return (1000 * t + 3 * p + k).astype(np.float64)  # float64 on purpose: cast to f32


def features():
    i, j = np.meshgrid(np.arange(3), np.arange(1024), indexing="ij")
    return (i + j / 1024).astype(np.float32)


def captions():
    return {
        "train": {
            "s1": [{"video_name": "clip-1", "text": "Rain\tand snow", "ori_text": "regen und schnee",
                    "num_frames": np.int64(42)}],
        },
        "test": {
            "s2": {"new_video_name": "-h2s_0-1-rgb_front", "video_name": "old", "text": "Hi,\n\"you\"",
                   "ori_text": "", "num_frames": 7},
            "s3": [{"video_name": "clip-1", "text": "a", "ori_text": "b", "num_frames": 3},
                   {"video_name": "clip-2", "text": "a", "ori_text": "b", "num_frames": 4}],
        },
    }


def dump(path, obj, protocol):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=protocol)


def convert_sample(root, protocol=4):
    """Writes sample pickles under root/in and converts them to root/out."""
    root = Path(root)
    dump(root / "in/pose/sub/clip-1.pkl",
         {"keypoints": keypoints(), "img_list": ["images0001.png", "images0002.png"]}, protocol)
    dump(root / "in/rgb/clip-1.pkl", {"feature": features()}, protocol)
    dump(root / "in/captions.pkl", captions(), protocol)
    out = root / "out"
    assert conv.main(["pose", "--frame-lists", "--out", str(out / "pose"), str(root / "in/pose")]) == 0
    assert conv.main(["rgb", "--out", str(out / "rgb"), str(root / "in/rgb/clip-1.pkl")]) == 0
    assert conv.main(["captions", "--out", str(out / "captions"), str(root / "in/captions.pkl")]) == 0
    return out


def test_converts_all_protocols():
    for protocol in (2, 4, 5):
        with tempfile.TemporaryDirectory() as d:
            out = convert_sample(d, protocol)
            kp = np.load(out / "pose/sub/clip-1.npy")
            assert kp.dtype == np.float32 and kp.shape == (2, 133, 3)
            assert kp[1, 132, 2] == 1000 + 3 * 132 + 2
            assert (out / "pose/sub/clip-1.frames.txt").read_text() == "images0001.png\nimages0002.png\n"
            ft = np.load(out / "rgb/clip-1.npy")
            assert ft.shape == (3, 1024) and ft[2, 512] == np.float32(2.5)
            train = (out / "captions/train.tsv").read_text().splitlines()
            assert train == ["sentence_id\tvideo_name\tnum_frames\ttext_en\ttext_orig",
                             "s1\tclip-1\t42\tRain and snow\tregen und schnee"]
            test = (out / "captions/test.tsv").read_text().splitlines()
            assert test[1] == "s2\t-h2s_0-1-rgb_front\t7\tHi, \"you\"\t"
            assert len(test) == 4 and test[3].startswith("s3\tclip-2\t4")


class Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class EvalEvil:
    def __reduce__(self):
        return (eval, ("__import__('os').getpid()",))


def test_refuses_malicious_pickles():
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        marker = d / "pwned"
        dump(d / "evil.pkl", {"keypoints": Evil(marker)}, 4)
        try:
            conv.safe_load(d / "evil.pkl")
            raise AssertionError("malicious pickle was accepted")
        except conv.ConvertError as e:
            msg = str(e)
            assert "refused pickle global" in msg and ("posix.system" in msg or "os.system" in msg), msg
            assert str(d / "evil.pkl") in msg
        assert not marker.exists(), "os.system ran"
        # Through the CLI: exit status 1, nothing written.
        assert conv.main(["pose", "--out", str(d / "out"), str(d / "evil.pkl")]) == 1
        assert not marker.exists() and not (d / "out/evil.npy").exists()
        dump(d / "eval.pkl", {"feature": EvalEvil()}, 2)
        assert conv.main(["rgb", "--out", str(d / "out"), str(d / "eval.pkl")]) == 1
        try:
            conv.safe_load(d / "eval.pkl")
            raise AssertionError("eval pickle was accepted")
        except conv.ConvertError as e:
            assert "refused pickle global builtins.eval" in str(e), str(e)
        # Protocol 2 names builtin containers through __builtin__: those still load.
        dump(d / "set.pkl", {"feature": features(), "tags": {"a", "b"}}, 2)
        assert conv.safe_load(d / "set.pkl")["tags"] == {"a", "b"}


def test_rejects_wrong_shapes_and_garbage():
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        dump(d / "bad.pkl", {"keypoints": np.zeros((4, 137, 3))}, 4)
        try:
            conv.convert_pose([d / "bad.pkl"], d / "out")
            raise AssertionError("wrong shape accepted")
        except conv.ConvertError as e:
            assert "(4, 137, 3)" in str(e) and "expected (n, 133, 3)" in str(e), str(e)
        (d / "junk.pkl").write_bytes(b"\x80\x04not a pickle")
        assert conv.main(["rgb", "--out", str(d / "out"), str(d / "junk.pkl")]) == 1


def main(argv):
    if len(argv) >= 2 and argv[0] == "--keep":
        keep = Path(argv[1])
        keep.mkdir(parents=True, exist_ok=True)
        out = convert_sample(keep)
        print(f"sample written to {out}")
    for name, fn in sorted(globals().items()):
        if name.startswith("test_") and callable(fn):
            fn()
            print(f"ok {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
