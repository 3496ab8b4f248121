// segpile_lab SegmentationViewer front end (anywidget ESM module; no imports, no CDN).
// The kernel sends the data once (see segpile_lab/viewer/widget.py: pack_arrays); everything
// below — drawing, hover read-out, legend clicks, threshold statistics — runs in the browser.
// Per-pixel rules mirror segpile_lab/viewer/_render.py (the static PNG of exported reports).

const LAYER_LABELS = {
  labels: "classes",
  confidence: "confidence (max probability)",
  entropy: "entropy (nats)",
  margin: "margin (top-1 − top-2)",
  mutual_information: "MC mutual information (nats)",
  ground_truth: "ground truth",
  errors: "errors vs truth",
  disagreement: "disagreement A vs B",
};
const CONTINUOUS = ["confidence", "entropy", "margin", "mutual_information"];
const TP = [0, 190, 60], FP = [230, 30, 30], FN = [30, 100, 255];
const MAX_CANVAS_HEIGHT = 560; // CSS pixels
const DISAGREE_DIM = 0.45, OUTSIDE_SELECTION_DIM = 0.35;
const DTYPES = { uint8: Uint8Array, uint16: Uint16Array, int32: Int32Array, float32: Float32Array };

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
    // copy: the shared buffer need not be aligned for 16-bit views
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

const pct = (v) => (v === null || v === undefined ? "–" : `${(100 * v).toFixed(1)}%`);

