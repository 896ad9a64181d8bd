"""The self-contained HTML report: one file, no network, tokens treated as untrusted text.

:func:`render_report` fills ``templates/report.html.j2`` (jinja2, autoescaped)
with the summary tables and inlines ``static/report.css``, ``static/report.js``
and the figures (SVG). The sentence explorer's data travels as one JSON
document inside ``<script type="application/json">``, with ``<``, ``>`` and
``&`` written as ``\\u`` escapes so that no token can close the element; the
script reads it with ``JSON.parse`` and writes tokens with ``textContent`` only.
Heatmaps are drawn in the browser from 8-bit attention (see
:func:`attnprobe.report.quantized.quantize`), which keeps a 1,000-sentence
report at a few megabytes. A ``Results`` is read through its attributes
only; this module does not import :mod:`attnprobe.results`, which calls it.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np

from attnprobe.report.quantized import dequantize, quantize
from attnprobe.report.sections import explorer_columns, report_sections

if TYPE_CHECKING:  # for annotations only: results imports this module, never the reverse
    from attnprobe.results import Results

__all__ = ["render_report", "render_summary", "explorer_data", "SCORE_HELP", "json_for_script"]

#: one-line explanations shown beside the numbers of the score table
SCORE_HELP = {
    "aer": "alignment error rate 1 - (|A&S| + |A&P|) / (|A| + |S|): 0 is perfect, lower is better",
    "precision": "share of predicted links that gold allows (sure or possible)",
    "recall": "share of sure gold links that were predicted",
    "f1": "harmonic mean of precision and recall",
    "offset": "attention row t is read as target word t + offset (Luong et al. 2015, fn. 14)",
    "links": "predicted links over the corpus",
}


def json_for_script(data) -> str:
    """JSON that is safe inside ``<script type="application/json">`` (no ``</``, no ``<!--``).

    Examples
    --------
    >>> json_for_script({"t": "</script><b>&"})
    '{"t": "\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e\\\\u0026"}'
    """
    text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(ch, esc)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


@cache
def _static(name: str) -> str:
    return resources.files("attnprobe.report").joinpath(name).read_text(encoding="utf-8")


@cache
def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda name: _static(f"templates/{name}")),
        autoescape=True,
        undefined=jinja2.ChainableUndefined,  # partial metrics render as blanks
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _num
    return env


def _is_undefined(value) -> bool:
    import jinja2

    return isinstance(value, jinja2.Undefined)


def _num(value, digits: int = 3) -> str:
    """A number as the report prints it: ints with thousands separators, floats with
    ``digits`` decimals, never a negative zero; a dash for nothing.

    Examples
    --------
    >>> _num(1500), _num(0.12345), _num(-0.0001), _num(-0.25), _num(None), _num(True)
    ('1,500', '0.123', '0.000', '-0.250', '–', 'yes')
    """
    if value is None or _is_undefined(value):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        text = f"{value:.{digits}f}"
        return text[1:] if text.startswith("-") and float(text.replace(",", "")) == 0 else text
    return str(value)


def _setting(key: str, value) -> str:
    """One training or architecture setting as text: seconds rounded, counts whole.

    Examples
    --------
    >>> _setting("seconds", 1146.6), _setting("steps", 1500), _setting("lr", 0.003)
    ('1,147 s (19.1 min)', '1,500', '0.003')
    >>> _setting("dev_loss", 0.018456), _setting("epochs", 20.0), _setting("cell", "gru")
    ('0.01846', '20', 'gru')
    """
    if isinstance(value, bool) or value is None:
        return _num(value)
    if isinstance(value, int | float) and (key == "seconds" or key.endswith("_seconds")):
        return f"{round(value):,} s ({value / 60:.1f} min)"
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return _num(value)


def _settings(model: dict) -> list[tuple[str, list[tuple[str, str]]]]:
    """The model card's training record and configurations as key/value tables.

    Examples
    --------
    >>> for title, rows in _settings({"train": {"steps": 10, "config": {"lr": 0.5}},
    ...                               "config": {"cell": "gru"}}):
    ...     print(title, rows)
    training [('steps', '10')]
    training configuration [('lr', '0.5')]
    architecture [('cell', 'gru')]
    """
    train = dict(model.get("train") or {})
    train_config = train.pop("config", None) or {}
    tables = [
        ("training", train),
        ("training configuration", train_config),
        ("architecture", model.get("config") or {}),
    ]
    return [
        (title, [(k, _setting(k, v)) for k, v in d.items() if not isinstance(v, dict | list)])
        for title, d in tables
        if isinstance(d, dict) and d
    ]


def _baselines(alignment: dict, primary: dict) -> list[tuple[str, dict]]:
    """Attention's primary score beside the diagonal's and the references' (empty without)."""
    extra = [("diagonal (word-blind)", alignment["diagonal"])] if alignment.get("diagonal") else []
    extra += list((alignment.get("references") or {}).items())
    if not extra:
        return []
    own = [
        r
        for r in alignment.get("scores") or []
        if r.get("best")
        and (r.get("site"), r.get("method")) == (primary.get("site"), primary.get("method"))
    ]
    site, method, offset = primary.get("site"), primary.get("method"), primary.get("offset")
    label = f"attention: {method} on {site}, offset {offset}"
    return [(label, own[0])] * bool(own) + extra


