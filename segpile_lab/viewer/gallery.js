// segpile_lab SegmentationGallery front end (anywidget ESM module; no imports, no CDN).
// The kernel (gallery.py) sends one page of cards in `items`; every control here only sets a
// trait (sort_by, descending, class_name, page, selected) and the kernel answers with the
// next page, so the browser never holds more than one page of thumbnails.

function make(tag, className, text = "") {
  const node = document.createElement(tag);
  node.className = className;
  node.textContent = text;
  return node;
}

function option(select, value, text) {
  const o = document.createElement("option");
  o.value = value;
  o.textContent = text;
  select.appendChild(o);
}

function render({ model, el }) {
  const root = make("div", "segpile-gallery");
  const banner = make("div", "sg-banner");
  const bar = make("div", "sg-controls");
  const sort = make("select", "sg-sort");
  sort.title = "sort by";
  const order = make("button", "sg-order");
  const classes = make("select", "sg-class");
  classes.title = "only images whose ground truth holds this class";
  const prev = make("button", "sg-prev", "◀ previous");
  const next = make("button", "sg-next", "next ▶");
  const status = make("span", "sg-status");
  bar.append("sort by ", sort, order, " class ", classes, prev, next, status);
  const grid = make("div", "sg-grid");
  root.append(banner, bar, grid);
  el.appendChild(root);

  function fillSelects() {
    sort.replaceChildren();
    const labels = model.get("column_labels");
    for (const c of model.get("columns")) option(sort, c, labels[c] || c);
    sort.value = model.get("sort_by");
    classes.replaceChildren();
    option(classes, "", "(any)");
    for (const c of model.get("class_names")) option(classes, c, c);
    classes.value = model.get("class_name");
  }

  function set(name, value) {
    model.set(name, value);
    model.save_changes();
  }

  function draw() {
    banner.textContent = model.get("banner");
    order.textContent = model.get("descending") ? "highest first" : "lowest first";
    const size = model.get("page_size");
    const total = model.get("total");
    const pages = Math.max(1, Math.ceil(total / size));
    const page = model.get("page");
    status.textContent = ` page ${page + 1} of ${pages} · ${total} images`;
    prev.disabled = page <= 0;
    next.disabled = page + 1 >= pages;
    grid.replaceChildren();
    for (const item of model.get("items")) {
      const card = make("div", "sg-card");
      if (item.index === model.get("selected")) card.classList.add("sg-selected");
      card.dataset.index = String(item.index);
      card.title = item.confusions ? `confused: ${item.confusions}` : item.name;
      if (item.src) {
        const img = document.createElement("img");
        img.src = item.src;
        img.alt = `#${item.index} ${item.name}`;
        card.appendChild(img);
      }
      card.appendChild(make("div", "sg-name", `#${item.index} ${item.name}`));
      for (const line of item.lines) card.appendChild(make("div", "sg-line", line));
      card.addEventListener("click", () => set("selected", item.index));
      grid.appendChild(card);
    }
  }

  sort.addEventListener("change", () => set("sort_by", sort.value));
  order.addEventListener("click", () => set("descending", !model.get("descending")));
  classes.addEventListener("change", () => set("class_name", classes.value));
  prev.addEventListener("click", () => set("page", Math.max(0, model.get("page") - 1)));
  next.addEventListener("click", () => set("page", model.get("page") + 1));
  model.on("change:items", draw);
  model.on("change:total", draw);
  model.on("change:descending", draw);
  model.on("change:selected", draw);
  model.on("change:sort_by", () => { sort.value = model.get("sort_by"); });
  model.on("change:class_name", () => { classes.value = model.get("class_name"); });
  fillSelects();
  draw();
}

export default { render };
