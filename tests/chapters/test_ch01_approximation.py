"""Tests of nnbook.approximation (shallow networks, random features, training, sup-norm
error) and of the FramePlayer in nnbook.plots."""

from __future__ import annotations

import base64
import os
import re
import shutil

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from nnbook.chapters import ch01_approximation as approx  # noqa: E402
from nnbook.engine import activations
from nnbook.engine.shallow import ShallowNet, least_squares_beta, n_parameters
from nnbook.pytorch.convert import shallow_from_torch, shallow_to_torch, shallow_torch
from nnbook.viz import plots  # noqa: E402
from nnbook.viz.player import FramePlayer


def sine(X):
    """A simple continuous target, defined here independently of the library's targets."""
    return np.sin(2 * np.pi * X[:, 0])


def explicit_forward(w, b, beta, sigma, X):
    """f(x) = sum_m beta_m sigma(sum_j w_mj x_j + b_m), written out with loops."""
    out = np.zeros(len(X))
    for i, x in enumerate(X):
        for m in range(len(beta)):
            z = sum(w[m, j] * x[j] for j in range(len(x))) + b[m]
            out[i] += beta[m] * float(sigma(np.array(z)))
    return out


# ----------------------------------------------------------------------------- counting


@pytest.mark.parametrize("d, M", [(1, 1), (1, 7), (2, 8), (5, 3), (784, 100)])
def test_parameter_count_formula_matches_constructed_models(d, M):
    rng = np.random.default_rng(0)
    torch_model = torch.nn.Sequential(
        torch.nn.Linear(d, M), torch.nn.ReLU(), torch.nn.Linear(M, 1, bias=False)
    )
    n_torch = sum(p.numel() for p in torch_model.parameters())
    w, b = approx.random_hidden_weights(d, M, rng)
    net = ShallowNet(w, b, np.ones(M), "relu")
    ours_torch = shallow_torch(d, M, "sigmoid")
    assert n_parameters(d, M) == (d + 2) * M == n_torch == net.n_parameters
    assert sum(p.numel() for p in ours_torch.parameters()) == n_torch
    assert ours_torch[2].bias is None  # b_0 = 0: no output bias


# ----------------------------------------------------------------------------- the model


@pytest.mark.parametrize(
    "name", ["relu", "sigmoid", "tanh", "leaky_relu", "softplus", "gelu", "identity"]
)
def test_forward_matches_loops_and_torch(name):
    rng = np.random.default_rng(1)
    d, M = 3, 5
    w, b, beta = rng.standard_normal((M, d)), rng.standard_normal(M), rng.standard_normal(M)
    X = rng.standard_normal((7, d))
    net = ShallowNet(w, b, beta, name)
    sigma = activations.get(name)
    np.testing.assert_allclose(
        net(X), explicit_forward(w, b, beta, sigma, X), rtol=1e-12, atol=1e-12
    )
    assert net.hidden(X).shape == (7, M) and net.forward(X).shape == (7,)
    with torch.no_grad():
        f_torch = shallow_to_torch(net)(torch.from_numpy(X))[:, 0].numpy()
    np.testing.assert_allclose(net.predict(X), f_torch, rtol=1e-12, atol=1e-12)
    back = shallow_from_torch(shallow_to_torch(net), name)
    for p, q in zip(back.parameters(), net.parameters()):
        np.testing.assert_array_equal(p, q)


def test_random_hidden_weights_place_units_in_the_cube():
    rng = np.random.default_rng(2)
    w, b = approx.random_hidden_weights(1, 50, rng, scale=3.0)
    kinks = -b / w[:, 0]
    assert np.all((kinks >= 0) & (kinks <= 1)) and np.allclose(np.abs(w), 3.0)
    w, b = approx.random_hidden_weights(1, 4, rng, spread="even")
    np.testing.assert_allclose(np.sort(-b / w[:, 0]), [0.125, 0.375, 0.625, 0.875])
    w, b = approx.random_hidden_weights(3, 20, rng, scale=2.0, spread="even")
    assert w.shape == (20, 3) and b.shape == (20,)
    np.testing.assert_allclose(np.linalg.norm(w, axis=1), 2.0)


