"""`SegmentationGallery`: browse a dataset evaluation image by image, worst first.

The kernel keeps the per-image frame and the thumbnails (`DatasetEvaluation`); the browser
(``gallery.js`` beside this module) gets only the current page: `page_size` cards, each with
its thumbnail (prediction overlay | errors in red) and numbers. Sorting by any numeric column,
filtering by a class present in the ground truth (or by any Polars expression from Python,
`set_filter`) and paging are trait changes that the kernel answers with the next page, so a
dataset of thousands of images never crosses to the page at once. Clicking a card opens that
image in `SegmentationViewer` (re-segmented at full resolution) below the grid.

Static fallback for exported reports: `contact_sheet`, a picture of the top-k rows with their
numbers (PIL image; a JPEG inside ``text/html`` beside the widget view).
"""

from __future__ import annotations

import base64
import html
import io
import os
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from segpile_lab.provenance import WARNING_COLOR

_HERE = Path(__file__).parent
DEFAULT_SORT = "error_rate"
# columns shown on each card (when present), with their format
CARD_COLUMNS = {
    "error_rate": "error {:.1%}",
    "miou": "mIoU {:.2f}",
    "mean_confidence": "confidence {:.2f}",
    "mean_entropy": "entropy {:.2f} nats",
    "mean_mutual_information": "MI {:.3f} nats",
}


def sortable_columns(frame: Any) -> list[str]:
    """The numeric columns of a per-image frame, in frame order."""
    return [name for name, dtype in frame.schema.items() if dtype.is_numeric()]


def gallery_page(
    frame: Any,
    *,
    sort_by: str = DEFAULT_SORT,
    descending: bool = True,
    class_name: str = "",
    where: Any = None,
    page: int = 0,
    page_size: int = 24,
) -> tuple[Any, int]:
    """Rows of one page of the per-image `frame` and the number of rows that pass the filter.

    Sorted by `sort_by` (nulls last, ties by ``index``), kept where the ground truth holds
    `class_name` (when given) and where the Polars expression `where` is true.
    """
    import polars as pl

    if sort_by not in frame.columns:
        raise ValueError(f"cannot sort by {sort_by!r}; columns: {sortable_columns(frame)}")
    kept = frame
    if class_name:
        kept = kept.filter(pl.col("classes").list.contains(class_name))
    if where is not None:
        kept = kept.filter(where)
    ordered = kept.sort([sort_by, "index"], descending=[descending, False], nulls_last=True)
    return ordered.slice(page * page_size, page_size), ordered.height


def _caption(row: dict[str, Any]) -> list[str]:
    return [fmt.format(row[c]) for c, fmt in CARD_COLUMNS.items() if row.get(c) is not None]


def _short(path: str) -> str:
    return os.path.basename(path) or path


