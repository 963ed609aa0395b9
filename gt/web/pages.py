"""The dashboard's pages as HTML, made on the server from `gt.web.data` (every text escaped).

Each page is whole HTML that works without script; gt/web/static/app.js keeps the sections marked
`data-live` current (it fetches the page again when the town changes and swaps them in) and
streams the feed.
"""
from __future__ import annotations

import html
import time
from typing import Any, Iterable
from urllib.parse import quote, urlencode

from gt.web.data import WINDOWS, Board

NAV = (("/", "Overview"), ("/convoys", "Convoys"), ("/agents", "Agents"), ("/ready", "Ready"),
       ("/queue", "Merge queue"), ("/escalations", "Escalations"), ("/feed", "Feed"), ("/records", "Track records"))
MARKS = {"done": "✓", "hooked": "⚓", "created": "+", "rejected": "✗", "escalated": "⚠", "submitted": "→",
         "restart": "↻", "recover": "↺", "mail": "✉", "other": "·"}


def e(value: Any) -> str:
    """Text for HTML: escaped, None shown as a dash."""
    return "–" if value is None else html.escape(str(value), quote=True)


def bead_link(bead_id: Any) -> str:
    if not isinstance(bead_id, str) or not bead_id:
        return e(bead_id)
    return f'<a class="bead" href="/bead/{quote(bead_id, safe="")}">{e(bead_id)}</a>'


def layout(title: str, path: str, body: str, token: str | None, town: str, generation: int = 0) -> str:
    """The page around `body`: navigation, the live mark, the state it was made at (its live updates
    start there), and the action token when the viewer has it."""
    nav = "".join(f'<a href="{href}"{" class=here" if href == path else ""}>{e(name)}</a>' for href, name in NAV)
    meta = f'<meta name="gt-generation" content="{int(generation)}">'
    meta += f'<meta name="gt-token" content="{e(token)}">' if token else ""
    return ("<!doctype html><html lang=en><head><meta charset=utf-8>"
            f"<meta name=viewport content='width=device-width,initial-scale=1'>{meta}"
            f"<title>{e(title)} · Gas Town</title><link rel=stylesheet href='/static/style.css'>"
            "<script src='/static/app.js' defer></script></head><body>"
            f"<header><span class=brand>Gas Town</span><span class=town title='{e(town)}'>{e(town)}</span>"
            f"<nav>{nav}</nav><span id=live class=live title='updates as commits land'>live</span></header>"
            f"<main>{body}</main></body></html>")


def section(ident: str, title: str, inner: str, more: str = "") -> str:
    link = f' <a class=more href="{more}">all →</a>' if more else ""
    return f'<section id="{ident}" data-live><h2>{e(title)}{link}</h2>{inner}</section>'


def progress(done: int, total: int) -> str:
    return (f"<div class=progress><progress value='{done}' max='{max(total, 1)}'></progress>"
            f"<span class=count>{done}/{total}</span></div>")


def convoy_cards(rows: list[dict[str, Any]], empty: str) -> str:
    if not rows:
        return f"<p class=empty>{e(empty)}</p>"
    cards = []
    for c in rows:
        rigs = "".join(
            f"<div class=rig><h4>{e(group['rig'])}</h4><ul>"
            + "".join(f"<li class='st-{e(b['status'])}'>{bead_link(b['id'])} <span class=status>{e(b['status'])}</span>"
                      f" {e(b.get('title'))}" + (f" <span class=who>{e(b['assignee'])}</span>" if b.get("assignee") else "")
                      + "</li>" for b in group["beads"])
            + "</ul></div>" for group in c["rigs"])
        swarm = ", ".join(e(s) for s in c["swarm"]) or "nobody"
        cards.append(f"<article class=convoy data-id='{e(c['id'])}'><h3>{e(c['title'])} <small>{bead_link(c['id'])}"
                     f" · {e(c['status'])} · {e(c['age'])} old</small></h3>{progress(c['completed'], c['total'])}"
                     f"<p class=swarm>Swarm: {swarm}" + (f" · {c['queued']} queued" if c.get("queued") else "")
                     + f"</p><div class=rigs>{rigs}</div></article>")
    return "".join(cards)


