// segpile_lab SegmentationViewer front end (anywidget ESM module; no imports, no CDN).
// The kernel sends the data once (widget.py: pack_arrays) with the layer vocabulary of
// segpile_lab/seg/layers.py (labels, kinds, colour maps, units, key colours) in meta.vocabulary;
// this file keeps no copy of it. Everything below — drawing, hover read-out, legend clicks,
// threshold statistics — runs in the browser. Per-pixel rules mirror viewer/_render.py (the
// static picture of exported reports).

const MAX_CANVAS_HEIGHT = 560; // CSS pixels
const DTYPES = { uint8: Uint8Array, uint16: Uint16Array, int32: Int32Array, float32: Float32Array };
const PLACEHOLDER = "hover the image: class, confidence, top-3 and entropy of the model's output cell under the pointer";

function bytesOf(value) {
  if (value instanceof DataView) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  return value;
}

function decodeArrays(model) {
  const bytes = bytesOf(model.get("arrays"));
  const out = {};
  for (const [name, entry] of Object.entries(model.get("array_layout"))) {
    const Ctor = DTYPES[entry.dtype];
    const count = entry.shape.reduce((a, b) => a * b, 1);
    const start = bytes.byteOffset + entry.offset;
    // copy: the shared buffer need not be aligned for 16/32-bit views
    const data = new Ctor(bytes.buffer.slice(start, start + count * Ctor.BYTES_PER_ELEMENT));
    out[name] = { data, shape: entry.shape, scale: entry.scale };
  }
  return out;
}

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else if (k === "className") node.className = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) node.appendChild(child);
  return node;
}

// JupyterLab's notebook shortcuts (arrow keys move between cells, Enter edits a cell, Space
// scrolls) listen for keydown on the document: the keys our controls use stop here, the rest
// (Ctrl+S, Shift+Enter, Escape) still reach JupyterLab
const CONTROL_KEYS = new Set(["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End",
  "PageUp", "PageDown", "Enter", " "]);
function keepKeys(node) {
  node.addEventListener("keydown", (e) => {
    if (CONTROL_KEYS.has(e.key) && !e.ctrlKey && !e.metaKey && !e.altKey && !e.shiftKey) e.stopPropagation();
  });
  return node;
}

const pct = (v) => (v === null || v === undefined ? "–" : `${(100 * v).toFixed(1)}%`);
const num = (v) => (v === null || v === undefined || Number.isNaN(v) ? "–" : v.toFixed(3));