def _word_rows(q: dict, offset: int, n_tgt: int) -> dict:
    """Rows of the full [m+1, n+1] matrix that belong to target words 0..m-1 at ``offset``."""
    full = dequantize(q)
    rows = np.arange(n_tgt) - offset  # target word j is read from row j - offset
    keep = (rows >= 0) & (rows < full.shape[0])
    out = np.zeros((n_tgt, full.shape[1]))
    out[keep] = full[rows[keep]]
    return quantize(out)


def explorer_data(results: Results) -> dict:
    """The JSON document the sentence explorer reads (see ``static/report.js``).

    Attention is cut to target words at the primary offset (rows) and source
    words plus the source EOS (columns); links are ``[source, target]`` pairs.
    The list's columns are the :data:`attnprobe.report.sections.COLUMNS` that the
    sentence records have numbers for. Where the records hold them (the
    ``heads`` step), ``layers`` has every other attention site heads averaged
    (each at its best offset) and ``heads`` every head, for the sentences that
    have them; ``unk`` lists the word positions the model maps to ``<unk>``.

    Examples
    --------
    >>> from attnprobe.results import Results
    >>> r = Results({"primary": {"site": "s", "method": "m", "offset": 0}},
    ...             [{"index": 0, "src": ["a"], "tgt": ["x"], "src_len": 1, "tgt_len": 1,
    ...               "aer": 0.0, "gold": {"sure": [[0, 0]], "possible": []},
    ...               "links": {"s/m": [[0, 0]]},
    ...               "attention": {"shape": [2, 2], "q8": "/wAAAA=="}}])
    >>> d = explorer_data(r)["sentences"][0]
    >>> d["att"]["shape"], d["pred"], d["n"]
    ([1, 2], [[0, 0]], {'aer': 0.0, 'src_len': 1, 'tgt_len': 1})
    >>> d["attr"], d["layers"], d["unk"]
    ({}, {}, {'s': [], 't': []})
    """
    m = results.metrics
    primary = m.get("primary") or {}
    method = primary.get("method")
    key = f"{primary.get('site')}/{method}"
    offset = primary.get("offset") or 0
    best = (m.get("alignment") or {}).get("best_offset") or {}
    columns = explorer_columns(results.sentences)
    sites, heads, head_sentences = [primary.get("site")], {}, 0
    sentences = []
    for s in results.sentences:
        gold = s.get("gold")
        att = s.get("attention")
        n_tgt = len(s["tgt"])
        layers = {  # every other site (layer), heads averaged, each at its own best offset
            site: _word_rows(q, best.get(f"{site}/{method}", offset), n_tgt)
            for site, q in (s.get("site_attention") or {}).items()
        }
        by_head = {  # every head of every site: a bounded number of sentences have them
            site: [_word_rows(q, best.get(f"{site}/{method}", offset), n_tgt) for q in qs]
            for site, qs in (s.get("head_attention") or {}).items()
        }
        sites += [site for site in dict.fromkeys([*layers, *by_head]) if site not in sites]
        for site, qs in by_head.items():
            heads[site] = max(heads.get(site, 0), len(qs))
        head_sentences += bool(by_head)
        links = s.get("links") or {}
        sentences.append(
            {
                "i": s["index"],
                "src": s["src"],
                "tgt": s["tgt"],
                "hyp": s.get("hypothesis"),
                "n": {c["key"]: s.get(c["key"]) for c in columns},
                "gold": None if gold is None else {"s": gold["sure"], "p": gold["possible"]},
                "pred": links.get(key),
                "att": None if att is None else _word_rows(att, offset, n_tgt),
                "layers": layers,
                "layer_pred": {site: links.get(f"{site}/{method}") for site in layers},
                "heads": by_head,
                "unk": {"s": s.get("unk_src_at") or [], "t": s.get("unk_tgt_at") or []},
                # attribution row t explains target word t: offset 0
                "attr": {
                    name: _word_rows(q, 0, n_tgt)
                    for name, q in (s.get("attribution") or {}).items()
                },
            }
        )
    return {
        "columns": columns,
        "primary": primary,
        "sites": [site for site in sites if site is not None],
        "heads": heads,  # site -> heads the explorer can show one by one
        "head_sentences": head_sentences,  # how many sentences have them
        "sentences": sentences,
    }


