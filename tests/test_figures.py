"""The figure helpers shared by the audit and BPB plots."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from segpile_lab._figures import check_backend, matplotlib_figure, subset_order


def test_subset_order_is_the_papers_then_other_names_alphabetically():
    names = ["zeta", "Github", "Pile-CC", "Alpha", "Enron Emails", "Github"]
    assert subset_order(names) == ["Pile-CC", "Github", "Enron Emails", "Alpha", "zeta"]


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