def contact_sheet(
    evaluation: Any,
    *,
    sort_by: str = DEFAULT_SORT,
    descending: bool = True,
    k: int = 12,
    columns: int = 4,
    class_name: str = "",
    where: Any = None,
) -> Any:
    """PIL image: the top-`k` thumbnails of `evaluation` in `columns` columns, each captioned
    with its file name and numbers, under a title naming the order and the provenance."""
    from PIL import Image, ImageDraw

    from segpile_lab.viewer._render import _font

    rows, total = gallery_page(
        evaluation.per_image,
        sort_by=sort_by,
        descending=descending,
        class_name=class_name,
        where=where,
        page_size=k,
    )
    thumbs = [_thumbnail_image(evaluation, row["index"]) for row in rows.iter_rows(named=True)]
    cell_w = max([t.width for t in thumbs] + [200])
    cell_h = max([t.height for t in thumbs] + [60]) + 58
    count_cols = max(1, min(columns, len(thumbs)))
    count_rows = max(1, -(-len(thumbs) // count_cols))
    header = 46
    sheet = Image.new(
        "RGB", (count_cols * (cell_w + 10) + 10, header + count_rows * cell_h), "white"
    )
    draw = ImageDraw.Draw(sheet)
    title = f"{len(thumbs)} of {total} images, {_order(evaluation, sort_by, descending)}"
    if class_name:
        title += f", with {class_name}"
    draw.text((10, 6), title, fill="black", font=_font(15))
    draw.text((10, 26), _provenance(evaluation), fill=WARNING_COLOR, font=_font(13))
    for i, (thumb, row) in enumerate(zip(thumbs, rows.iter_rows(named=True), strict=True)):
        x, y = 10 + (i % count_cols) * (cell_w + 10), header + (i // count_cols) * cell_h
        sheet.paste(thumb, (x, y))
        lines = [f"#{row['index']} {_short(row['path'])}"[:40], " · ".join(_caption(row)[:3])]
        for j, line in enumerate(lines):
            draw.text((x, y + thumb.height + 4 + 17 * j), line, fill="black", font=_font(13))
    return sheet


def _order(evaluation: Any, sort_by: str, descending: bool) -> str:
    """``"highest error rate first"``: the order in a reader's words."""
    label = evaluation.metrics.column_label(sort_by)
    return f"{'highest' if descending else 'lowest'} {label} first"


def _provenance(evaluation: Any) -> str:
    notes = [f"model {evaluation.model_name}", *evaluation.provenance.labels]
    notes.append("left: prediction, right: errors in red")
    return "; ".join(notes)


def _thumbnail_image(evaluation: Any, index: int) -> Any:
    from PIL import Image

    data = evaluation.thumbnails.get(index)
    if data is None:
        return Image.new("RGB", (160, 60), (235, 235, 235))
    return Image.open(io.BytesIO(data)).convert("RGB")


class SegmentationGallery(anywidget.AnyWidget):
    """Thumbnails of a dataset evaluation with their numbers; sort, filter, page, click to open.

    Args:
        evaluation: a `DatasetEvaluation` (``sl.evaluate_dataset``), ideally with thumbnails.
        segmenter: the model that made it; needed to open an image in `SegmentationViewer`.
        sort_by, descending: the initial order (default: highest error rate first).
        page_size: cards per page.

    Example:
        >>> gallery = sl.SegmentationGallery(evaluation, segmenter, sort_by="mean_entropy")
        >>> gallery.class_name = "person"; gallery.page = 1   # or use the controls
        >>> gallery.viewer(12)  # a SegmentationViewer of dataset item 12
    """

    _esm = _HERE / "gallery.js"
    _css = _HERE / "gallery.css"

    sort_by = traitlets.Unicode(DEFAULT_SORT).tag(sync=True)
    descending = traitlets.Bool(True).tag(sync=True)
    class_name = traitlets.Unicode("").tag(sync=True)
    page = traitlets.Int(0).tag(sync=True)
    page_size = traitlets.Int(24).tag(sync=True)
    selected = traitlets.Int(-1).tag(sync=True)
    total = traitlets.Int(0).tag(sync=True)
    items: traitlets.List[Any] = traitlets.List().tag(sync=True)
    columns: traitlets.List[Any] = traitlets.List().tag(sync=True)
    column_labels: traitlets.Dict[str, Any] = traitlets.Dict().tag(sync=True)  # for the menu
    class_names: traitlets.List[Any] = traitlets.List().tag(sync=True)
    banner = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        evaluation: Any,
        segmenter: Any = None,
        *,
        sort_by: str = DEFAULT_SORT,
        descending: bool = True,
        page_size: int = 24,
    ) -> None:
        import ipywidgets

        self._evaluation = evaluation
        self._segmenter = segmenter
        self._frame = evaluation.per_image
        self._where: Any = None
        self.output = ipywidgets.Output()
        classes = sorted(set(self._frame["classes"].explode().drop_nulls().to_list()))
        columns = sortable_columns(self._frame)
        super().__init__(
            columns=columns,
            column_labels={c: evaluation.metrics.column_label(c) for c in columns},
            class_names=classes,
            banner=_provenance(evaluation),
            page_size=page_size,
            descending=descending,
            sort_by=sort_by,
        )
        self._refresh()

    @traitlets.observe("sort_by", "descending", "class_name", "page", "page_size")
    def _on_view_change(self, change: dict[str, Any]) -> None:
        if change["name"] != "page" and self.page != 0:
            self.page = 0  # triggers one more refresh
            return
        self._refresh()

    @traitlets.observe("selected")
    def _on_select(self, change: dict[str, Any]) -> None:
        if change["new"] < 0:
            return
        self.output.outputs = ()
        self.output.append_display_data(self.viewer(change["new"]))

    def set_filter(self, where: Any = None) -> None:
        """Keep only rows where the Polars expression `where` is true (None = all rows)."""
        self._where = where
        self.page = 0
        self._refresh()

    def page_rows(self) -> Any:
        """The Polars rows of the current page."""
        return self._page()[0]

    def _page(self) -> tuple[Any, int]:
        return gallery_page(
            self._frame,
            sort_by=self.sort_by,
            descending=self.descending,
            class_name=self.class_name,
            where=self._where,
            page=self.page,
            page_size=self.page_size,
        )

    def _refresh(self) -> None:
        rows, total = self._page()
        items = []
        for row in rows.iter_rows(named=True):
            thumb = self._evaluation.thumbnails.get(row["index"])
            src = "data:image/jpeg;base64," + base64.b64encode(thumb).decode() if thumb else ""
            items.append(
                {
                    "index": row["index"],
                    "name": _short(row["path"]),
                    "lines": _caption(row),
                    "confusions": row.get("top_confusions") or "",
                    "src": src,
                }
            )
        self.total = total
        self.items = items

    def viewer(self, index: int) -> Any:
        """`SegmentationViewer` of dataset item `index`: re-segmented, with its ground truth."""
        from segpile_lab.viewer.widget import SegmentationViewer

        if self._segmenter is None:
            raise ValueError("pass the segmenter to SegmentationGallery to open images")
        image, target = self._evaluation.dataset[index]
        result = self._segmenter.predict(image, progress=False)
        title = f"#{index} {_short(self._evaluation.dataset.source(index))}"
        return SegmentationViewer(image, result, ground_truth=target, title=title)

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict, dict]:
        """The gallery with the viewer area below it, plus the contact sheet of the current
        order as ``text/html`` for exported reports."""
        import ipywidgets

        box = ipywidgets.VBox([self, self.output])
        data = dict(box._repr_mimebundle_(**kwargs))
        sheet = contact_sheet(
            self._evaluation,
            sort_by=self.sort_by,
            descending=self.descending,
            class_name=self.class_name,
            where=self._where,
        )
        buffer = io.BytesIO()
        sheet.save(buffer, format="JPEG", quality=85)  # a photo grid: JPEG, far smaller than PNG
        encoded = base64.b64encode(buffer.getvalue()).decode()
        order = _order(self._evaluation, self.sort_by, self.descending)
        alt = html.escape(f"contact sheet: {self.total} images, {order}", quote=True)
        data["text/html"] = (
            f'<div class="segpile-gallery-static"><img alt="{alt}" '
            f'src="data:image/jpeg;base64,{encoded}" style="max-width:100%"></div>'
        )
        return data, {}

    def __repr__(self) -> str:
        return (
            f"SegmentationGallery({self._frame.height} images, sort_by={self.sort_by!r}, "
            f"page {self.page + 1}, {self.total} shown)"
        )
