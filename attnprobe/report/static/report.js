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
  // the filter: words, and conditions FIELD OP NUMBER, separated by commas; FIELD is a
  // column's header text or its key (aer, src_len, ...), any case
  var fields = {};
  listCols.forEach(function (c) {
    if (c.key === "text") return;
    fields[c.key.toLowerCase()] = c.key;
    fields[c.label.toLowerCase()] = c.key;
  });
  fields.index = "i";
  var fieldNames = listCols.filter(function (c) { return c.key !== "text"; })
    .map(function (c) { return c.label === c.key ? c.key : c.label + " (" + c.key + ")"; }).join(", ");
  var COND = /^(.*?)\s*(<=|>=|!=|==|<|>|=)\s*(.*)$/, NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
  // {conds, words} or {error}: a condition that is half typed or names no column is an error
  function parseQuery(q) {
    var conds = [], words = [], parts = q.split(/[,;]/);
    for (var k = 0; k < parts.length; k++) {
      var part = parts[k].trim();
      if (!part) continue;
      if (!/[<>=!]/.test(part)) { words = words.concat(part.toLowerCase().split(/\s+/)); continue; }
      var m = COND.exec(part), raw = m ? m[3].trim().toLowerCase() : "";
      if (!m || !m[1].trim() || !raw) {
        return { error: "incomplete condition \u201c" + part + "\u201d: write a column, an operator " +
                        "(<, <=, >, >=, =, !=) and a number, e.g. aer > 0.3" };
      }
      var name = m[1].trim().toLowerCase().replace(/\s+/g, " "), key = fields[name];
      if (key === undefined) {
        return { error: "unknown column \u201c" + m[1].trim() + "\u201d: the columns are " + fieldNames };
      }
      var x = raw === "yes" || raw === "true" ? 1 : raw === "no" || raw === "false" ? 0 :
              NUMBER.test(raw) ? parseFloat(raw) : null;
      if (x === null) {
        return { error: "\u201c" + m[3].trim() + "\u201d in \u201c" + part + "\u201d is not a number " +
                        "(yes/no for a yes/no column)" };
      }
      conds.push({ key: key, op: m[2], x: x });
    }
    return { conds: conds, words: words };
  }
  function test(v, op, x) {
    if (v === null || v === undefined) return false;
    if (typeof v === "boolean") v = v ? 1 : 0;
    return op === "<" ? v < x : op === ">" ? v > x : op === "<=" ? v <= x : op === ">=" ? v >= x :
           op === "!=" ? v !== x : v === x;
  }
  function matches(s, query) {
    for (var k = 0; k < query.conds.length; k++) {
      var c = query.conds[k];
      if (!test(value(s, c.key), c.op, c.x)) return false;
    }
    if (!query.words.length) return true;
    var text = (s.src.join(" ") + " " + s.tgt.join(" ")).toLowerCase();
    return query.words.every(function (w) { return text.indexOf(w) >= 0; });
  }
  var query = { conds: [], words: [] }, filterError = document.getElementById("filter-error");
  function applyFilter() {
    var parsed = parseQuery(document.getElementById("filter").value);
    filterError.textContent = parsed.error || "";
    filterError.hidden = !parsed.error;
    if (parsed.error) return;  // the list stays as the last complete filter made it
    query = parsed;
    order = [];
    for (var k = 0; k < sents.length; k++) if (matches(sents[k], query)) order.push(k);
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
  // a label as drawn: long tokens shortened (the tooltip and the token lines have them whole)
  var MAX_LABEL = 40;
  function short(t) { return t.length > MAX_LABEL ? t.slice(0, MAX_LABEL - 1) + "\u2026" : t; }
  function heatmap(s, q, pred, rgb) {
    var rows = s.tgt.length, ncol = q.shape[1], vals = decode(q);
    var srcLabels = s.src.concat(["</s>"]).slice(0, ncol);
    var unkSrc = {}, unkTgt = {};
    ((s.unk && s.unk.s) || []).forEach(function (j) { unkSrc[j] = true; });
    ((s.unk && s.unk.t) || []).forEach(function (j) { unkTgt[j] = true; });
    var cell = Math.max(9, Math.min(24, Math.floor(700 / Math.max(ncol, 1))));
    var longest = function (a) { return a.reduce(function (m, t) { return Math.max(m, short(t).length); }, 1); };
    // room for every label: 7 px per character; source labels rotated by 60 degrees
    var left = 7 * longest(s.tgt) + 12, top = Math.ceil(6.2 * longest(srcLabels)) + 14;
    var root = svg("svg", { "class": "heatmap", width: left + ncol * cell + 40, height: top + rows * cell + 4 });
    var sure = linkSet(s.gold && s.gold.s), poss = linkSet(s.gold && s.gold.p);
    pred = linkSet(pred);
    for (var j = 0; j < ncol; j++) {
      var x = left + j * cell + cell / 2;
      var t = svg("text", { x: x, y: top - 4, transform: "rotate(-60 " + x + " " + (top - 4) + ")" });
      t.textContent = short(srcLabels[j]);
      if (unkSrc[j]) t.setAttribute("class", "unk");
      root.appendChild(t);
    }
    for (var r = 0; r < rows; r++) {
      var lab = svg("text", { x: left - 4, y: top + r * cell + cell * 0.7, "text-anchor": "end" });
      lab.textContent = short(s.tgt[r]);
      if (unkTgt[r]) lab.setAttribute("class", "unk");
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
      var notes = [sure[k] ? "gold sure" : poss[k] ? "gold possible" : "", pred[k] ? "predicted" : "",
                   unkSrc[cc] || unkTgt[rr] ? "<unk> to the model" : ""].filter(Boolean);
      tip.textContent = srcLabels[cc] + " → " + s.tgt[rr] + ": " + t.dataset.v + (notes.length ? "\n" + notes.join(", ") : "");
      tip.style.left = ev.clientX + 12 + "px"; tip.style.top = ev.clientY + 12 + "px"; tip.style.display = "block";
    });
    root.addEventListener("mouseleave", function () { tip.style.display = "none"; });
    return root;
  }
  // which attention the heatmap shows: a site (layer) with its heads averaged, or one head
  var primarySite = (data.primary || {}).site, view = { site: primarySite, head: null };
  function viewMatrix(s, v) {
    if (v.head !== null) {
      var hs = (s.heads || {})[v.site];
      return hs && hs[v.head] ? { q: hs[v.head], pred: null } : null;
    }
    if (v.site === primarySite) return s.att ? { q: s.att, pred: s.pred } : null;
    var q = (s.layers || {})[v.site];
    return q ? { q: q, pred: (s.layer_pred || {})[v.site] } : null;
  }
  function viewLabel(v) { return v.site + (v.head === null ? " (mean of heads)" : ", head " + v.head); }
  function viewPicker(s) {
    var sites = data.sites || [], heads = data.heads || {};
    if (sites.length < 2 && !Object.keys(heads).length) return null;
    var box = el("label", "attention shown: ", "small"), pick = el("select");
    pick.id = "att-view";
    sites.forEach(function (site) {
      var options = [{ site: site, head: null }];
      for (var h = 0; h < (heads[site] || 0); h++) options.push({ site: site, head: h });
      options.forEach(function (v) {
        var o = el("option", viewLabel(v));
        o.value = JSON.stringify(v);
        o.selected = v.site === view.site && v.head === view.head;
        pick.appendChild(o);
      });
    });
    pick.addEventListener("change", function () { view = JSON.parse(pick.value); select(current, false, false); });
    box.appendChild(pick);
    if (Object.keys(heads).length) {
      box.appendChild(el("span", " (single heads are kept for the first " + data.head_sentences +
                             " sentences only, to keep the report small)"));
    }
    return box;
  }
  function tokenLine(label, tokens, unk) {
    var line = el("div", null, "tokens"), bad = {};
    (unk || []).forEach(function (j) { bad[j] = true; });
    line.appendChild(el("b", label));
    tokens.forEach(function (t, j) {
      var w = el("span", t, bad[j] ? "unk" : null);
      if (bad[j]) w.title = "mapped to <unk> by the model";
      line.appendChild(w);
      line.appendChild(document.createTextNode(" "));
    });
    return line;
  }
  function select(k, scroll, setHash) {
    if (k < 0 || k >= sents.length) return;
    current = k;
    var s = sents[k], d = document.getElementById("detail"), unk = s.unk || { s: [], t: [] };
    d.textContent = "";
    var title = el("h3", "Sentence " + s.i + " ");
    var link = el("a", "link", "permalink");
    link.href = "#s=" + s.i;
    link.title = "a link that opens this sentence";
    title.appendChild(link);
    d.appendChild(title);
    d.appendChild(tokenLine("source", s.src, unk.s));
    d.appendChild(tokenLine("reference", s.tgt, unk.t));
    if (s.hyp) d.appendChild(tokenLine("greedy", s.hyp));
    var nums = el("div", cols.map(function (c) { return c.label + " " + fmt(s.n[c.key], c.digits); }).join(" · "), "small");
    nums.id = "detail-numbers";
    d.appendChild(nums);
    if (unk.s.length || unk.t.length) {
      d.appendChild(el("div", "words in red are unknown to the model (it reads them as <unk>)", "legend unk-legend"));
    }
    var picker = viewPicker(s);
    if (picker) d.appendChild(picker);
    var shown = viewMatrix(s, view), v = view;
    if (!shown && view.site !== primarySite) {
      d.appendChild(el("p", "This sentence has no matrix for " + viewLabel(view) + "; showing " +
                       viewLabel({ site: primarySite, head: null }) + ".", "help"));
      v = { site: primarySite, head: null };
      shown = viewMatrix(s, v);
    }
    if (shown) {
      var p = data.primary || {};
      d.appendChild(el("div", "attention of " + viewLabel(v) + " (rows: target words" +
                       (v.site === primarySite ? " at offset " + p.offset : "") + "; " +
                       (shown.pred ? "predicted links: " + p.method : "no predicted links for a single head") + ")",
                       "legend"));
      var wrap = el("div", null, "heatmap-wrap");
      wrap.appendChild(heatmap(s, shown.q, shown.pred, "31,95,168"));
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
    if (setHash !== false) {
      try { history.replaceState(null, "", "#s=" + s.i); } catch (e) { /* a page without history */ }
    }
  }
  // a link to one sentence: report.html#s=123 opens sentence 123 (its number in the corpus)
  function openFromHash() {
    var m = /^#s=(\d+)$/.exec(location.hash);
    if (!m) return false;
    for (var k = 0; k < sents.length; k++) {
      if (sents[k].i === +m[1]) {
        select(k, true, false);
        document.getElementById("explorer").scrollIntoView();
        return true;
      }
    }
    var d = document.getElementById("detail");
    d.textContent = "";
    d.appendChild(el("p", "Sentence " + m[1] + " is not in this report (" + sents.length +
                     " sentences; see the list of sentences left out above).", "warn"));
    document.getElementById("explorer").scrollIntoView();
    return true;
  }
  window.addEventListener("hashchange", openFromHash);
  document.addEventListener("keydown", function (ev) {
    if (ev.target && ev.target.tagName === "INPUT") return;
    var step = ev.key === "ArrowDown" || ev.key === "j" ? 1 : ev.key === "ArrowUp" || ev.key === "k" ? -1 : 0;
    if (!step || !order.length) return;
    ev.preventDefault();
    var pos = order.indexOf(current);
    select(order[Math.max(0, Math.min(order.length - 1, pos < 0 ? 0 : pos + step))]);
  });

  renderList();
  if (!openFromHash() && order.length) select(order[0], false, false);
  document.body.dataset.ready = "1";
})();
