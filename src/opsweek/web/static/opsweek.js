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
    ["/", "search (filter by kind)"],
    ["?", "show or hide these keys"],
  ];
  let selected = -1;

  const rows = () => [...document.querySelectorAll("#inbox table.alerts tr[class^='alert-']")];

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
      case "/": document.querySelector("form.filters input[name='kind']")?.focus(); break;
      case "?": help(); break;
      default: return;
    }
    event.preventDefault();
  });

  // an action swaps the inbox: keep the selection where it was
  document.addEventListener("htmx:afterSwap", () => { if (selected >= 0) select(selected); });
})();