# ----------------------------------------------------------------------------- fitting


@pytest.mark.parametrize("name, d", [("relu", 1), ("sigmoid", 1), ("tanh", 2)])
def test_random_features_recover_an_exactly_representable_target(name, d):
    """If f* is in H_linear (same fixed features), least squares finds its beta exactly."""
    x = approx.uniform_grid(60 if d == 1 else 12, d)
    M = 6
    w, b = approx.random_hidden_weights(
        d, M, np.random.default_rng(5), scale=approx.default_scale(name, M, d)
    )
    beta_true = np.array([1.5, -2.0, 0.5, 3.0, -1.0, 0.25])
    y = explicit_forward(w, b, beta_true, activations.get(name), x)
    fit = approx.random_features_fit(x, y, M, name, np.random.default_rng(5), ridge=0.0)
    np.testing.assert_allclose(fit.w, w)  # same seed, same fixed features
    np.testing.assert_allclose(fit.beta, beta_true, rtol=1e-6, atol=1e-8)
    assert fit.info["train_mse"] < 1e-20


def test_least_squares_beta_matches_normal_equations():
    rng = np.random.default_rng(3)
    H, y = rng.standard_normal((40, 6)), rng.standard_normal(40)
    for ridge in [0.0, 0.7]:
        ref = np.linalg.solve(H.T @ H + ridge * np.eye(6), H.T @ y)
        np.testing.assert_allclose(least_squares_beta(H, y, ridge=ridge), ref, rtol=1e-10)


def test_training_improves_on_its_start_and_is_deterministic():
    x = approx.uniform_grid(128)
    y = sine(x)
    a = approx.train_shallow(x, y, 6, "relu", steps=100, seed=4)
    b = approx.train_shallow(x, y, 6, "relu", steps=100, seed=4)
    assert a.info["train_mse"] <= a.info["train_mse_start"]
    assert (
        a.info["train_mse"] < 0.5 * a.info["train_mse_start"]
    )  # training must actually do something
    assert 0 < a.info["iterations"] <= 100
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p, q)
    np.testing.assert_allclose(np.mean((a(x) - y) ** 2), a.info["train_mse"], rtol=1e-10)
    threads = torch.get_num_threads()
    approx.train_shallow(x, y, 3, "relu", steps=5, seed=0)
    assert torch.get_num_threads() == threads  # no global side effect


def test_sup_norm_error_of_trained_relu_networks_decreases_with_width():
    """The UAT at work: a wider network approximates a continuous target better."""
    x, fine = approx.uniform_grid(128), approx.uniform_grid(2001)
    y = sine(x)
    errs = [
        approx.sup_norm_error(
            approx.train_shallow(x, y, M, "relu", steps=150, seed=0, spread="even"), sine, fine
        )
        for M in (2, 8, 32)
    ]
    # piecewise-linear approximation error ~ M^-2: each 4x wider network should be far better
    assert errs[1] < 0.25 * errs[0] and errs[2] < 0.5 * errs[1], errs


def test_sup_norm_error_of_trained_sigmoid_networks_decreases_with_width():
    x, fine = approx.uniform_grid(128), approx.uniform_grid(2001)
    y = sine(x)
    errs = [
        approx.sup_norm_error(
            approx.train_shallow(x, y, M, "sigmoid", steps=150, seed=0, spread="even"), sine, fine
        )
        for M in (2, 8, 32)
    ]
    # sigmoid networks get very accurate quickly, then training, not width, limits them:
    # require a large gain over M = 2 and no real loss after that
    assert errs[1] < 0.1 * errs[0] and errs[2] < 0.1 * errs[0], errs
    assert errs[2] < 0.02, errs


