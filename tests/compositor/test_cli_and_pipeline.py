"""The compositor in the pipeline (on by default, off with use_compositor=False) and its CLI commands."""

import pytest

from tryon.cli import _parser, main
from tryon.pipeline import Pipeline, PipelineOptions


def test_pipeline_uses_the_neural_compositor_by_default(catalog):
    with Pipeline(catalog, [], PipelineOptions(mode="image")) as p:
        assert p.compositor is not None and p.compositor.active and p.compositor.look_every == 1
    with Pipeline(catalog, [], PipelineOptions(mode="video")) as p:
        assert p.compositor.look_every == p.options.light_every
    with Pipeline(catalog, [], PipelineOptions(mode="image", use_compositor=False)) as p:
        assert p.compositor is None


def test_compositor_commands_parse():
    args = _parser().parse_args(["compositor", "train", "--minutes", "12", "--seed", "3", "-o", "w.pt"])
    assert (args.command, args.action, args.minutes, args.seed, str(args.output)) == ("compositor", "train", 12.0, 3,
                                                                                      "w.pt")
    args = _parser().parse_args(["compositor", "eval", "--json", "--weights", "w.pt"])
    assert args.json and str(args.weights) == "w.pt"
    with pytest.raises(SystemExit):
        _parser().parse_args(["compositor"])


def test_eval_without_weights_is_one_clear_error(tmp_path, capsys):
    assert main(["compositor", "eval", "--weights", str(tmp_path / "none.pt")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tryon: error: no weights at") and err.count("\n") == 1


def test_train_needs_a_positive_budget(capsys):
    assert main(["compositor", "train", "--minutes", "0"]) == 2
    assert "--minutes must be positive" in capsys.readouterr().err