def agents_table(rows: list[dict[str, Any]], token: bool) -> str:
    if not rows:
        return "<p class=empty>No agents yet.</p>"
    body = []
    for a in rows:
        who = e(a["identity"])
        alive = "alive" if a["alive"] else ("ended" if a["has_session"] else "none")
        peek = (f"<button class=peek data-agent='{who}'>peek</button>" if a["has_session"] else "")
        nudge = (f"<button class=act data-action=nudge data-agent='{who}'{'' if token else ' disabled'}>nudge</button>"
                 if a["alive"] else "")
        body.append(f"<tr class='agent' data-identity='{who}'><td class=id>{who}</td><td>{e(a['role'])}</td>"
                    f"<td>{bead_link(a.get('hook')) if a.get('hook') else '–'}</td><td class='state st-{e(a['state'])}'>"
                    f"{e(a['state'])}</td><td>{e(a['attempts'])}</td><td class='sess {alive}'>{alive}</td>"
                    f"<td>{e(a.get('model'))}</td><td>{_when(a.get('last_activity'))}</td><td>{peek}{nudge}</td></tr>"
                    f"<tr class=peekrow hidden><td colspan=9><pre></pre></td></tr>")
    return ("<table class=agents><thead><tr><th>agent</th><th>role</th><th>hook</th><th>state</th><th>attempts</th>"
            "<th>session</th><th>model</th><th>last activity</th><th></th></tr></thead><tbody>"
            + "".join(body) + "</tbody></table>")


def feed_list(rows: list[dict[str, Any]]) -> str:
    items = "".join(feed_item(r) for r in reversed(rows))
    return f"<ol id=feed class=feed reversed>{items}</ol>"


def feed_item(row: dict[str, Any]) -> str:
    try:
        clock = time.strftime("%H:%M:%S", time.localtime(float(row["time"])))
    except (ValueError, OverflowError, OSError):  # a commit time no calendar holds
        clock = "??:??:??"
    return (f"<li class='k-{e(row['kind'])}' data-ledger='{e(row['ledger'])}' data-author='{e(row['author'])}'>"
            f"<time datetime='{e(row['at'])}'>{clock}</time> <span class=mark>{MARKS.get(row['kind'], '·')}</span> "
            f"<span class=ledger>{e(row['ledger'])}</span> <span class=line>{e(row['line'])}</span></li>")


def bars(title: str, rows: list[tuple[str, float | None, str]], scale: float, unit: str = "") -> str:
    """A horizontal bar chart in SVG: one labelled bar per row, `scale` the full width's value."""
    height, label_w, bar_w = 26, 190, 300
    parts = [f"<svg class=chart role=img aria-label='{e(title)}' viewBox='0 0 {label_w + bar_w + 170} "
             f"{24 + height * max(1, len(rows))}' xmlns='http://www.w3.org/2000/svg'><title>{e(title)}</title>"
             f"<text x='0' y='14' class=ct>{e(title)}</text>"]
    for i, (name, value, text) in enumerate(rows):
        y = 24 + i * height
        width = 0 if value is None or scale <= 0 else max(2, int(bar_w * min(value, scale) / scale))
        parts.append(f"<text x='{label_w - 6}' y='{y + 16}' text-anchor=end class=cl>{e(name)}</text>"
                     f"<rect x='{label_w}' y='{y + 3}' width='{bar_w}' height='{height - 8}' class=track />"
                     f"<rect x='{label_w}' y='{y + 3}' width='{width}' height='{height - 8}' class=fill />"
                     f"<text x='{label_w + bar_w + 6}' y='{y + 16}' class=cv>{e(text)}{e(unit) if value is not None else ''}</text>")
    parts.append("</svg>")
    return "".join(parts)


