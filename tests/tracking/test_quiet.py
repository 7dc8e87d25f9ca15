"""MediaPipe's and TensorFlow Lite's native log lines do not reach the user; real errors still do."""

import os
import subprocess
import sys

from conftest import media_path

from tryon.tracking.quiet import NOISE, QuietStart, native_quiet

CHATTER = [
    b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n",
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
    b"W0000 00:00:1796624316.054669    1965 inference_feedback_manager.cc:114] Feedback manager requires a model "
    b"with a single signature inference. Disabling support for feedback tensors.\n",
    b"I0000 00:00:1796624316.086082    1965 gl_context.cc:357] GL version: 3.2\n",
]


def test_routine_chatter_is_held_and_the_rest_written_back(capfd):
    with native_quiet():
        for line in CHATTER:
            os.write(2, line)
        os.write(2, b"E0000 00:00:1796624316.1 1965 calculator_graph.cc:887] a real error\n")
        print("from python", file=sys.stderr)
    err = capfd.readouterr().err
    assert sorted(err.splitlines()) == ["E0000 00:00:1796624316.1 1965 calculator_graph.cc:887] a real error",
                                        "from python"]
    assert all(NOISE.match(line) for line in CHATTER)


def test_quiet_start_covers_the_first_calls_only(capfd):
    start = QuietStart(calls=1)
    with start():
        os.write(2, CHATTER[0])
    with start():
        os.write(2, CHATTER[0])
    assert capfd.readouterr().err == CHATTER[0].decode()


def test_tryon_render_prints_no_native_log_lines():
    """A face photo with earrings and a necklace (face mesh, person mask, pose) and a hand with a ring."""
    runs = [["render", str(media_path("body/woman_blonde_bare_shoulders.jpg")), "--item", "stud-diamond-6mm-platinum",
             "--item", "necklace-choker-4mm-yellow-gold"],
            ["render", str(media_path("hands/back_of_hand_outdoor.jpg")), "--item",
             "ring-solitaire-diamond-6.5mm-platinum"]]
    for i, args in enumerate(runs):
        out = f"{os.environ.get('TMPDIR', '/tmp')}/quiet-{os.getpid()}-{i}.png"
        proc = subprocess.run([sys.executable, "-m", "tryon.cli", *args, "-o", out], capture_output=True, timeout=300)
        assert proc.returncode == 0, proc.stderr.decode()
        assert proc.stderr == b"", proc.stderr.decode()
        os.remove(out)
    bad = subprocess.run([sys.executable, "-m", "tryon.cli", "render", str(media_path("hands/back_of_hand_outdoor.jpg")),
                          "-o", "/tmp/never.png", "--item", "no-such-piece"], capture_output=True, timeout=300)
    assert bad.returncode != 0 and b"no-such-piece" in bad.stderr
