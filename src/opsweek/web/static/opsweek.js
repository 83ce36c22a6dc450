// Progressive enhancement only: every page works without JavaScript.
// A form or refresh that htmx sends and the server refuses shows the problem's title here,
// instead of failing silently.
document.addEventListener("htmx:responseError", (event) => {
  const box = document.getElementById("problem");
  let text = `${event.detail.xhr.status} ${event.detail.xhr.statusText}`;
  try {
    const problem = JSON.parse(event.detail.xhr.responseText);
    text = problem.detail || problem.title || text;
  } catch (_) { /* not a problem document */ }
  box.textContent = text;
  box.hidden = false;
});
document.addEventListener("htmx:afterRequest", (event) => {
  if (event.detail.successful) document.getElementById("problem").hidden = true;
});

// A copy button beside every command of a runbook step (the command stays selectable text).
document.addEventListener("DOMContentLoaded", () => {
  if (!navigator.clipboard) return;
  for (const code of document.querySelectorAll("ol.steps pre > code")) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "copy";
    button.textContent = "copy";
    button.addEventListener("click", async () => {
      await navigator.clipboard.writeText(code.textContent);
      button.textContent = "copied";
      setTimeout(() => { button.textContent = "copy"; }, 1500);
    });
    code.parentElement.append(button);
  }
});

// The inbox from the keyboard, as in mail clients: j/k move, Enter opens, a acknowledges,
// r resolves (with a note), / searches, ? shows the keys. Keys typed into a field are left
// alone; without JavaScript every action is a form on the row.
(() => {
  const KEYS = [
    ["j / k", "next / previous alert"],
    ["Enter", "open the alert"],
    ["a", "acknowledge it"],
    ["r", "resolve it, with a note"],
    ["/", "filter (team=… @state=active @age>1h, words)"],
    ["g", "open or fold every group"],
    ["?", "show or hide these keys"],
  ];
  let selected = -1;

  // the rows shown: not those of a folded group
  const rows = () =>
    [...document.querySelectorAll("#inbox table.alerts tr[class^='alert-']")].filter(
      (row) => row.offsetParent !== null,
    );

  function select(index) {
    const all = rows();
    if (!all.length) return;
    selected = Math.max(0, Math.min(index, all.length - 1));
    all.forEach((row, i) => row.classList.toggle("selected", i === selected));
    all[selected].scrollIntoView({ block: "nearest" });
  }

  function help() {
    let box = document.getElementById("keys-help");
    if (!box) {
      box = document.createElement("div");
      box.id = "keys-help";
      box.className = "keys-help";
      box.setAttribute("role", "dialog");
      box.setAttribute("aria-label", "Keyboard shortcuts");
      const list = document.createElement("dl");
      for (const [key, what] of KEYS) {
        const dt = document.createElement("dt");
        dt.textContent = key;
        const dd = document.createElement("dd");
        dd.textContent = what;
        list.append(dt, dd);
      }
      box.append(list);
      box.hidden = true;
      document.body.append(box);
    }
    box.hidden = !box.hidden;
  }

  document.addEventListener("keydown", (event) => {
    if (!document.getElementById("inbox")) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) {
      if (event.key === "Escape") target.blur();
      return;
    }
    const row = rows()[selected];
    switch (event.key) {
      case "j": select(selected + 1); break;
      case "k": select(selected - 1); break;
      case "Enter": if (row) row.querySelector("td a")?.click(); break;
      case "a": row?.querySelector("form[action$='/ack'] button")?.click(); break;
      case "r": {
        const more = row?.querySelector("details");
        if (!more) return;
        more.open = true;
        more.querySelector("form[action$='/resolve'] input[name='note']")?.focus();
        break;
      }
      case "/": document.querySelector("form.filters input[name='q']")?.focus(); break;
      case "g": {
        const groups = [...document.querySelectorAll("#inbox details.group")];
        const open = !groups.every((group) => group.open);
        groups.forEach((group) => { group.open = open; });
        select(0);
        break;
      }
      case "?": help(); break;
      default: return;
    }
    event.preventDefault();
  });

  // an action swaps the inbox: keep the selection where it was
  document.addEventListener("htmx:afterSwap", () => { if (selected >= 0) select(selected); });
})();

