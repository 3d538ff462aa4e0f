// The review page's script, inlined into every page and allowed by its hash in the
// page's Content-Security-Policy. Vanilla JS, no framework: the page must work offline
// from a file:// URL, and it never fetches anything.
// Rules that keep untrusted OCR text harmless: values only ever go through textContent
// or a created element's properties; images only from our own data:image/jpeg URIs.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var entries = data.entries;
  var PAGE_SIZE = data.page_size || 100;
  var has = function (obj, key) { return Object.prototype.hasOwnProperty.call(obj, key); };
  var KNOWN = {};
  data.known_statuses.forEach(function (s) { KNOWN[s] = true; });
  var collator = new Intl.Collator("zh-CN", {numeric: true, sensitivity: "base"});
  var views = data.views || [];
  var SVG_NS = "http://www.w3.org/2000/svg";
  var state = {status: "", flag: "", review: "", errorsOnly: false, query: "",
    sort: "attention", page: 0, where: {side: "*all*", page: "*all*", card: "*all*"}};
  var shown = [];

  var $ = function (id) { return document.getElementById(id); };
  var ui = {
    status: $("f-status"), flag: $("f-flag"), review: $("f-review"), search: $("f-search"),
    sort: $("f-sort"),
    where: {side: $("f-side"), page: $("f-page"), card: $("f-card")},
    errorsOnly: $("errors-only"), list: $("entries"), shown: $("shown"),
    pagers: document.querySelectorAll(".pager")
  };

  entries.forEach(function (e) { e._q = e.files.join("\n").toLowerCase(); });

  function byFile(a, b) { return collator.compare(a.files[0] || "", b.files[0] || ""); }
  // Empty page and card numbers sort first: the one image of a file, an unnumbered card.
  function num(v) { return v === null || v === undefined ? 0 : v; }
  function byPage(a, b) { return num(a.page) - num(b.page) || num(a.card) - num(b.card); }
  function whereValue(e, key) {
    var v = e[key];
    return v === null || v === undefined ? "" : String(v);
  }
  var SORTS = {
    attention: function (a, b) { return a.rank - b.rank || byFile(a, b) || a.index - b.index; },
    review: function (a, b) { return (b.needs_review ? 1 : 0) - (a.needs_review ? 1 : 0) ||
      a.rank - b.rank || byFile(a, b) || a.index - b.index; },
    file: function (a, b) { return byFile(a, b) || byPage(a, b) || a.index - b.index; },
    page: function (a, b) { return byPage(a, b) || byFile(a, b) || a.index - b.index; },
    status: function (a, b) { return collator.compare(a.status, b.status) || a.rank - b.rank ||
      byFile(a, b); },
    name: function (a, b) { return (a.name ? 0 : 1) - (b.name ? 0 : 1) ||
      collator.compare(a.name, b.name) || byFile(a, b); },
    valid_to: function (a, b) { return (a.valid_to ? 0 : 1) - (b.valid_to ? 0 : 1) ||
      collator.compare(a.valid_to, b.valid_to) || byFile(a, b); },
    original: function (a, b) { return a.index - b.index; }
  };

  function matches(e) {
    if (state.errorsOnly && !e.is_error) { return false; }
    if (state.status && e.status !== state.status) { return false; }
    if (state.flag === "*any*") { if (!e.flags.length) { return false; } }
    else if (state.flag === "*none*") { if (e.flags.length) { return false; } }
    else if (state.flag && e.flags.indexOf(state.flag) < 0) { return false; }
    if (state.review === "yes" && !e.needs_review) { return false; }
    if (state.review === "no" && e.needs_review !== false) { return false; }
    if (state.query && e._q.indexOf(state.query) < 0) { return false; }
    var keys = ["side", "page", "card"];
    for (var k = 0; k < keys.length; k += 1) {
      var wanted = state.where[keys[k]];
      if (wanted !== "*all*" && (e.pair || whereValue(e, keys[k]) !== wanted)) { return false; }
    }
    return true;
  }

  function recompute(keepPage) {
    shown = entries.filter(matches);
    shown.sort(SORTS[state.sort] || SORTS.attention);
    if (!keepPage) { state.page = 0; }
    render();
  }

  function el(tag, cls, txt) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (txt !== undefined && txt !== null) { node.textContent = String(txt); }
    return node;
  }
  function statusClass(s) { return "st-" + (has(KNOWN, s) ? s : "other"); }
  function image(uri, cls, alt) {
    // Only our own inline JPEGs: never a URL that would make the browser fetch anything.
    if (typeof uri !== "string" || uri.indexOf("data:image/jpeg;base64,") !== 0) {
      return null;
    }
    var img = el("img", cls);
    img.alt = alt;
    img.decoding = "async";
    img.loading = "lazy";
    img.src = uri;
    return img;
  }

  function svg(tag, cls) {
    var node = document.createElementNS(SVG_NS, tag);
    if (cls) { node.setAttribute("class", cls); }
    return node;
  }
  // A page thumbnail with each card found outlined and numbered in reading order; the
  // row's own card (t.mine) drawn thick. Coordinates are the thumbnail's pixels.
  function pageFigure(t) {
    var v = (typeof t.view === "number" && t.view >= 0 && t.view < views.length) ?
      views[t.view] : null;
    var fig = el("figure", "pageview");
    var img = v ? image(v.uri, "thumb", t.label ? t.label + " image" : "page image") : null;
    var outlines = v && Array.isArray(v.outlines) ? v.outlines : [];
    var mine = Array.isArray(t.mine) ? t.mine : [];
    fig.setAttribute("data-outlines", String(img ? outlines.length : 0));
    fig.setAttribute("data-mine", img ? mine.map(function (i) { return i + 1; }).join(" ") : "");
    if (!img) {
      fig.appendChild(el("div", "noimg", (v && v.problem) || t.problem || "no image"));
      if (t.label) { fig.appendChild(el("figcaption", null, t.label)); }
      return fig;
    }
    if (v.masked) { fig.classList.add("masked"); }
    var frame = el("div", "frame");
    frame.appendChild(img);
    if (outlines.length) {
      var box = svg("svg", "outlines");
      box.setAttribute("viewBox", "0 0 " + v.w + " " + v.h);
      box.setAttribute("preserveAspectRatio", "none");
      box.setAttribute("aria-hidden", "true");
      outlines.forEach(function (q, i) {
        var own = mine.indexOf(i) >= 0;
        var points = [];
        var cx = 0, cy = 0;
        for (var p = 0; p + 1 < q.length; p += 2) {
          points.push(q[p] + "," + q[p + 1]); cx += q[p]; cy += q[p + 1];
        }
        var poly = svg("polygon", "outline" + (own ? " mine" : ""));
        poly.setAttribute("points", points.join(" "));
        box.appendChild(poly);
        if (outlines.length < 2) { return; }  // one card: a number would only hide text
        var n = svg("text", "num" + (own ? " mine" : ""));
        n.setAttribute("x", String(cx / (q.length / 2)));
        n.setAttribute("y", String(cy / (q.length / 2)));
        n.textContent = String(i + 1);
        box.appendChild(n);
      });
      frame.appendChild(box);
    }
    fig.appendChild(frame);
    var caption = [];
    if (t.label) { caption.push(t.label); }
    if (Array.isArray(v.outlines)) {
      caption.push(outlines.length === 1 ? "1 card found" : outlines.length + " cards found");
      if (outlines.length > 1) {
        caption.push(mine.length ? "this row: " + mine.map(function (i) { return i + 1; })
          .join("+") : "this row's card not known");
      }
    }
    if (v.masked) { caption.push("blurred (masked)"); }
    if (caption.length) { fig.appendChild(el("figcaption", null, caption.join(" · "))); }
    return fig;
  }

  function renderEntry(e) {
    var li = el("li", "entry rank-" + e.rank + " " + statusClass(e.status));
    li.setAttribute("data-status", e.status);
    var media = el("div", "media");
    (e.thumbs || []).forEach(function (t) { media.appendChild(pageFigure(t)); });
    if (e.portrait) {
      var pf = el("figure");
      var pimg = image(e.portrait, "portrait", "portrait");
      if (pimg) { pf.appendChild(pimg); pf.appendChild(el("figcaption", null, "portrait"));
        media.appendChild(pf); }
    }
    if (media.childNodes.length) { li.appendChild(media); }

    var body = el("div", "body");
    var head = el("div", "head");
    head.appendChild(el("span", "badge " + statusClass(e.status), e.status));
    if (e.pair) {
      ["front", "back"].forEach(function (side) {
        var files = e.files.filter(function (f, i) { return e.file_sides[i] === side; });
        head.appendChild(el("span", "side", side + ":"));
        head.appendChild(el("span", "file", files.length ? files.join(" | ") : "—"));
      });
      e.sides.forEach(function (s) {
        var b = el("span", "badge " + statusClass(s[1]), s[0] + " " + s[1]);
        head.appendChild(b);
      });
    } else {
      head.appendChild(el("span", "file", e.files[0]));
      if (e.page !== null && e.page !== undefined) {
        head.appendChild(el("span", "where page-no", "page " + e.page));
      }
      if (e.card !== null && e.card !== undefined) {
        head.appendChild(el("span", "where card-no", "card " + e.card));
      }
      if (e.side) { head.appendChild(el("span", "side", e.side)); }
    }
    if (e.needs_review) { head.appendChild(el("span", "badge review", "needs review")); }
    body.appendChild(head);

    if (e.warnings.length) {
      var warns = el("div", "flags warnings");
      e.warnings.forEach(function (w) {
        var span = el("span", "warn", has(data.warning_labels, w) ? data.warning_labels[w] : w);
        span.title = w;
        warns.appendChild(span);
      });
      body.appendChild(warns);
    }
    if (e.review_reasons.length) {
      var reasons = el("div", "reasons");
      reasons.appendChild(el("span", null, "Review: "));
      e.review_reasons.forEach(function (r) { reasons.appendChild(el("code", null, r)); });
      body.appendChild(reasons);
    }

    if (e.flags.length) {
      var flags = el("div", "flags");
      e.flags.forEach(function (f) {
        var span = el("span", "flag", has(data.flag_labels, f) ? data.flag_labels[f] : f);
        span.title = f;
        flags.appendChild(span);
      });
      body.appendChild(flags);
    }
    var notes = e.errors.slice();
    if (e.portrait_error) { notes.push(["portrait", "", e.portrait_error]); }
    if (notes.length) {
      var errs = el("div", "errors");
      notes.forEach(function (x) {
        var d = el("div", "error");
        if (x[0]) { d.appendChild(el("span", "side", x[0] + " ")); }
        if (x[1]) { d.appendChild(el("code", null, x[1])); }
        d.appendChild(document.createTextNode(x[2]));
        errs.appendChild(d);
      });
      body.appendChild(errs);
    }
    if (e.fields.length) {
      var dl = el("dl", "fields");
      e.fields.forEach(function (f) {
        dl.appendChild(el("dt", null, f[0]));
        dl.appendChild(el("dd", f[2] ? "bad" : null, f[1] || "—"));
      });
      body.appendChild(dl);
    }
    if (e.details.length) {
      var det = el("details");
      det.appendChild(el("summary", null, "Details"));
      var ddl = el("dl");
      e.details.forEach(function (kv) {
        ddl.appendChild(el("dt", null, kv[0]));
        ddl.appendChild(el("dd", null, kv[1]));
      });
      det.appendChild(ddl);
      body.appendChild(det);
    }
    li.appendChild(body);
    return li;
  }

  function render() {
    var pages = Math.max(1, Math.ceil(shown.length / PAGE_SIZE));
    state.page = Math.min(Math.max(0, state.page), pages - 1);
    var start = state.page * PAGE_SIZE;
    var slice = shown.slice(start, start + PAGE_SIZE);
    var frag = document.createDocumentFragment();
    slice.forEach(function (e) { frag.appendChild(renderEntry(e)); });
    if (!slice.length) { frag.appendChild(el("li", "empty", "No entry matches these filters.")); }
    ui.list.replaceChildren(frag);
    ui.shown.textContent = shown.length
      ? "Showing " + (start + 1) + "–" + (start + slice.length) + " of " + shown.length +
        " matching (" + entries.length + " in total)"
      : "0 matching (" + entries.length + " in total)";
    ui.shown.setAttribute("data-matching", String(shown.length));
    ui.pagers.forEach(function (p) {
      p.querySelector(".prev").disabled = state.page === 0;
      p.querySelector(".next").disabled = state.page >= pages - 1;
      p.querySelector(".page").textContent = "Page " + (state.page + 1) + " of " + pages;
    });
  }

  ui.status.addEventListener("change", function () {
    state.status = ui.status.value; recompute(false);
  });
  ui.flag.addEventListener("change", function () { state.flag = ui.flag.value; recompute(false); });
  ui.review.addEventListener("change", function () {
    state.review = ui.review.value; recompute(false);
  });
  ui.sort.addEventListener("change", function () { state.sort = ui.sort.value; recompute(false); });
  Object.keys(ui.where).forEach(function (key) {
    var select = ui.where[key];
    if (!select) { return; }  // the column is the same everywhere: no filter
    select.addEventListener("change", function () {
      state.where[key] = select.value; recompute(false);
    });
  });
  var timer = null;
  ui.search.addEventListener("input", function () {
    // Debounced: re-filtering 10,000 entries on every keystroke would stutter.
    clearTimeout(timer);
    timer = setTimeout(function () {
      state.query = ui.search.value.trim().toLowerCase(); recompute(false);
    }, 120);
  });
  ui.errorsOnly.addEventListener("click", function () {
    state.errorsOnly = !state.errorsOnly;
    ui.errorsOnly.setAttribute("aria-pressed", String(state.errorsOnly));
    if (state.errorsOnly) { state.status = ""; ui.status.value = ""; }
    recompute(false);
  });
  document.querySelectorAll("button.count").forEach(function (b) {
    b.addEventListener("click", function () {
      // One click on a count shows just that status (or just flagged cards).
      state.errorsOnly = false; ui.errorsOnly.setAttribute("aria-pressed", "false");
      var flag = b.getAttribute("data-flag");
      var review = b.getAttribute("data-review");
      state.status = flag === null && review === null ? (b.getAttribute("data-status") || "") : "";
      state.flag = flag === null ? "" : flag;
      state.review = review === null ? "" : review;
      ui.status.value = state.status;
      ui.flag.value = state.flag;
      ui.review.value = state.review;
      recompute(false);
      ui.list.scrollIntoView({block: "start"});
    });
  });
  ui.pagers.forEach(function (p) {
    p.querySelector(".prev").addEventListener("click", function () {
      state.page -= 1; render(); });
    p.querySelector(".next").addEventListener("click", function () {
      state.page += 1; render(); });
  });
  // The controls are inert until here: a form the browser submitted would reload the page.
  document.getElementById("controls").addEventListener("submit", function (ev) {
    ev.preventDefault();
  });
  recompute(false);
  document.documentElement.setAttribute("data-ready", "1");
})();
