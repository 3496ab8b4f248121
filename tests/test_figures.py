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
