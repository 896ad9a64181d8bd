// attnprobe report: sentence explorer. Tokens are untrusted text: they are only ever
// written with textContent (never as markup), and the data is read with JSON.parse.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var data = JSON.parse(document.getElementById("attnprobe-data").textContent);
  var sents = data.sentences, cols = data.columns || [];
  var order = sents.map(function (_, k) { return k; });
  var sortKey = null, sortAsc = true, current = -1;
  var tbody = document.querySelector("#sentence-list tbody");
  var tip = document.getElementById("tooltip");

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function svg(tag, attrs) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  function fmt(v, digits) {
    if (v === null || v === undefined) return "–";
    if (typeof v === "boolean") return v ? "yes" : "no";
    if (digits === undefined && Number.isInteger(v)) return String(v);
    return v.toFixed(digits === undefined ? 3 : digits);
  }
  function decode(att) {
    var bin = atob(att.q8), out = new Float64Array(bin.length);
    for (var k = 0; k < bin.length; k++) out[k] = bin.charCodeAt(k) / 255;
    return out;
  }

  // ---- list: header, sorting, filtering
  var head = document.getElementById("list-head");
  var listCols = [{ key: "i", label: "#", help: "sentence number in the corpus (0-based)" },
                  { key: "text", label: "source", help: "source sentence" }].concat(cols);
  listCols.forEach(function (c) {
    var th = el("th", c.label);
    if (c.help) th.title = c.help;
    th.dataset.key = c.key;
    if (c.key !== "text") th.addEventListener("click", function () { sortBy(c.key); });
    head.appendChild(th);
  });
  function value(s, key) { return key === "i" ? s.i : s.n[key]; }
  function sortBy(key) {
    sortAsc = sortKey === key ? !sortAsc : true;
    sortKey = key;
    head.querySelectorAll("th").forEach(function (th) {
      th.classList.toggle("sorted", th.dataset.key === key);
      th.classList.toggle("asc", th.dataset.key === key && sortAsc);
    });
    applyFilter();
  }
  var COND = /^\s*([a-z_]+)\s*(<=|>=|<|>|=)\s*(-?[0-9.]+)\s*$/i;
  function matches(s, q) {
    if (!q) return true;
    var m = COND.exec(q);
    if (m) {
      var v = value(s, m[1]), x = parseFloat(m[3]);
      if (v === null || v === undefined) return false;
      return m[2] === "<" ? v < x : m[2] === ">" ? v > x : m[2] === "<=" ? v <= x : m[2] === ">=" ? v >= x : v === x;
    }
    var words = q.toLowerCase().split(/\s+/).filter(Boolean);
    var text = (s.src.join(" ") + " " + s.tgt.join(" ")).toLowerCase();
    return words.every(function (w) { return text.indexOf(w) >= 0; });
  }
  function applyFilter() {
    var q = document.getElementById("filter").value;
    order = [];
    for (var k = 0; k < sents.length; k++) if (matches(sents[k], q)) order.push(k);
    if (sortKey !== null) {
      order.sort(function (a, b) {
        var x = value(sents[a], sortKey), y = value(sents[b], sortKey);
        if (x === null || x === undefined) return 1;
        if (y === null || y === undefined) return -1;
        return (x - y) * (sortAsc ? 1 : -1) || sents[a].i - sents[b].i;
      });
    }
    renderList();
  }
  function renderList() {
    var frag = document.createDocumentFragment();
    order.forEach(function (k) {
      var s = sents[k], tr = el("tr");
      tr.dataset.k = k;
      tr.appendChild(el("td", s.i));
      tr.appendChild(el("td", s.src.join(" "), "text"));
      cols.forEach(function (c) { tr.appendChild(el("td", fmt(s.n[c.key], c.digits))); });
      if (k === current) tr.className = "selected";
      tr.addEventListener("click", function () { select(k); });
      frag.appendChild(tr);
    });
    tbody.textContent = "";
    tbody.appendChild(frag);
    document.getElementById("count").textContent = order.length + " of " + sents.length + " sentences";
  }
  document.getElementById("filter").addEventListener("input", applyFilter);

  // ---- detail: tokens, numbers, heatmap
  function linkSet(pairs) {
    var set = {};
    (pairs || []).forEach(function (p) { set[p[0] + "," + p[1]] = true; });
    return set;
  }
  // q: an 8-bit [tgt words, src words + EOS] matrix; pred: predicted links (attention only)
  function heatmap(s, q, pred, rgb) {
    var rows = s.tgt.length, ncol = q.shape[1], vals = decode(q);
    var srcLabels = s.src.concat(["</s>"]).slice(0, ncol);
    var cell = Math.max(9, Math.min(24, Math.floor(700 / Math.max(ncol, 1))));
    var longest = function (a) { return a.reduce(function (m, t) { return Math.max(m, t.length); }, 1); };
    var left = Math.min(160, 7 * longest(s.tgt) + 10), top = Math.min(140, 5 * longest(srcLabels) + 14);
    var root = svg("svg", { "class": "heatmap", width: left + ncol * cell + 4, height: top + rows * cell + 4 });
    var sure = linkSet(s.gold && s.gold.s), poss = linkSet(s.gold && s.gold.p);
    pred = linkSet(pred);
    for (var j = 0; j < ncol; j++) {
      var x = left + j * cell + cell / 2;
      var t = svg("text", { x: x, y: top - 4, transform: "rotate(-60 " + x + " " + (top - 4) + ")" });
      t.textContent = srcLabels[j];
      root.appendChild(t);
    }
    for (var r = 0; r < rows; r++) {
      var lab = svg("text", { x: left - 4, y: top + r * cell + cell * 0.7, "text-anchor": "end" });
      lab.textContent = s.tgt[r];
      root.appendChild(lab);
      for (var c = 0; c < ncol; c++) {
        var v = vals[r * ncol + c], key = c + "," + r;
        var rect = svg("rect", { "class": "cell", x: left + c * cell, y: top + r * cell, width: cell - 1, height: cell - 1,
                                 fill: "rgba(" + rgb + "," + v.toFixed(3) + ")", "data-row": r, "data-col": c, "data-v": v.toFixed(3) });
        if (sure[key]) { rect.setAttribute("stroke", "#111"); rect.setAttribute("stroke-width", "2"); rect.dataset.gold = "sure"; }
        else if (poss[key]) { rect.setAttribute("stroke", "#111"); rect.setAttribute("stroke-dasharray", "3 2"); rect.dataset.gold = "possible"; }
        root.appendChild(rect);
        if (pred[key]) {
          root.appendChild(svg("circle", { "class": "pred", cx: left + c * cell + cell / 2 - 0.5, cy: top + r * cell + cell / 2 - 0.5,
                                           r: Math.max(2, cell / 6), fill: "#e4572e", "pointer-events": "none" }));
        }
      }
    }
    root.addEventListener("mousemove", function (ev) {
      var t = ev.target;
      if (!t.classList || !t.classList.contains("cell")) { tip.style.display = "none"; return; }
      var rr = +t.dataset.row, cc = +t.dataset.col, k = cc + "," + rr;
      var notes = [sure[k] ? "gold sure" : poss[k] ? "gold possible" : "", pred[k] ? "predicted" : ""].filter(Boolean);
      tip.textContent = srcLabels[cc] + " → " + s.tgt[rr] + ": " + t.dataset.v + (notes.length ? "\n" + notes.join(", ") : "");
      tip.style.left = ev.clientX + 12 + "px"; tip.style.top = ev.clientY + 12 + "px"; tip.style.display = "block";
    });
    root.addEventListener("mouseleave", function () { tip.style.display = "none"; });
    return root;
  }
  function select(k, scroll) {
    if (k < 0 || k >= sents.length) return;
    current = k;
    var s = sents[k], d = document.getElementById("detail");
    d.textContent = "";
    d.appendChild(el("h3", "Sentence " + s.i));
    [["source", s.src], ["reference", s.tgt], ["greedy", s.hyp]].forEach(function (p) {
      if (!p[1]) return;
      var line = el("div", null, "tokens");
      line.appendChild(el("b", p[0]));
      line.appendChild(el("span", p[1].join(" ")));
      d.appendChild(line);
    });
    var nums = el("div", cols.map(function (c) { return c.label + " " + fmt(s.n[c.key], c.digits); }).join(" · "), "small");
    nums.id = "detail-numbers";
    d.appendChild(nums);
    if (s.att) {
      var p = data.primary || {};
      d.appendChild(el("div", "attention of " + p.site + " (rows: target words at offset " + p.offset +
                       "; predicted links: " + p.method + ")", "legend"));
      var wrap = el("div", null, "heatmap-wrap");
      wrap.appendChild(heatmap(s, s.att, s.pred, "31,95,168"));
      d.appendChild(wrap);
    } else {
      d.appendChild(el("p", "This model has no attention to show.", "help"));
    }
    var names = Object.keys(s.attr || {});
    if (names.length) {
      d.appendChild(el("div", "attribution |value| per target word (rows scaled to their maximum), " +
                       "side by side with the attention", "legend"));
      var side = el("div", null, "attr-row");
      side.id = "attribution-maps";
      names.forEach(function (name) {
        var box = el("div", null, "heatmap-wrap attr");
        box.appendChild(el("div", name, "small"));
        box.appendChild(heatmap(s, s.attr[name], null, "200,90,30"));
        side.appendChild(box);
      });
      d.appendChild(side);
    }
    tbody.querySelectorAll("tr.selected").forEach(function (tr) { tr.classList.remove("selected"); });
    var row = tbody.querySelector('tr[data-k="' + k + '"]');
    if (row) {
      row.classList.add("selected");
      if (scroll !== false) row.scrollIntoView({ block: "nearest" });  // not on page load
    }
    document.body.dataset.selected = String(s.i);
  }
  document.addEventListener("keydown", function (ev) {
    if (ev.target && ev.target.tagName === "INPUT") return;
    var step = ev.key === "ArrowDown" || ev.key === "j" ? 1 : ev.key === "ArrowUp" || ev.key === "k" ? -1 : 0;
    if (!step || !order.length) return;
    ev.preventDefault();
    var pos = order.indexOf(current);
    select(order[Math.max(0, Math.min(order.length - 1, pos < 0 ? 0 : pos + step))]);
  });

  renderList();
  if (order.length) select(order[0], false);
  document.body.dataset.ready = "1";
})();