def records_view(records: dict[str, Any]) -> str:
    groups = records["groups"]
    if not groups:
        return "<p class=empty>No finished work in this window.</p>"
    names = [n for n in sorted(groups) if groups[n]["success_rate"] is not None] or sorted(groups)  # charts: who finished work
    rate = [(n, groups[n]["success_rate"], _pct(groups[n]["success_rate"])) for n in names]
    medians = [groups[n]["completion_seconds_median"] for n in names]
    p90s = [groups[n]["completion_seconds_p90"] for n in names]
    top = max([v for v in medians + p90s if v is not None] or [1.0])
    land = [(n, groups[n]["completion_seconds_median"], _secs(groups[n]["completion_seconds_median"])
             + " / p90 " + _secs(groups[n]["completion_seconds_p90"])) for n in names]
    first = [(n, groups[n]["first_pass_rate"], _pct(groups[n]["first_pass_rate"])) for n in names]
    table = "".join(
        f"<tr><td>{e(n)}</td><td>{g['completed']}</td><td>{_pct(g['success_rate'])}</td>"
        f"<td>{_secs(g['completion_seconds_median'])}</td><td>{_secs(g['completion_seconds_p90'])}</td>"
        f"<td>{e(g['revisions_mean'])}</td><td>{_pct(g['first_pass_rate'])}</td>"
        f"<td>{_tokens(g)}</td><td>{e(_cost(g))}</td></tr>" for n, g in sorted(groups.items()))
    return ("<div class=charts>" + bars("success rate", rate, 1.0) + bars("time to land (median)", land, top)
            + bars("first-pass rate", first, 1.0) + "</div>"
            "<table class=records><thead><tr><th>" + e(records.get("group_by") or "") + "</th><th>landed</th>"
            "<th>success</th><th>median</th><th>p90</th><th>revisions</th><th>first pass</th><th>tokens</th>"
            "<th>cost</th></tr></thead><tbody>" + table + "</tbody></table>")


def window_picker(path: str, current: str, extra: dict[str, str]) -> str:
    links = " ".join(f"<a href='{path}?{urlencode({**extra, 'window': w})}'{' class=here' if w == current else ''}>{w}</a>"
                     for w in WINDOWS)
    return f"<p class=picker>Window: {links}</p>"


# -- pages --------------------------------------------------------------------------------------

def overview(board: Board, token: bool) -> str:
    convoys = board.convoys()
    records = board.records("model", "all")
    return (section("convoys", "Open convoys", convoy_cards(convoys, "No open convoys."), "/convoys")
            + section("agents", "Agents", agents_table(board.agents(), token), "/agents")
            + "<div class=split>"
            + section("feed-section", "Feed", feed_list(board.feed()), "/feed")
            + section("records", "Track records by model", records_view(records), "/records")
            + "</div>")


def convoys_page(board: Board, landed: bool) -> str:
    toggle = ("<a href='/convoys'>open only</a>" if landed else "<a href='/convoys?landed=1'>show landed</a>")
    rows = board.convoys(landed)
    return section("convoys", "Convoys" + (" (with landed)" if landed else ""),
                   f"<p class=picker>{toggle}</p>" + convoy_cards(rows, "No convoys."))


def agents_page(board: Board, token: bool) -> str:
    return section("agents", "Agents", agents_table(board.agents(), token))


def ready_page(board: Board, token: bool) -> str:
    out = []
    for group in board.ready():
        items = "".join(
            f"<li>{bead_link(b['id'])} <span class=prio>P{e(b['priority'])}</span> {e(b['title'])} "
            f"<button class=act data-action=sling data-bead='{e(b['id'])}' data-rig='{e(group['rig'])}'"
            f"{'' if token else ' disabled'}>sling to {e(group['rig'])}</button></li>" for b in group["beads"])
        out.append(f"<h3>{e(group['rig'])}</h3>" + (f"<ul class=ready>{items}</ul>" if items else "<p class=empty>Nothing ready.</p>"))
    return section("ready", "Ready to sling", "".join(out) or "<p class=empty>No rigs.</p>")


