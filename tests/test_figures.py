"""The figure helpers shared by every domain's plots."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from segpile_lab._figures import check_backend, matplotlib_figure


def test_check_backend_names_the_two_it_accepts():
    check_backend("plotly")
    check_backend("matplotlib")
    with pytest.raises(ValueError, match="'plotly' or 'matplotlib', got 'bokeh'"):
        check_backend("bokeh")


@pytest.mark.parametrize("fixed_margins", [False, True])
def test_matplotlib_figure_is_not_registered_with_pyplot(fixed_margins):
    before = plt.get_fignums()
    fig, axes = matplotlib_figure(6, 3, ncols=2, fixed_margins=fixed_margins)
    assert plt.get_fignums() == before
    assert len(axes) == 2 and tuple(fig.get_size_inches()) == (6, 3)
    assert (fig.get_layout_engine() is None) == fixed_margins


def test_save_figures_writes_html_and_png_with_plotly_js_once(tmp_path):
    import plotly.graph_objects as go

    from segpile_lab._figures import save_figures

    def figures(backend):
        if backend == "plotly":
            return {"a": go.Figure(), "b": go.Figure()}
        return {"a": matplotlib_figure(2, 2)[0], "b": matplotlib_figure(2, 2)[0]}

    written = save_figures(figures, tmp_path / "out")
    assert [p.name for p in written] == ["a.html", "b.html", "a.png", "b.png"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "a.html", "a.png", "b.html", "b.png", "plotly.min.js",
    ]  # fmt: skip
    assert (tmp_path / "out" / "a.png").read_bytes().startswith(b"\x89PNG")
    assert 'src="plotly.min.js"' in (tmp_path / "out" / "a.html").read_text()


def test_public_figure_functions_share_one_convention():
    """Every public figure function is ``plot_<what>`` (or ``<domain>_figures``), takes
    `backend` as a keyword when it has one, and has no default that says "trained"."""
    import importlib
    import inspect

    import segpile_lab as sl

    checked = []
    for name, module in sl._LAZY_EXPORTS.items():
        if not module.endswith(("plots", ".figure")):
            continue
        function = getattr(importlib.import_module(module), name)
        if name in ("backend_card", "show_backend_card", "segmentation_figure"):
            continue  # a table, its HTML display, the viewer's figure (image and result)
        assert name.startswith("plot_") or name.endswith("_figures"), name
        parameters = inspect.signature(function).parameters
        if "backend" in parameters:
            assert parameters["backend"].kind is inspect.Parameter.KEYWORD_ONLY, name
            assert parameters["backend"].default == "plotly", name
        for says_trained in ("is_trained", "trained", "note", "provenance"):
            assert says_trained not in parameters, (name, says_trained)
        checked.append(name)
    assert {"plot_latency", "plot_pareto", "plot_delta_iou", "plot_backend_card"} <= set(checked)
    assert {"plot_subset_bpb", "plot_composition", "plot_reliability"} <= set(checked)
    assert {"bpb_figures", "backend_figures"} <= set(checked)
