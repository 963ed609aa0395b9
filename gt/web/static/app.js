// gt dashboard: keeps the page's live sections current as commits land, streams the feed, and
// sends the few actions (with the token the server put in the page, when the viewer has it).
"use strict";
(function () {
  const meta = document.querySelector('meta[name="gt-token"]');
  const token = meta ? meta.content : null;
  const live = document.getElementById("live");

  function toast(text, bad) {
    const box = document.createElement("div");
    box.className = "toast" + (bad ? " bad" : "");
    box.textContent = text;
    document.body.appendChild(box);
    setTimeout(() => box.remove(), 6000);
  }

  let refreshing = null;
  async function refresh() {
    if (refreshing) { refreshing.again = true; return; }
    refreshing = { again: false };
    try {
      const reply = await fetch(location.href, { credentials: "same-origin" });
      if (!reply.ok) return;
      const doc = new DOMParser().parseFromString(await reply.text(), "text/html");
      doc.querySelectorAll("[data-live][id]").forEach((fresh) => {
        const old = document.getElementById(fresh.id);
        if (!old) return;
        const open = [...old.querySelectorAll("tr.peekrow:not([hidden])")].map((r) => r.previousElementSibling.dataset.identity);
        old.replaceWith(fresh);
        open.forEach((who) => peek(fresh.querySelector(`tr.agent[data-identity="${CSS.escape(who)}"] button.peek`)));
      });
      document.dispatchEvent(new CustomEvent("gt:refreshed"));
    } finally {
      const again = refreshing.again;
      refreshing = null;
      if (again) refresh();
    }
  }

  function stream() {
    const filtered = document.querySelector("[data-filter]");
    // from the town's state this page was made at: what lands before the stream opens comes too
    // (and after a dropped connection, the browser asks from the last event it had)
    const made = document.querySelector('meta[name="gt-generation"]');
    const since = "since=" + encodeURIComponent(made ? made.content : "");
    const source = new EventSource("/events?" + since + (filtered ? "&" + filtered.dataset.filter : ""));
    source.onopen = () => { live.classList.add("on"); live.classList.remove("off"); };
    source.onerror = () => { live.classList.add("off"); live.classList.remove("on"); };
    source.addEventListener("feed", (event) => {
      const row = JSON.parse(event.data);
      const list = document.getElementById("feed");
      if (!list || list.querySelector(`[data-commit="${CSS.escape(row.commit)}"]`)) return;
      const holder = document.createElement("ol");
      holder.innerHTML = row.html;
      const item = holder.firstElementChild;
      item.dataset.commit = row.commit;
      item.classList.add("new");
      list.prepend(item);
    });
    source.addEventListener("change", () => {
      if (!document.querySelector("[data-filter]")) refresh();
    });
  }

  async function peek(button) {
    if (!button) return;
    const row = button.closest("tr").nextElementSibling;
    const who = button.dataset.agent;
    const reply = await fetch("/api/peek?agent=" + encodeURIComponent(who), { credentials: "same-origin" });
    const data = await reply.json();
    row.querySelector("pre").textContent = reply.ok ? (data.lines.join("\n") || "(no output yet)") : data.error;
    row.hidden = false;
  }

  async function act(button) {
    if (!token) { toast("Actions need the dashboard's token: open the address gt dashboard printed.", true); return; }
    const action = button.dataset.action;
    const body = {};
    if (action === "nudge") {
      const message = prompt(`Nudge ${button.dataset.agent}:`);
      if (!message) return;
      Object.assign(body, { agent: button.dataset.agent, message });
    } else if (action === "ack") {
      body.id = button.dataset.id;
    } else if (action === "sling") {
      Object.assign(body, { bead: button.dataset.bead, rig: button.dataset.rig });
    } else if (action === "retry") {
      Object.assign(body, { rig: button.dataset.rig, request: button.dataset.request });
    }
    button.disabled = true;
    try {
      const reply = await fetch("/api/" + action, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-GT-Token": token },
        body: JSON.stringify(body),
      });
      const data = await reply.json();
      if (reply.ok) toast(`${action}: done`); else toast(`${action}: ${data.error}`, true);
    } catch (err) {
      toast(`${action}: ${err}`, true);
    } finally {
      button.disabled = false;
      refresh();
    }
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    if (button.classList.contains("peek")) {
      const row = button.closest("tr").nextElementSibling;
      if (!row.hidden) { row.hidden = true; return; }
      peek(button);
    } else if (button.classList.contains("act")) {
      act(button);
    }
  });

  stream();
})();