def test_sup_norm_error_of_random_features_decreases_with_width():
    x, fine = approx.uniform_grid(200), approx.uniform_grid(2001)
    errs = [
        approx.sup_norm_error(
            approx.random_features_fit(x, sine(x), M, "relu", spread="even"), sine, fine
        )
        for M in (4, 16, 64)
    ]
    assert errs[1] < 0.3 * errs[0] and errs[2] < 0.3 * errs[1], errs


# ----------------------------------------------------------------------------- measuring


def test_sup_norm_error_known_values():
    grid = approx.uniform_grid(101)
    assert approx.sup_norm_error(lambda X: X[:, 0], lambda X: np.zeros(len(X)), grid) == 1.0
    assert approx.sup_norm_error(
        sine, lambda X: sine(X) + 0.3 * X[:, 0] ** 2, grid
    ) == pytest.approx(0.3)
    assert approx.sup_norm_error(sine, sine, grid) == 0.0


def test_uniform_grid_and_loglog_slope():
    g = approx.uniform_grid(5, 2)
    assert g.shape == (25, 2) and g.min() == 0.0 and g.max() == 1.0
    assert len({tuple(p) for p in g}) == 25
    M = np.array([2, 4, 8, 16, 32])
    assert approx.loglog_slope(M, 3.0 * M**-1.5) == pytest.approx(-1.5)


def test_targets_are_continuous_functions_on_the_cube():
    for t in approx.TARGETS.values():
        X = approx.uniform_grid(50 if t.d == 1 else 20, t.d)
        y = t(X)
        assert y.shape == (len(X),) and np.all(np.isfinite(y)) and t.formula


# ----------------------------------------------------------------------------- bad input


def test_bad_input_errors_name_what_was_expected():
    rng = np.random.default_rng(0)
    x = approx.uniform_grid(10)
    with pytest.raises(ValueError, match=r"expected b of shape \(3,\)"):
        ShallowNet(np.ones((3, 2)), np.ones(4), np.ones(3))
    with pytest.raises(ValueError, match=r"expected w of shape"):
        ShallowNet(np.ones(3), np.ones(3), np.ones(3))
    net = ShallowNet(np.ones((3, 2)), np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match=r"expected X of shape \(n, 2\), got \(5, 3\)"):
        net(np.ones((5, 3)))
    with pytest.raises(ValueError, match="activation name"):
        ShallowNet(np.ones((3, 2)), np.ones(3), np.ones(3), "swish")
    with pytest.raises(ValueError, match="expected M to be an int >= 1"):
        approx.random_features_fit(x, x[:, 0], 0)
    with pytest.raises(TypeError, match="expected M to be an int"):
        n_parameters(2, 3.5)
    with pytest.raises(ValueError, match=r"expected y of shape \(10,\)"):
        approx.random_features_fit(x, np.ones(9), 3)
    with pytest.raises(ValueError, match=r"expected x of shape"):
        approx.train_shallow(np.ones(10), np.ones(10), 3)
    with pytest.raises(ValueError, match="finite"):
        approx.random_features_fit(x, np.full(10, np.nan), 3)
    with pytest.raises(ValueError, match="spread"):
        approx.random_hidden_weights(1, 3, rng, spread="grid")
    with pytest.raises(TypeError, match="Generator"):
        approx.random_hidden_weights(1, 3, 0)
    with pytest.raises(ValueError, match="scale > 0"):
        approx.random_hidden_weights(1, 3, rng, scale=-1.0)
    with pytest.raises(ValueError, match="steps"):
        approx.train_shallow(x, x[:, 0], 3, steps=-1)
    with pytest.raises(TypeError, match="seed"):
        approx.train_shallow(x, x[:, 0], 3, seed=True)
    with pytest.raises(ValueError, match=r"expected g\(grid\) of shape"):
        approx.sup_norm_error(sine, lambda X: np.zeros(3), x)
    with pytest.raises(ValueError, match=r"expected X of shape \(n, 2\)"):
        approx.TARGETS["bump2d"](x)
    with pytest.raises(ValueError, match="positive"):
        approx.loglog_slope([1, 2], [0.1, 0.0])


