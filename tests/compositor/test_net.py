"""The compositor network: shapes, bad inputs, the function and the module agree, torch and numpy agree."""

import numpy as np
import pytest
import torch

from tryon.compositor.look import composite_look_np, region_mask
from tryon.compositor.net import (
    N_PARAMS,
    CompositeLook,
    CompositorNet,
    LookEncoder,
    composite_look,
    decode_look,
)
from tryon.compositor.net import region_mask as region_mask_torch
from tryon.errors import InputError

B, H, W = 3, 40, 48


def _inputs(seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    alpha = torch.zeros(B, 1, H, W)
    alpha[:, :, 12:28, 14:34] = torch.rand(B, 1, 16, 20, generator=g)
    alpha[:, :, 16:24, 18:30] = 1.0
    colour = torch.rand(B, 3, H, W, generator=g) * alpha
    return {"thumb": torch.rand(B, 3, 32, 32, generator=g), "patch": torch.rand(B, 3, 64, 64, generator=g),
            "frame": torch.rand(B, 3, H, W, generator=g), "layer": torch.cat([colour, alpha], dim=1),
            "noise": torch.randn(B, 3, H, W, generator=g)}


def _random_look(seed: int = 1):
    return decode_look(torch.randn(B, N_PARAMS, generator=torch.Generator().manual_seed(seed)))


def test_shapes():
    x = _inputs()
    net = CompositorNet()
    assert net.encoder(x["thumb"], x["patch"]).shape == (B, N_PARAMS)
    out = net(x["thumb"], x["patch"], x["frame"], x["layer"], x["noise"])
    assert out.shape == (B, 3, H, W) and out.dtype == torch.float32
    look = _random_look()
    assert look.matrix.shape == (B, 3, 3) and look.curve.shape[0] == B and look.shadow.shape == (B, 4)


def test_the_untrained_network_is_plain_compositing():
    """The output layer starts at zero: the identity look, so training starts from the fallback."""
    x = _inputs()
    with torch.no_grad():
        out = CompositorNet()(x["thumb"], x["patch"], x["frame"], x["layer"])
    a = x["layer"][:, 3:4]
    plain = x["layer"][:, :3] + x["frame"] * (1 - a)
    # Only a faint blur (0.4 px) and shadow (1 %) to start with: on this random-pixel layer the mean
    # difference stays under 1 %.
    assert float((out - plain).abs().mean()) < 0.01


def test_function_and_module_agree():
    x = _inputs()
    look = _random_look()
    f = composite_look(x["frame"], x["layer"], look, x["noise"])
    m = CompositeLook()(x["frame"], x["layer"], look, x["noise"])
    assert torch.equal(f, m)
    net = CompositorNet()
    torch.nn.init.normal_(net.encoder.head[2].weight, std=0.1)
    with torch.no_grad():
        whole = net(x["thumb"], x["patch"], x["frame"], x["layer"])
        parts = composite_look(x["frame"], x["layer"], decode_look(net.encoder(x["thumb"], x["patch"])))
    assert torch.equal(whole, parts)


def test_torch_and_numpy_agree():
    """The live path (numpy and OpenCV) computes what training optimised (torch)."""
    x = _inputs()
    look = _random_look()
    with torch.no_grad():
        ref = composite_look(x["frame"], x["layer"], look, x["noise"])
    for i in range(B):
        hwc = [t[i].permute(1, 2, 0).numpy() for t in (x["frame"], x["layer"], x["noise"])]
        got = composite_look_np(*hwc[:2], look.params(i), hwc[2])
        assert np.abs(got - ref[i].permute(1, 2, 0).numpy()).max() < 2e-5


def test_region_masks_agree():
    alpha = _inputs()["layer"][:, 3:4]
    t = region_mask_torch(alpha)[:, 0].numpy() > 0
    n = np.stack([region_mask(a[0].numpy()) for a in alpha])
    assert np.array_equal(t, n) and n.sum() > alpha.gt(0).sum()


def test_gradients_reach_every_look_parameter():
    x = _inputs()
    raw = torch.zeros(B, N_PARAMS, requires_grad=True)
    out = composite_look(x["frame"], x["layer"], decode_look(raw), x["noise"])
    out.square().sum().backward()
    assert bool((raw.grad.abs().sum(0) > 0).all())


def test_deterministic():
    x = _inputs()
    torch.manual_seed(3)
    net = CompositorNet()
    with torch.no_grad():
        a = net(x["thumb"], x["patch"], x["frame"], x["layer"], x["noise"])
        b = net(x["thumb"], x["patch"], x["frame"], x["layer"], x["noise"])
    assert torch.equal(a, b)


def test_bad_inputs_name_the_shapes():
    x = _inputs()
    look = _random_look()
    with pytest.raises(InputError, match=r"layer must have shape \(3, 4, 40, 48\), got \(3, 3, 40, 48\)"):
        composite_look(x["frame"], x["layer"][:, :3], look)
    with pytest.raises(InputError, match=r"frame must have shape \(\*, 3, \*, \*\), got \(40, 48\)"):
        composite_look(x["frame"][0, 0], x["layer"], look)
    with pytest.raises(InputError, match=r"noise must have shape"):
        composite_look(x["frame"], x["layer"], look, x["noise"][:, :, :10])
    with pytest.raises(InputError, match=r"thumb must have shape \(\*, 3, 32, 32\), got \(3, 3, 16, 16\)"):
        LookEncoder()(torch.zeros(3, 3, 16, 16), x["patch"])
    with pytest.raises(InputError, match="must be floating point"):
        LookEncoder()(torch.zeros(3, 3, 32, 32, dtype=torch.uint8), x["patch"])
    with pytest.raises(InputError, match=r"patch must have shape \(3, 3, 64, 64\), got \(3, 3, 32, 32\)"):
        LookEncoder()(x["thumb"], torch.zeros(3, 3, 32, 32))
    with pytest.raises(InputError, match=r"raw must have shape"):
        decode_look(torch.zeros(2, 5))
    with pytest.raises(InputError, match=r"layer must have shape \(40, 48, 4\), got \(40, 48, 3\)"):
        composite_look_np(np.zeros((40, 48, 3), np.float32), np.zeros((40, 48, 3), np.float32), look.params(0))