function render({ model, el: root }) {
  const meta = model.get("meta");
  const panels = model.get("panels");
  const vocab = meta.vocabulary, LAYERS = vocab.layers;
  const RIGHT = vocab.colors.right, WRONG = vocab.colors.wrong, MISSED = vocab.colors.missed;
  const arrays = decodeArrays(model);
  const W = meta.width, H = meta.height, N = W * H;
  const OW = meta.original_width, OH = meta.original_height;
  const names = meta.names, palette = meta.palette, ignore = meta.ignore_index;
  const lnC = Math.log(Math.max(names.length, 2));
  const rgb = bytesOf(model.get("image"));
  const gt = arrays["ground_truth"] ? arrays["ground_truth"].data : null;
  const isMap = (layer) => LAYERS[layer] && LAYERS[layer].kind === "map";
  const P = panels.map((p, i) => ({
    ...p,
    labels: arrays[`p${i}.labels`].data,
    maps: Object.fromEntries(Object.keys(LAYERS).filter((m) => isMap(m) && arrays[`p${i}.${m}`])
      .map((m) => [m, arrays[`p${i}.${m}`]])),
    cellIds: arrays[`p${i}.cell_ids`],
    cellProbs: arrays[`p${i}.cell_probs`],
    cellMaps: Object.fromEntries(Object.keys(LAYERS).filter((m) => arrays[`p${i}.cell.${m}`])
      .map((m) => [m, arrays[`p${i}.cell.${m}`].data])),
  }));
  const compare = P.length > 1;

  // ---------- layout ----------
  const container = el("div", { className: "segpile-viewer" + (compare ? " sv-compare" : "") });
  container.style.setProperty("--sv-warning", meta.warning_color); // provenance.WARNING_COLOR
  if (meta.banner) container.appendChild(el("div", { className: "sv-banner", text: `⚠ ${meta.banner}` }));
  if (meta.title) container.appendChild(el("div", { className: "sv-title", text: meta.title }));

  const layerSelect = el("select", { className: "sv-layer", "aria-label": "layer" },
    meta.layers.map((l) => el("option", { value: l, text: LAYERS[l].label })));
  const opacity = el("input", { type: "range", min: "0", max: "1", step: "0.05", className: "sv-opacity", "aria-label": "opacity" });
  const opacityValue = el("span", { className: "sv-opacity-value" });
  const outline = el("input", { type: "checkbox", className: "sv-outline" });
  const threshold = el("input", { type: "range", min: "0", max: "1", step: "0.01", className: "sv-threshold", "aria-label": "confidence threshold" });
  const thresholdValue = el("span", { className: "sv-threshold-value" });
  const stats = el("div", { className: "sv-stats" });
  const controls = el("div", { className: "sv-controls" }, [
    el("label", {}, [document.createTextNode("layer "), layerSelect]),
    el("label", {}, [document.createTextNode("opacity "), opacity, opacityValue]),
    el("label", {}, [outline, document.createTextNode(" outlines")]),
    el("label", {}, [document.createTextNode("abstain below confidence "), threshold, thresholdValue]),
  ]);
  keepKeys(controls);
  const note = [];
  if (meta.factor > 1) {
    note.push(`shown at 1/${meta.factor} resolution for transport (${OW}×${OH} → ${W}×${H}); class ids exact`);
  }
  if (meta.disagreement !== null && meta.disagreement !== undefined) {
    note.push(`A and B disagree on ${pct(meta.disagreement)} of pixels`);
  }
  const info = el("div", { className: "sv-info", text: note.join(" · ") });
  const key = el("div", { className: "sv-key" });

  const grid = el("div", { className: "sv-panels" });
  // compare: one column per panel, legends under their pictures; single: legend beside
  const maxWidth = Math.round((MAX_CANVAS_HEIGHT * W) / H); // keep tall photos on screen
  grid.style.gridTemplateColumns = compare ? `repeat(${P.length}, minmax(0, 1fr))` : `minmax(0, ${maxWidth}px) minmax(220px, 320px)`;
  const panelViews = P.map((p, index) => {
    const canvas = el("canvas", { className: "sv-canvas", width: String(W), height: String(H) });
    const marker = el("div", { className: "sv-marker" });
    const wrap = el("div", { className: "sv-canvas-wrap" }, [canvas, marker]);
    wrap.style.maxWidth = `${maxWidth}px`; // the marker is placed in % of the wrap: fit the canvas
    const title = el("div", { className: "sv-panel-title", text: p.title + (p.is_trained ? "" : ` — ${meta.untrained_note}`) });
    const colorbar = el("div", { className: "sv-colorbar" });
    const legend = keepKeys(el("div", { className: "sv-legend" }));
    // title, picture, colour bar and legend of a panel share one column; the rows are shared
    // by the panels, so both pictures start at the same height (explicit places: a hidden
    // colour bar must not shift the items after it)
    [title, wrap, colorbar, legend].forEach((node, row) => {
      node.style.gridRow = String(row + 1);
      node.style.gridColumn = String(index + 1);
    });
    if (!compare) { legend.style.gridColumn = "2"; legend.style.gridRow = "1 / span 4"; }
    grid.append(title, wrap, colorbar, legend);
    return { canvas, marker, colorbar, legend, ctx: canvas.getContext("2d") };
  });
  const readout = el("div", { className: "sv-readout", text: PLACEHOLDER });
  container.append(controls, info, key, grid, stats, readout);
  root.appendChild(container);

  // ---------- drawing ----------
  function classMap(p, layer) {
    return layer === "ground_truth" && gt ? gt : p.labels;
  }

  function draw(index) {
    const p = P[index];
    const layer = model.get("layer"), alphaGlobal = model.get("opacity");
    const withOutline = model.get("outline"), thr = model.get("threshold");
    const sel = model.get("selected_class");
    const cls = classMap(p, layer);
    const map = p.maps[layer];
    const lut = isMap(layer) ? vocab.colormaps[LAYERS[layer].colormap] : null;
    const conf = p.maps.confidence.data;
    const thrQ = thr * 65535;
    const other = compare ? P[1 - index].labels : null;
    const dimDisagree = meta.dims.disagree, dimOutside = meta.dims.outside_selection;
    const img = p.ctxImage || (p.ctxImage = panelViews[index].ctx.createImageData(W, H));
    const out = img.data;
    for (let i = 0; i < N; i++) {
      let r = rgb[3 * i], g = rgb[3 * i + 1], b = rgb[3 * i + 2];
      let cr = 0, cg = 0, cb = 0, a = 0;
      const c = cls[i];
      if (layer === "labels" || layer === "ground_truth") {
        if (layer === "labels" || c !== ignore) {
          const col = palette[Math.min(c, palette.length - 1)];
          cr = col[0]; cg = col[1]; cb = col[2]; a = 1;
        }
      } else if (map) {
        const k = 3 * Math.min(255, Math.round(Math.min(1, map.data[i] / 65535) * 255));
        cr = lut[k]; cg = lut[k + 1]; cb = lut[k + 2]; a = 1;
      } else if (layer === "errors" && gt) {
        const pred = p.labels[i], truth = gt[i];
        let col = null;
        if (sel >= 0) {
          if (pred === sel && truth === sel) col = RIGHT;
          else if (pred === sel && truth !== ignore) col = WRONG;
          else if (pred !== sel && truth === sel) col = MISSED;
        } else if (truth !== ignore && pred !== truth) {
          col = palette[pred];
        }
        if (col) { cr = col[0]; cg = col[1]; cb = col[2]; a = 1; }
      } else if (layer === "disagreement" && other) {
        if (p.labels[i] !== other[i]) {
          const col = palette[p.labels[i]];
          cr = col[0]; cg = col[1]; cb = col[2]; a = 1;
        } else { r *= dimDisagree; g *= dimDisagree; b *= dimDisagree; }
      }
      if (withOutline) {
        const x = i % W;
        const edge = (x < W - 1 && cls[i + 1] !== c) || (i + W < N && cls[i + W] !== c);
        if (lut) {
          if (edge) { cr = 255; cg = 255; cb = 255; a = 1; }
        } else if (!edge) a = 0;
      }
      if (sel >= 0 && layer !== "errors" && c !== sel) {
        a = 0; r *= dimOutside; g *= dimOutside; b *= dimOutside;
      }
      const t = a * alphaGlobal;
      r = r * (1 - t) + cr * t; g = g * (1 - t) + cg * t; b = b * (1 - t) + cb * t;
      if (thr > 0 && conf[i] < thrQ) {
        const grey = ((r + g + b) / 3) * 0.3 + 150;
        r = grey; g = grey; b = grey;
      }
      out[4 * i] = r; out[4 * i + 1] = g; out[4 * i + 2] = b; out[4 * i + 3] = 255;
    }
    panelViews[index].ctx.putImageData(img, 0, 0);
  }

  const swatch = (rgbList) => el("span", { className: "sv-swatch", style: `background: rgb(${rgbList.join(",")})` });

  function drawKey(layer) {
    const sel = model.get("selected_class");
    if (layer === "errors" && sel >= 0) {
      key.replaceChildren(swatch(RIGHT), el("span", { text: `true positive (${names[sel]})` }),
        swatch(WRONG), el("span", { text: "false positive" }), swatch(MISSED), el("span", { text: "false negative" }));
    } else if (LAYERS[layer].kind === "key") {
      key.replaceChildren(el("span", { text: `${LAYERS[layer].label}: ${LAYERS[layer].note}` }));
    } else {
      key.style.display = "none";
      return;
    }
    key.style.display = "";
  }

  // the colour scale of a map layer under each panel (its range may differ per panel)
  function drawColorbars() {
    const layer = model.get("layer");
    P.forEach((p, index) => {
      const bar = panelViews[index].colorbar, entry = p.maps[layer];
      if (!isMap(layer) || !entry) { bar.replaceChildren(); bar.style.display = "none"; return; }
      const spec = LAYERS[layer], lut = vocab.colormaps[spec.colormap];
      const stops = [];
      for (let s = 0; s <= 8; s++) {
        const k = 3 * Math.round((s / 8) * 255);
        stops.push(`rgb(${lut[k]},${lut[k + 1]},${lut[k + 2]}) ${(s / 8) * 100}%`);
      }
      const units = spec.units === "probability" ? "" : ` ${spec.units}`;
      const top = `${entry.scale.toPrecision(3)}${units}${spec.value_range === "observed" ? " (largest value here)" : ""}`;
      bar.style.display = "";
      bar.replaceChildren(
        el("div", { className: "sv-colorbar-label", text: `${spec.label} — ${spec.note}` }),
        el("div", { className: "sv-colorbar-row" }, [
          el("span", { text: "0" }),
          el("span", { className: "sv-colorbar-strip", style: `background: linear-gradient(to right, ${stops.join(", ")})` }),
          el("span", { className: "sv-colorbar-max", text: top }),
        ]));
    });
  }

  // classes whose palette colours read as one (_stats.mark_look_alikes), after the name
  function lookAlike(row) {
    const names = row.look_alike || [];
    return names.length ? [el("span", { className: "sv-look-alike", text: ` ≈ ${names.join(", ")}`,
      title: "nearly the same colour in the picture (official palette)" })] : [];
  }

  function classRow(row, extra, sel) {
    const tr = el("tr", { className: "sv-legend-row", "data-class-id": String(row.id) }, [
      el("td", {}, [swatch(row.color)]),
      el("td", { text: row.name }, lookAlike(row)),
      el("td", { text: pct(row.share) }),
    ].concat(extra.map((k) => el("td", { text: pct(row[k]) }))));
    if (sel >= 0) tr.classList.add(row.id === sel ? "sv-selected" : "sv-faded");
    const toggle = () => {
      model.set("selected_class", model.get("selected_class") === row.id ? -1 : row.id);
      model.save_changes();
    };
    tr.tabIndex = 0; // keyboard: Tab to a row, Enter or Space to toggle it
    tr.addEventListener("click", toggle);
    tr.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggle(); }
    });
    return tr;
  }

  function drawLegend() {
    const sel = model.get("selected_class"), layer = model.get("layer");
    const hint = sel >= 0 ? " (click again to restore)" : " (click to isolate)";
    P.forEach((p, index) => {
      let table;
      if (layer === "ground_truth" && meta.truth_classes) {
        table = el("table", { className: "sv-truth-legend" }, [
          el("caption", { text: `${LAYERS.ground_truth.label}: classes by share of labelled pixels${hint}` }),
          el("tr", {}, ["", "class", "share"].map((h) => el("th", { text: h }))),
          ...meta.truth_classes.map((row) => classRow(row, [], sel)),
        ]);
      } else {
        const extra = ["mean_confidence"].concat(gt ? ["iou"] : []);
        table = el("table", {}, [
          el("caption", { text: `${compare ? p.title + ": " : ""}${LAYERS.labels.label} by pixel share${hint}` }),
          el("tr", {}, ["", "class", "share", "mean conf."].concat(gt ? ["IoU"] : []).map((h) => el("th", { text: h }))),
          ...p.classes.map((row) => classRow(row, extra, sel)),
        ]);
      }
      panelViews[index].legend.replaceChildren(table);
    });
  }

  function drawStats() {
    const thr = model.get("threshold");
    const parts = P.map((p) => {
      const conf = p.maps.confidence.data, thrQ = thr * 65535;
      let kept = 0, scored = 0, correct = 0;
      for (let i = 0; i < N; i++) {
        if (conf[i] < thrQ) continue;
        kept++;
        if (gt && gt[i] !== ignore) { scored++; if (p.labels[i] === gt[i]) correct++; }
      }
      let text = `${compare ? p.title + ": " : ""}coverage ${pct(kept / N)}`;
      if (gt) text += ` · accuracy on kept pixels ${scored ? pct(correct / scored) : "–"}`;
      return text;
    });
    thresholdValue.textContent = ` ${thr.toFixed(2)}`;
    stats.textContent = parts.join("   |   ");
  }

  function syncControls() {
    layerSelect.value = model.get("layer");
    opacity.value = String(model.get("opacity"));
    opacityValue.textContent = ` ${Math.round(100 * model.get("opacity"))}%`;
    outline.checked = model.get("outline");
    threshold.value = String(model.get("threshold"));
  }

  function redraw() {
    syncControls();
    P.forEach((_, i) => draw(i));
    drawKey(model.get("layer"));
    drawColorbars();
    drawLegend();
    drawStats();
  }

  // ---------- hover read-out (browser only, no kernel round trip) ----------
  // Every number comes from the model's output cell that holds the pixel: class, confidence
  // (its top-1 probability), margin, top-3 and entropies share one probability vector.
  function describe(p, x, y, ox, oy) {
    const [k, lh, lw] = p.cellIds.shape;
    const cx = Math.min(lw - 1, Math.floor(((ox + 0.5) * lw) / OW));
    const cy = Math.min(lh - 1, Math.floor(((oy + 0.5) * lh) / OH));
    const top = [];
    for (let j = 0; j < k; j++) {
      const idx = j * lh * lw + cy * lw + cx;
      top.push([p.cellIds.data[idx], p.cellProbs.data[idx]]);
    }
    const cell = (name) => (p.cellMaps[name] ? p.cellMaps[name][cy * lw + cx] : null);
    const prefix = compare ? `${p.title} — ` : "";
    const lines = [
      `${prefix}model cell (${cx}, ${cy}) of its ${lw}×${lh} output grid; all numbers below are this cell's`,
      `predicted: ${names[top[0][0]]} (confidence ${pct(top[0][1])}) · margin ${num(top[0][1] - top[1][1])}`,
      "top-3: " + top.map(([id, pr]) => `${names[id]} ${pct(pr)}`).join(" · "),
      `single-pass entropy ${num(cell("entropy"))} nats (0 = certain … ln ${names.length} = ${lnC.toFixed(2)})`,
    ];
    if (p.mc_samples > 0 && cell("predictive_entropy") !== null) {
      lines.push(`MC dropout, ${p.mc_samples} passes: predictive entropy ${num(cell("predictive_entropy"))} nats`
        + ` = expected entropy ${num(cell("expected_entropy"))} + mutual information ${num(cell("mutual_information"))}`
        + " (the mean prediction of the passes, not the single pass above)");
    }
    const i = y * W + x, shown = p.labels[i];
    if (shown !== top[0][0]) {
      lines.push(`colour here: ${names[shown]} (the full-resolution label, argmax of the upsampled logits, differs from this cell's top class near borders)`);
    }
    if (gt) {
      const truth = gt[i];
      if (truth === ignore) lines.push("truth: unlabelled pixel (ignored)");
      else if (truth === shown) lines.push(`truth: ${names[truth]} ✓ correct`);
      else lines.push(`truth: ${names[truth]} ✗ the pixel shows ${names[shown]}`);
    }
    return lines.join("\n");
  }

  function hover(event, canvas) {
    const rect = canvas.getBoundingClientRect();
    const x = Math.min(W - 1, Math.max(0, Math.floor(((event.clientX - rect.left) / rect.width) * W)));
    const y = Math.min(H - 1, Math.max(0, Math.floor(((event.clientY - rect.top) / rect.height) * H)));
    const f = meta.factor;
    const ox = Math.min(OW - 1, x * f + Math.floor(f / 2));
    const oy = Math.min(OH - 1, y * f + Math.floor(f / 2));
    const blocks = [`pixel (${ox}, ${oy})`].concat(P.map((p) => describe(p, x, y, ox, oy)));
    readout.textContent = blocks.join("\n");
    for (const v of panelViews) {
      v.marker.style.display = "block";
      v.marker.style.left = `${((x + 0.5) / W) * 100}%`;
      v.marker.style.top = `${((y + 0.5) / H) * 100}%`;
    }
  }
  function leave() {
    readout.textContent = PLACEHOLDER;
    panelViews.forEach((w) => { w.marker.style.display = "none"; });
  }
  for (const v of panelViews) {
    v.canvas.addEventListener("mousemove", (e) => hover(e, v.canvas));
    v.canvas.addEventListener("mouseleave", leave);
  }

  // ---------- controls -> model ----------
  layerSelect.addEventListener("change", () => { model.set("layer", layerSelect.value); model.save_changes(); });
  opacity.addEventListener("input", () => { model.set("opacity", Number(opacity.value)); model.save_changes(); });
  outline.addEventListener("change", () => { model.set("outline", outline.checked); model.save_changes(); });
  threshold.addEventListener("input", () => { model.set("threshold", Number(threshold.value)); model.save_changes(); });

  const events = ["layer", "opacity", "outline", "threshold", "selected_class"].map((n) => `change:${n}`);
  for (const name of events) model.on(name, redraw);
  redraw();
  return () => { for (const name of events) model.off(name, redraw); };
}

export default { render };