def queue_page(board: Board, token: bool) -> str:
    out = []
    for q in board.queues():
        pending = "".join(
            f"<tr><td>{i}</td><td>{bead_link(r['id'])}</td><td>{bead_link(r['source'])}</td><td>{e(r['branch'])}</td>"
            f"<td>{e(r['worker'])}</td><td>P{e(r['priority'])}</td><td>{len(r['attempts'])}</td></tr>"
            for i, r in enumerate(q["pending"], 1))
        recent = "".join(
            f"<tr class='res-{e(a['result'])}'><td>{_when(a['at'])}</td><td>{bead_link(a['request'])}</td>"
            f"<td>{e(a['result'])}</td><td>{_gates(a['gates'])}</td><td>{_secs(a['seconds'])}</td><td>{e(a['detail'])}</td>"
            + (f"<td><button class=act data-action=retry data-rig='{e(q['rig'])}' data-request='{e(a['request'])}'"
               f"{'' if token else ' disabled'}>retry</button></td>" if a["result"] in ("failed", "conflict", "rejected")
               else "<td></td>") + "</tr>" for a in q["recent"])
        out.append(f"<h3>{e(q['rig'])}</h3>"
                   + (f"<table><thead><tr><th>#</th><th>request</th><th>bead</th><th>branch</th><th>worker</th>"
                      f"<th>priority</th><th>attempts</th></tr></thead><tbody>{pending}</tbody></table>"
                      if pending else "<p class=empty>Nothing waiting.</p>")
                   + (f"<h4>Last attempts</h4><table><thead><tr><th>at</th><th>request</th><th>result</th><th>gates</th>"
                      f"<th>time</th><th>detail</th><th></th></tr></thead><tbody>{recent}</tbody></table>" if recent else ""))
    return section("queue", "Merge queue", "".join(out) or "<p class=empty>No rigs.</p>")


def escalations_page(board: Board, token: bool, include_all: bool) -> str:
    rows = board.escalations(include_all)
    toggle = "<a href='/escalations'>open only</a>" if include_all else "<a href='/escalations?all=1'>show closed</a>"
    body = "".join(
        f"<tr class='sev-{e(x['severity'])}'><td>{e(x['severity'])}</td><td>{bead_link(x['id'])}</td><td>{e(x['title'])}</td>"
        f"<td>{e(x['status'])}</td><td>{e(x['raised_by'])}</td><td>{e(x['count'])}</td><td>{_when(x['created_at'])}</td>"
        + (f"<td><button class=act data-action=ack data-id='{e(x['id'])}'{'' if token else ' disabled'}>ack</button></td>"
           if x["status"] == "open" else f"<td>{e(x.get('acked_by'))}</td>") + "</tr>" for x in rows)
    table = (f"<table><thead><tr><th>severity</th><th>id</th><th>title</th><th>state</th><th>raised by</th><th>count</th>"
             f"<th>raised</th><th></th></tr></thead><tbody>{body}</tbody></table>" if body else "<p class=empty>No escalations.</p>")
    return section("escalations", "Escalations", f"<p class=picker>{toggle}</p>" + table)


def feed_page(board: Board, rig: str | None, actor: str | None) -> str:
    ledgers = [s.name for s in board.sources()]
    options = "".join(f"<option{' selected' if n == rig else ''}>{e(n)}</option>" for n in ledgers)
    form = (f"<form class=filter method=get action=/feed><label>ledger <select name=rig><option value=''>all</option>"
            f"{options}</select></label> <label>actor <input name=actor value='{e(actor or '')}' placeholder='e.g. gizmo/*'>"
            "</label> <button>filter</button></form>")
    return (f"<section id=feed-section data-filter='{e(urlencode({'rig': rig or '', 'actor': actor or ''}))}'>"
            f"<h2>Feed</h2>{form}{feed_list(board.feed(rig, actor, 200))}</section>")


GROUPINGS = {"model": "model", "actor": "agent", "formula": "formula"}  # ?by= and what the page calls it


def records_page(board: Board, group_by: str, window: str) -> str:
    switch = " ".join(f"<a href='/records?{urlencode({'by': key, 'window': window})}'"
                      f"{' class=here' if key == group_by else ''}>by {name}</a>" for key, name in GROUPINGS.items())
    found = board.records(group_by, window)
    return section("records", f"Track records by {GROUPINGS.get(group_by, group_by)}",
                   window_picker("/records", window, {"by": group_by}) + f"<p class=picker>{switch}</p>"
                   + (formulas_view(found) if group_by == "formula" else records_view(found)))