function render({ model, el: root }) {
  const meta = model.get("meta");
  const panels = model.get("panels");
  const arrays = decodeArrays(model);
  const W = meta.width, H = meta.height, N = W * H;
  const names = meta.names, palette = meta.palette, ignore = meta.ignore_index;
  const rgb = bytesOf(model.get("image"));
  const gt = arrays["ground_truth"] ? arrays["ground_truth"].data : null;
  const P = panels.map((p, i) => ({
    ...p,
    labels: arrays[`p${i}.labels`].data,
    maps: Object.fromEntries(CONTINUOUS.filter((m) => arrays[`p${i}.${m}`])
      .map((m) => [m, arrays[`p${i}.${m}`]])),
    topIds: arrays[`p${i}.topk_ids`],
    topProbs: arrays[`p${i}.topk_probs`],
  }));

  // ---------- layout ----------
  const container = el("div", { className: "segpile-viewer" });
  if (meta.banner) container.appendChild(el("div", { className: "sv-banner", text: `⚠ ${meta.banner}` }));
  if (meta.title) container.appendChild(el("div", { className: "sv-title", text: meta.title }));

  const layerSelect = el("select", { className: "sv-layer", "aria-label": "layer" },
    meta.layers.map((l) => el("option", { value: l, text: LAYER_LABELS[l] || l })));
  const opacity = el("input", { type: "range", min: "0", max: "1", step: "0.05", className: "sv-opacity", "aria-label": "opacity" });
  const outline = el("input", { type: "checkbox", className: "sv-outline" });
  const threshold = el("input", { type: "range", min: "0", max: "1", step: "0.01", className: "sv-threshold", "aria-label": "confidence threshold" });
  const thresholdValue = el("span", { className: "sv-threshold-value" });
  const stats = el("div", { className: "sv-stats" });
  const controls = el("div", { className: "sv-controls" }, [
    el("label", {}, [document.createTextNode("layer "), layerSelect]),
    el("label", {}, [document.createTextNode("opacity "), opacity]),
    el("label", {}, [outline, document.createTextNode(" outlines")]),
    el("label", {}, [document.createTextNode("abstain below confidence "), threshold, thresholdValue]),
  ]);
  const note = [];
  if (meta.factor > 1) {
    note.push(`shown at 1/${meta.factor} resolution for transport (${meta.original_width}×${meta.original_height} → ${W}×${H}); class ids exact`);
  }
  if (meta.disagreement !== null && meta.disagreement !== undefined) {
    note.push(`A and B disagree on ${pct(meta.disagreement)} of pixels`);
  }
  const info = el("div", { className: "sv-info", text: note.join(" · ") });
  const colorbar = el("div", { className: "sv-colorbar" });

  const panelViews = P.map((p) => {
    const canvas = el("canvas", { className: "sv-canvas", width: String(W), height: String(H) });
    canvas.style.maxWidth = `${(MAX_CANVAS_HEIGHT * W) / H}px`; // keep tall photos on screen
    const marker = el("div", { className: "sv-marker" });
    const wrap = el("div", { className: "sv-canvas-wrap" }, [canvas, marker]);
    const view = el("div", { className: "sv-panel" }, [
      el("div", { className: "sv-panel-title", text: p.title + (p.is_trained ? "" : " — untrained demo weights") }),
      wrap,
    ]);
    return { view, canvas, marker, ctx: canvas.getContext("2d") };
  });
  const legend = el("div", { className: "sv-legend" });
  const main = el("div", { className: "sv-main" }, [
    el("div", { className: "sv-panels" }, panelViews.map((v) => v.view)), legend]);
  const readout = el("div", { className: "sv-readout", text: "hover the image for class, top-3 probabilities, entropy and margin" });
  container.append(controls, info, colorbar, main, stats, readout);
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
    const lut = meta.colormaps[layer];
    const conf = p.maps.confidence.data;
    const thrQ = thr * 65535;
    const other = P.length === 2 ? P[1 - index].labels : null;
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
          if (pred === sel && truth === sel) col = TP;
          else if (pred === sel && truth !== ignore) col = FP;
          else if (pred !== sel && truth === sel) col = FN;
        } else if (truth !== ignore && pred !== truth) {
          col = palette[pred];
        }
        if (col) { cr = col[0]; cg = col[1]; cb = col[2]; a = 1; }
      } else if (layer === "disagreement" && other) {
        if (p.labels[i] !== other[i]) {
          const col = palette[p.labels[i]];
          cr = col[0]; cg = col[1]; cb = col[2]; a = 1;
        } else { r *= DISAGREE_DIM; g *= DISAGREE_DIM; b *= DISAGREE_DIM; }
      }
      if (withOutline) {
        const x = i % W;
        const edge = (x < W - 1 && cls[i + 1] !== c) || (i + W < N && cls[i + W] !== c);
        if (CONTINUOUS.includes(layer)) {
          if (edge) { cr = 255; cg = 255; cb = 255; a = 1; }
        } else if (!edge) a = 0;
      }
      if (sel >= 0 && layer !== "errors" && c !== sel) {
        a = 0; r *= OUTSIDE_SELECTION_DIM; g *= OUTSIDE_SELECTION_DIM; b *= OUTSIDE_SELECTION_DIM;
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
      colorbar.replaceChildren(swatch(TP), el("span", { text: `true positive (${names[sel]})` }),
        swatch(FP), el("span", { text: "false positive" }), swatch(FN), el("span", { text: "false negative" }));
    } else if (layer === "errors") {
      colorbar.replaceChildren(el("span", { text: "wrong pixels in the predicted class's colour; click a legend row for TP / FP / FN of that class" }));
    } else if (layer === "disagreement") {
      colorbar.replaceChildren(el("span", { text: "pixels where A and B predict different classes, in each panel's class colour" }));
    } else {
      return false;
    }
    colorbar.style.display = "";
    return true;
  }

  function drawColorbar() {
    const layer = model.get("layer");
    const lut = meta.colormaps[layer];
    const entry = P[0].maps[layer];
    if (drawKey(layer)) return;
    if (!lut || !entry) { colorbar.style.display = "none"; return; }
    const stops = [];
    for (let s = 0; s <= 8; s++) {
      const k = 3 * Math.round((s / 8) * 255);
      stops.push(`rgb(${lut[k]},${lut[k + 1]},${lut[k + 2]}) ${(s / 8) * 100}%`);
    }
    colorbar.style.display = "";
    colorbar.replaceChildren(
      el("span", { text: "0" }),
      el("span", { className: "sv-colorbar-strip", style: `background: linear-gradient(to right, ${stops.join(", ")})` }),
      el("span", { text: `${entry.scale.toFixed(3)} ${["entropy", "mutual_information"].includes(layer) ? "nats" : ""}` }));
  }

  function drawLegend() {
    const sel = model.get("selected_class");
    const tables = P.map((p) => {
      const head = ["", "class", "share", "mean conf."].concat(gt ? ["IoU"] : []);
      const rows = p.classes.map((row) => {
        const tr = el("tr", { className: "sv-legend-row", "data-class-id": String(row.id) }, [
          el("td", {}, [swatch(row.color)]),
          el("td", { text: row.name }),
          el("td", { text: pct(row.share) }),
          el("td", { text: pct(row.mean_confidence) }),
        ].concat(gt ? [el("td", { text: pct(row.iou) })] : []));
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
      });
      return el("table", {}, [
        el("caption", { text: `${p.title}: classes by pixel share${sel >= 0 ? " (click again to restore)" : " (click to isolate)"}` }),
        el("tr", {}, head.map((h) => el("th", { text: h }))),
        ...rows,
      ]);
    });
    legend.replaceChildren(...tables);
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
      let text = `${P.length > 1 ? p.title + ": " : ""}coverage ${pct(kept / N)}`;
      if (gt) text += ` · accuracy on kept pixels ${scored ? pct(correct / scored) : "–"}`;
      return text;
    });
    thresholdValue.textContent = ` ${thr.toFixed(2)}`;
    stats.textContent = parts.join("   |   ");
  }

  function syncControls() {
    layerSelect.value = model.get("layer");
    opacity.value = String(model.get("opacity"));
    outline.checked = model.get("outline");
    threshold.value = String(model.get("threshold"));
  }

  function redraw() {
    syncControls();
    P.forEach((_, i) => draw(i));
    drawColorbar();
    drawLegend();
    drawStats();
  }

  // ---------- hover read-out (browser only, no kernel round trip) ----------
  function topk(p, x, y) {
    const [k, lh, lw] = p.topIds.shape;
    const lx = Math.min(lw - 1, Math.floor(((x + 0.5) / W) * lw));
    const ly = Math.min(lh - 1, Math.floor(((y + 0.5) / H) * lh));
    const out = [];
    for (let j = 0; j < k; j++) {
      const idx = j * lh * lw + ly * lw + lx;
      out.push([names[p.topIds.data[idx]], p.topProbs.data[idx] / 65535]);
    }
    return out;
  }

  function value(p, name, i) {
    const m = p.maps[name];
    return m ? (m.data[i] / 65535) * m.scale : null;
  }

  function describe(p, x, y) {
    const i = y * W + x;
    const pred = names[p.labels[i]];
    const lines = [`${P.length > 1 ? p.title + " — " : ""}predicted: ${pred} (confidence ${pct(value(p, "confidence", i))})`];
    lines.push("top-3: " + topk(p, x, y).map(([n, pr]) => `${n} ${pct(pr)}`).join(" · "));
    let u = `entropy ${value(p, "entropy", i).toFixed(3)} nats · margin ${value(p, "margin", i).toFixed(3)}`;
    const mi = value(p, "mutual_information", i);
    if (mi !== null) u += ` · mutual information ${mi.toFixed(3)} nats`;
    lines.push(u);
    if (gt) {
      const truth = gt[i];
      if (truth === ignore) lines.push("truth: unlabelled pixel (ignored)");
      else if (truth === p.labels[i]) lines.push(`truth: ${names[truth]} ✓ correct`);
      else lines.push(`truth: ${names[truth]} ✗ predicted ${pred} where truth is ${names[truth]}`);
    }
    return lines.join("\n");
  }

  function hover(event, canvas) {
    const rect = canvas.getBoundingClientRect();
    const x = Math.min(W - 1, Math.max(0, Math.floor(((event.clientX - rect.left) / rect.width) * W)));
    const y = Math.min(H - 1, Math.max(0, Math.floor(((event.clientY - rect.top) / rect.height) * H)));
    const f = meta.factor;
    const ox = Math.min(meta.original_width - 1, x * f + Math.floor(f / 2));
    const oy = Math.min(meta.original_height - 1, y * f + Math.floor(f / 2));
    const blocks = [`pixel (${ox}, ${oy})`].concat(P.map((p) => describe(p, x, y)));
    readout.textContent = blocks.join("\n");
    for (const v of panelViews) {
      v.marker.style.display = "block";
      v.marker.style.left = `${((x + 0.5) / W) * 100}%`;
      v.marker.style.top = `${((y + 0.5) / H) * 100}%`;
    }
  }
  for (const v of panelViews) {
    v.canvas.addEventListener("mousemove", (e) => hover(e, v.canvas));
    v.canvas.addEventListener("mouseleave", () => panelViews.forEach((w) => { w.marker.style.display = "none"; }));
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