def _context(results: Results, figures: bool) -> dict:
    m = results.metrics
    svgs = {}
    if figures:
        from attnprobe.report.figures import figure_svgs

        svgs = figure_svgs(m)
    alignment = m.get("alignment") or {}
    return {
        "m": m,
        "model": m.get("model") or {},
        "corpus": m.get("corpus") or {},
        "signature": m.get("signature") or {},
        "signature_json": json.dumps(m.get("signature") or {}, indent=1),
        "primary": m.get("primary") or {},
        "scores": alignment.get("scores") or [],
        "alignment": alignment,
        "quality": m.get("quality") or {},
        "sections": report_sections(m),
        "warnings": m.get("warnings") or [],
        "skipped": m.get("skipped") or [],
        "help": SCORE_HELP,
        "settings": _settings(m.get("model") or {}),
        "baselines": _baselines(alignment, m.get("primary") or {}),
        "figures": svgs,
        "n_sentences": results.n_sentences,
        "explorer": m.get("explorer"),  # {"shown", "of"} when the list is a sample
    }


def render_report(results: Results, figures: bool = True) -> str:
    """The whole report as one HTML string (CSS, JS, figures and data inlined).

    Examples
    --------
    >>> from attnprobe.results import Results
    >>> html = render_report(Results({"corpus": {"name": "<b>x</b>"}}, []), figures=False)
    >>> "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    True
    """
    from markupsafe import Markup

    ctx = _context(results, figures)
    ctx["figures"] = {k: Markup(v) for k, v in ctx["figures"].items()}
    ctx["css"] = Markup(_static("static/report.css"))
    ctx["js"] = Markup(_static("static/report.js"))
    ctx["data_json"] = Markup(json_for_script(explorer_data(results)))
    return _environment().get_template("report.html.j2").render(**ctx)


def render_summary(results: Results) -> str:
    """A short HTML summary for notebooks (``Results._repr_html_``): model, corpus, scores.

    Examples
    --------
    >>> from attnprobe.results import Results
    >>> "<table" in render_summary(Results({"model": {"name": "m"}}, []))
    True
    """
    ctx = _context(results, figures=False)
    return _environment().get_template("summary.html.j2").render(**ctx)
