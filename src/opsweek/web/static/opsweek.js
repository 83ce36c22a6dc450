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