def formulas_view(records: dict[str, Any]) -> str:
    """Molecules per formula, then per model: how many finished, and each step's time across runs."""
    if not records["groups"]:
        return "<p class=empty>No molecules poured in this window.</p>"
    out = []
    for name, g in records["groups"].items():
        rows = []
        for model, m in g["by_model"].items():
            steps = list(m["steps"].items())
            top = max([s["seconds_p90"] or s["seconds_median"] or 0 for _, s in steps] or [1.0]) or 1.0
            rows.append(f"<h4>{e(model)}: {m['completed']}/{m['molecules']} complete</h4>" + bars(
                "time per step (median / p90)",
                [(step, s["seconds_median"], f"{_secs(s['seconds_median'])} / p90 {_secs(s['seconds_p90'])} "
                  f"({s['closed']} runs)") for step, s in steps], float(top)))
        out.append(f"<h3>{e(name)} <small>{g['completed']}/{g['molecules']} molecules complete · "
                   f"{g['closed_steps']}/{g['steps']} steps closed</small></h3>" + "".join(rows))
    return "".join(out)


def bead_page(board: Board, bead_id: str) -> str:
    found = board.bead(bead_id)
    bead = found["bead"]
    fields = "".join(f"<tr><th>{e(k)}</th><td>{_field(v)}</td></tr>" for k, v in bead.items()
                     if k not in ("dependencies", "dependents", "description") and v not in (None, "", [], {}))
    deps = "".join(f"<li>{bead_link(d.get('id') or d.get('depends_on_id'))} <span class=kind>"
                   f"{e(d.get('dependency_type') or d.get('type'))}</span> {e(d.get('title'))}</li>"
                   for d in bead.get("dependencies") or [] if isinstance(d, dict))
    back = "".join(f"<li>{bead_link(d['id'])} <span class=kind>{e(d['type'])}</span></li>" for d in found["dependents"])
    history = "".join(
        f"<li><time>{_when(h['time'])}</time> <code>{e(h['commit'][:8])}</code> {e(h['author'])}: {e(h['subject'])}"
        + (f" <span class=changes>{e(', '.join(sorted(h['changes'])))}</span>" if h["changes"] else "") + "</li>"
        for h in found["history"])
    return (f"<section id=bead data-live><h2>{e(bead.get('id'))} · {e(bead.get('title'))}</h2>"
            f"<pre class=desc>{e(bead.get('description') or '')}</pre><table class=fields>{fields}</table>"
            f"<div class=split><div><h3>Depends on</h3><ul>{deps or '<li class=empty>nothing</li>'}</ul></div>"
            f"<div><h3>Depended on by</h3><ul>{back or '<li class=empty>nothing</li>'}</ul></div></div>"
            f"<h3>History</h3><ol class=history>{history}</ol>"
            f"<p>The same with plain git:</p><pre class=git>{e(found['git'])}</pre></section>")


def error_page(message: str) -> str:
    return f"<section><h2>Not here</h2><p class=error>{e(message)}</p></section>"


# -- small formats ------------------------------------------------------------------------------

def _when(value: Any) -> str:
    if not value:
        return "–"
    return f"<time datetime='{e(value)}'>{e(str(value)[:19].replace('T', ' '))}</time>"


def _pct(value: Any) -> str:
    return "–" if value is None else f"{round(float(value) * 100)}%"


def _secs(value: Any) -> str:
    if value is None:
        return "–"
    seconds = float(value)
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def _tokens(g: dict[str, Any]) -> str:
    total = int(g.get("tokens_in") or 0) + int(g.get("tokens_out") or 0)
    return f"{total:,}" if total else "–"


def _cost(g: dict[str, Any]) -> str:
    from gt.records.stats import cost_text

    text = cost_text(g)
    return "–" if text == "-" else text  # the pages' one dash for nothing recorded


def _gates(gates: Iterable[dict[str, Any]]) -> str:
    return " ".join(f"<span class='gate {'ok' if g['passed'] else 'bad'}'>{e(g['name'])} {_secs(g['seconds'])}</span>"
                    for g in gates) or "–"


def _field(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(e(v) for v in value)
    if isinstance(value, dict):
        import json

        return f"<code>{e(json.dumps(value, ensure_ascii=False))}</code>"
    return e(value)