# ----------------------------------------------------------------------------- FramePlayer


def _frames(n=4):
    figs = []
    for k in range(n):
        fig, ax = plots.figure()
        ax.plot([0, 1], [0, k + 1])
        ax.set_title(f"frame {k}")
        figs.append(fig)
    return figs


def test_frame_player_html_is_self_contained():
    player = FramePlayer(_frames(4), [1, 2, 4, 8], label="M", start=1)
    html = player.to_html()
    imgs = re.findall(r"<img [^>]*>", html)
    assert len(imgs) == 4
    srcs = re.findall(r'<img src="data:image/png;base64,([^"]+)"', html)
    assert len(srcs) == 4 and len(set(srcs)) == 4
    assert base64.b64decode(srcs[2]) == player.pngs[2] and player.pngs[2].startswith(b"\x89PNG")
    assert all(
        src.startswith("data:image/png;base64,") for src in re.findall(r'src="([^"]*)"', html)
    )
    markup = re.sub(
        r"data:image/png;base64,[A-Za-z0-9+/=]+", "DATA", html
    )  # drop the image payloads
    assert "http" not in markup and "//" not in markup and "url(" not in markup
    assert "<script" not in markup  # the only JavaScript is the inline oninput handler
    assert 'type="range"' in html and 'max="3"' in html and 'value="1"' in html
    # only the start frame is visible
    assert [("display:none" in tag) for tag in imgs] == [True, False, True, True]


def test_frame_player_mimebundle_has_widget_and_static_views():
    player = FramePlayer(_frames(3), ["a", "b", "c"], label="M")
    bundle = player._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert (
        bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == player.widget().model_id
    )
    assert bundle["text/html"] == player.to_html()
    assert base64.b64decode(bundle["image/png"]) == player.pngs[0]
    assert "FramePlayer" in bundle["text/plain"]


def test_frame_player_widget_swaps_the_image():
    player = FramePlayer(_frames(3), [10, 20, 30], label="M")
    view = player.widget()
    slider, image = view.children
    assert image.value == player.pngs[0]
    slider.value = 2
    assert image.value == player.pngs[2]
    assert player.widget() is view


def test_frame_player_closes_figures_and_from_function():
    before = len(plt.get_fignums())
    player = FramePlayer.from_function(lambda v: _frames(1)[0], [1, 2], label="v")
    assert len(player) == 2 and len(plt.get_fignums()) == before


def test_frame_player_bad_input():
    with pytest.raises(ValueError, match="at least one frame"):
        FramePlayer([], [], "M")
    with pytest.raises(ValueError, match="one value per frame"):
        FramePlayer(_frames(2), [1], "M")
    with pytest.raises(ValueError, match="start"):
        FramePlayer(_frames(2), [1, 2], "M", start=2)
    with pytest.raises(TypeError, match="Figure"):
        FramePlayer(["not a figure"], [1], "M")
    with pytest.raises(ValueError, match="PNG"):
        FramePlayer([b"GIF89a"], [1], "M")
    plt.close("all")


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.browser
@pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("NNBOOK_REQUIRE_BROWSER") != "1", reason="no Chromium"
)
def test_frame_player_slider_works_in_a_browser_offline():
    from playwright.sync_api import sync_playwright

    player = FramePlayer(_frames(3), [4, 16, 64], label="M")
    requests = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page()
        page.on("request", lambda r: r.url.startswith("data:") or requests.append(r.url))
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.set_content(f"<html><body>{player.to_html()}</body></html>")
        visible = "() => [...document.querySelectorAll('img')].map(i => i.style.display !== 'none')"
        assert page.evaluate(visible) == [True, False, False]
        page.locator("input[type=range]").fill("2")  # sets the value and fires 'input'
        assert page.evaluate(visible) == [False, False, True]
        assert page.locator("output").inner_text() == "64"
        browser.close()
    assert not errors and not requests
