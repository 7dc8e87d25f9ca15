"""MediaPipe's and TensorFlow Lite's native log lines do not reach the user; real errors still do."""

import os
import pty
import subprocess
import sys
import textwrap

from conftest import media_path

from tryon.tracking.quiet import NOISE, QuietStart, _filtered, native_quiet

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


# A command that filters its stderr, then writes chatter from a native-like thread long after any quiet window
# (the graphs' threads do), a warning, a progress bar's redraws, and exits with its own code.
FILTERED_COMMAND = textwrap.dedent("""
    import os, sys, threading, time
    from tryon.tracking.quiet import filter_stderr
    filter_stderr()
    chatter = %r
    def graph_thread():
        time.sleep(0.2)
        for line in chatter:
            os.write(2, line)
    t = threading.Thread(target=graph_thread)
    t.start()
    t.join()
    os.write(2, b" 50%%|#####     |\\r100%%|##########|\\n")
    print("tryon: warning: nothing placed", file=sys.stderr)
    print("isatty", sys.stderr.isatty())
    os.write(2, b"E0000 00:00:1.0 1 graph.cc:1] a real error")  # no newline at the end
    sys.exit(3)
""") % (CHATTER,)


def test_a_command_filters_chatter_written_at_any_time():
    proc = subprocess.run([sys.executable, "-c", FILTERED_COMMAND], capture_output=True, timeout=60)
    assert proc.returncode == 3
    assert proc.stdout == b"isatty False\n"
    assert proc.stderr == (b" 50%|#####     |\r100%|##########|\ntryon: warning: nothing placed\n"
                           b"E0000 00:00:1.0 1 graph.cc:1] a real error"), proc.stderr


# Under the filter a quiet window (native_quiet, as a graph's first calls open) leaves fd 2 alone: a window
# swaps fd 2 for the whole process, so the lines other threads are writing at its edges (TensorFlow Lite writes
# "INFO: " and the rest of its line apart) are cut in two, and halves that are no longer chatter, put back in
# another order than they came, reach the user ("Created TensorFlow Lite XNNPACK delegate for CPU.INFO: " was
# seen once on a `tryon render` with earrings, a necklace and a hand).
WINDOW_COMMAND = textwrap.dedent("""
    import os
    from tryon.tracking.quiet import filter_stderr, native_quiet
    filter_stderr()
    before = os.fstat(2).st_ino
    with native_quiet():
        inside = os.fstat(2).st_ino
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\\n")
    print(before == inside)
""")


def test_under_the_filter_a_quiet_window_leaves_stderr_alone():
    proc = subprocess.run([sys.executable, "-c", WINDOW_COMMAND], capture_output=True, timeout=60)
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr
    assert proc.stdout == b"True\n"


def test_on_a_terminal_the_command_still_has_one():
    """Progress bars need stderr to be a terminal: the filter gives the command one of its own."""
    main, other = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-c", FILTERED_COMMAND], stdout=subprocess.PIPE, stderr=other)
    os.close(other)
    out, _ = proc.communicate(timeout=60)
    got = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the terminal's other end is closed: all read
            break
        if not chunk:
            break
        got += chunk
    os.close(main)
    assert proc.returncode == 3 and out == b"isatty True\n"
    assert b"a real error" in got and b"nothing placed" in got and b"100%" in got
    assert b"XNNPACK" not in got and b"inference_feedback_manager" not in got and b"absl" not in got


def test_the_filter_passes_a_line_as_soon_as_it_cannot_be_chatter():
    assert _filtered(b"Traceback (most") == (b"Traceback (most", b"")  # passed at once
    assert _filtered(b"INFO: Created Tens") == (b"", b"INFO: Created Tens")  # waits for its end
    assert _filtered(b"W0000 00:00:1.0 1 a.cc:2] x\nW") == (b"", b"W")
    assert _filtered(b"WARNING: your file\n 10%|#\r") == (b"WARNING: your file\n 10%|#\r", b"")