// Live updates: the server says what changed as it is committed (server-sent events, /events),
// and each part of the page marked data-live="topic ..." is fetched again (htmx) when one of
// its topics changed. While the stream is down the parts poll every 30 s, and when it is back
// they are all fetched once (what changed meanwhile was not said).
(() => {
  if (!window.EventSource || !document.querySelector("[data-live]")) return;
  const favicon = document.querySelector("link[rel='icon']");
  let down = false;

  function refresh(topics, at) {
    for (const part of document.querySelectorAll("[data-live]")) {
      const wanted = part.dataset.live.split(" ");
      if (topics.includes("*") || wanted.some((topic) => topics.includes(topic))) {
        if (at) part.dataset.since = at;
        htmx.trigger(part, "live");
      }
    }
  }

  // a part fetched because of a change asks for the page as rendered after it was seen
  document.addEventListener("htmx:configRequest", (event) => {
    const since = event.detail.elt.dataset?.since;
    if (since) event.detail.headers["X-Opsweek-Since"] = since;
  });

  // the title and the tab's icon carry the number of unacknowledged alerts (as base.html)
  function showUnacked(count) {
    document.title = (count ? `(${count}) ` : "") + document.title.replace(/^\(\d+\) /, "");
    const shown = count >= 100 ? "99+" : count ? String(count) : "ok";
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">' +
      `<rect width="32" height="32" rx="6" fill="${count ? "#b00020" : "#2e7d32"}"/>` +
      `<text x="16" y="22" font-size="${shown.length > 2 ? 14 : 18}" text-anchor="middle" ` +
      `fill="#fff" font-family="sans-serif">${shown}</text></svg>`;
    if (favicon) favicon.href = "data:image/svg+xml," + encodeURIComponent(svg);
  }

  // a browser notification of each new firing alert, for the person on duty who asked for them
  function notify(change) {
    const user = document.body.dataset.user;
    if (!user || change.on_duty !== user || !window.Notification) return;
    if (Notification.permission !== "granted") return;
    for (const alert of change.new) {
      const note = new Notification(`opsweek: ${alert.title}`, {
        body: alert.kind,
        tag: `opsweek-alert-${alert.id}`,
      });
      note.onclick = () => { window.focus(); window.location.href = `/alerts/${alert.id}`; };
    }
  }

  // connected: a page rendered before the last change, or a stream that was down, may miss
  // what changed; its parts are fetched once
  function connect() {
    const source = new EventSource("/events");
    source.addEventListener("hello", (event) => {
      const changedAt = JSON.parse(event.data).changed_at;
      window.opsweekLive = true;
      document.body.classList.add("live");
      if (down || changedAt > Number(document.body.dataset.rendered || 0)) {
        refresh(["*"], changedAt);
      }
      down = false;
    });
    source.addEventListener("change", (event) => {
      const change = JSON.parse(event.data);
      refresh(change.topics, change.at);
      if (change.unacked !== null) showUnacked(change.unacked);
      notify(change);
    });
    source.onerror = () => {  // EventSource connects again by itself, unless refused
      window.opsweekLive = false;
      document.body.classList.remove("live");
      down = true;
      // refused (503: too many streams; 401: logged out): the parts poll, and a minute later
      // the page asks for a stream again
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, 60_000);
    };
  }
  connect();
})();

// The person on duty may ask for browser notifications of new firing alerts.
document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("notify");
  if (!button || !window.Notification || Notification.permission !== "default") return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    await Notification.requestPermission();
    button.hidden = true;
  });
});
