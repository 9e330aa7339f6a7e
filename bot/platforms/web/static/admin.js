// Evidence Desk admin console: the entry editor's live preview. The page works without it
// ("Check and preview" does the same on the server); this only saves a click.
"use strict";

// A form whose action cannot be undone by accident (rolling back the live knowledge base)
// says what it will do and waits for a yes.
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
});

(function () {
  const form = document.querySelector("form[data-live-preview]");
  const target = document.getElementById("preview");
  if (!form || !target) return;
  let timer = null;
  let latest = 0;

  async function refresh() {
    const ticket = ++latest;
    const body = new FormData(form);
    body.set("intent", "preview");
    try {
      const response = await fetch(form.dataset.livePreview, {
        method: "POST", body: body, credentials: "same-origin", headers: { "Accept": "text/html" },
      });
      if (!response.ok || ticket !== latest) return;
      const template = document.createElement("template");
      template.innerHTML = await response.text(); // rendered and escaped by the server
      target.replaceChildren(template.content);
    } catch (error) {
      /* keep the last preview; "Check and preview" still works */
    }
  }

  form.addEventListener("input", () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 400);
  });
})();
