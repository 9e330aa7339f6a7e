// Evidence Desk web chat. Everything the bot shows arrives as HTML rendered (and escaped) by the
// server from the neutral Reply and Form; this script only sends what the person does and puts
// the answers on the page. What you type is shown with textContent, never as HTML.
"use strict";

(function () {
  const root = document.getElementById("chat");
  if (!root) return;
  const demo = root.dataset.demo === "true";
  const pollMs = Math.max(200, parseInt(root.dataset.pollMs || "1500", 10));

  function randomId(prefix) {
    const bytes = new Uint8Array(8);
    window.crypto.getRandomValues(bytes);
    return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function browserUser() {
    let id = null;
    try { id = window.localStorage.getItem("evidence-desk-user"); } catch (e) { id = null; }
    if (!id || !/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/.test(id)) {
      id = randomId("web-");
      try { window.localStorage.setItem("evidence-desk-user", id); } catch (e) { /* private mode */ }
    }
    return id;
  }

  async function call(method, url, body) {
    const options = { method: method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(url, options);
    if (!response.ok) throw new Error("HTTP " + response.status);
    return response.json();
  }

  function fromHtml(html) {
    const template = document.createElement("template");
    template.innerHTML = html; // server-rendered, escaped HTML (bot/web/render.py)
    return template.content;
  }

  class Pane {
    constructor(name, identity) {
      this.name = name;
      this.identity = identity; // {user, conversation, thread}
      this.element = document.getElementById("pane-" + name);
      this.log = document.getElementById("log-" + name);
      this.status = document.getElementById("status-" + name);
      this.home = document.getElementById("home-" + name);
      this.badge = document.getElementById("badge-" + name);
      this.after = 0;
      this.since = null;
      this.unread = 0;
      this.seen = new Map(); // message id -> revision
      this.element.addEventListener("click", (event) => this.onClick(event));
      this.element.addEventListener("submit", (event) => this.onSubmit(event));
    }

    get visible() { return !this.element.hidden; }

    say(text) { this.status.textContent = text; }

    payload(extra) {
      return Object.assign({
        user: this.identity.user,
        conversation: this.identity.conversation,
        thread: this.identity.thread,
      }, extra);
    }

    item(kind, who) {
      const li = document.createElement("li");
      li.className = "ed-log__item ed-log__item--" + kind;
      const label = document.createElement("p");
      label.className = "ed-log__who";
      label.textContent = who;
      li.appendChild(label);
      return li;
    }

    addYou(text, clientId) {
      const li = this.item("you", "You");
      if (clientId) li.dataset.clientId = clientId;
      const p = document.createElement("p");
      p.textContent = text;
      li.appendChild(p);
      this.log.appendChild(li);
      return li;
    }

    /** What the person typed, as stored (redacted): from history, or this page's own send. */
    showOwn(message) {
      if (this.seen.has(message.id)) return;
      this.seen.set(message.id, message.revision);
      let li = message.message_id
        ? this.log.querySelector('[data-client-id="' + CSS.escape(message.message_id) + '"]')
        : null;
      if (!li) li = this.addYou(message.text, message.message_id);
      li.dataset.messageId = String(message.id);
    }

    addBot(html) {
      const li = this.item("bot", "Evidence Desk");
      li.appendChild(fromHtml(html));
      this.log.appendChild(li);
      li.scrollIntoView({ block: "nearest" });
      return li;
    }

    addForm(html) {
      const li = this.addBot(html);
      li.classList.add("ed-log__item--form");
      const form = li.querySelector("form.ed-form");
      if (form) {
        form.dataset.submission = randomId("s");
        const first = form.querySelector("input, textarea, select");
        if (first) first.focus();
      }
      return li;
    }

    async send(text) {
      const messageId = randomId("m");
      this.addYou(text, messageId);
      this.say("Sending…");
      try {
        // The id makes a resend after a dropped connection safe: it is answered once.
        const data = await call("POST", "/chat/api/message", this.payload({ text: text, message_id: messageId }));
        if (data.sent) this.showOwn(data.sent);
        data.replies.forEach((message) => {
          this.after = Math.max(this.after, message.id);
          this.showMessage(message);
        });
        this.say("");
      } catch (error) {
        this.say("Sorry, your message could not be sent. Please try again.");
      }
      this.pollSoon();
    }

    async onClick(event) {
      const cancel = event.target.closest("[data-cancel]");
      if (cancel) {
        const item = cancel.closest(".ed-log__item");
        if (item) item.remove();
        const composer = document.getElementById("message");
        if (composer && this.name === "requester") composer.focus();
        return;
      }
      const control = event.target.closest("button[data-action]");
      if (!control || !this.element.contains(control)) return;
      const action = control.dataset.action;
      control.disabled = true;
      this.say("Working…");
      try {
        const data = await call("POST", "/chat/api/action",
          this.payload({ action: action, value: control.dataset.value || "" }));
        if (action === "faq_helpful" || action === "faq_not_helpful") {
          control.setAttribute("aria-pressed", "true");
          const group = control.closest(".ed-actions");
          if (group) group.querySelectorAll('[data-action^="faq_"]').forEach((b) => { b.disabled = true; });
        } else {
          control.disabled = false;
        }
        if (data.reply) this.addBot(data.reply.html);
        if (data.form) this.addForm(data.form.html);
        if (data.queued) this.pollSoon();
        this.say("");
      } catch (error) {
        control.disabled = false;
        this.say("Sorry, that did not work. Please try again.");
      }
      this.refresh();
    }

    values(form) {
      const values = {};
      form.querySelectorAll("input, textarea, select").forEach((input) => {
        if (!input.name) return;
        if (input.type === "checkbox") {
          const group = input.closest(".ed-choices");
          const multi = group && group.dataset.kind === "multichoice";
          if (!(input.name in values)) values[input.name] = "";
          if (input.checked) {
            values[input.name] = multi && values[input.name] ? values[input.name] + "," + input.value : input.value;
          }
        } else if (input.type === "radio") {
          if (!(input.name in values)) values[input.name] = "";
          if (input.checked) values[input.name] = input.value;
        } else {
          values[input.name] = input.value;
        }
      });
      return values;
    }

    async onSubmit(event) {
      const form = event.target.closest("form.ed-form");
      if (!form) return;
      event.preventDefault();
      const submit = form.querySelector('button[type="submit"]');
      if (submit) submit.disabled = true;
      this.say("Sending…");
      try {
        const data = await call("POST", "/chat/api/action", this.payload({
          action: form.dataset.formId,
          values: this.values(form),
          form_state: form.dataset.state || "",
          submission_id: form.dataset.submission,
        }));
        const item = form.closest(".ed-log__item");
        if (data.form) {
          const replacement = fromHtml(data.form.html);
          const next = replacement.querySelector("form.ed-form");
          next.dataset.submission = randomId("s");
          form.replaceWith(next);
          const summary = next.querySelector(".ed-error-summary");
          (summary || next.querySelector("input, textarea, select")).focus();
        } else if (item) {
          item.remove();
        }
        if (data.reply) this.addBot(data.reply.html);
        if (data.queued) this.pollSoon();
        this.say("");
      } catch (error) {
        if (submit) submit.disabled = false;
        this.say("Sorry, the form could not be sent. Nothing was lost; please try again.");
      }
      this.refresh();
    }

    showMessage(message) {
      if (message.author === "person") {
        this.showOwn(message);
        return false;
      }
      const known = this.seen.get(message.id);
      if (known !== undefined && known >= message.revision) return false;
      this.seen.set(message.id, message.revision);
      const existing = this.log.querySelector('[data-message-id="' + message.id + '"]');
      if (existing) {
        const body = existing.querySelector(":scope > .ed-reply");
        if (body) body.replaceWith(fromHtml(message.html));
        return false;
      }
      const li = this.item("bot", "Evidence Desk");
      li.dataset.messageId = String(message.id);
      li.appendChild(fromHtml(message.html));
      const thread = document.createElement("div");
      thread.className = "ed-thread";
      li.appendChild(thread);
      const parent = message.thread ? this.log.querySelector('[data-message-id="' + message.thread + '"] > .ed-thread') : null;
      (parent || this.log).appendChild(li);
      return true;
    }

    /** An answer arrives through the outbox, usually within milliseconds of the response. */
    pollSoon() {
      this.poll();
      window.setTimeout(() => this.poll(), 250);
    }

    async poll() {
      const query = new URLSearchParams({ conversation: this.identity.conversation, after: String(this.after) });
      if (this.identity.thread) query.set("thread", this.identity.thread);
      if (this.since) query.set("since", this.since);
      let data;
      try {
        data = await call("GET", "/chat/api/messages?" + query.toString());
      } catch (error) {
        return;
      }
      this.since = data.server_time;
      let fresh = 0;
      let changed = false;
      data.messages.forEach((message) => {
        this.after = Math.max(this.after, message.id);
        const before = this.seen.get(message.id);
        if (this.showMessage(message)) fresh += 1;
        if (before === undefined || before < message.revision) changed = true;
      });
      if (fresh && !this.visible && this.badge) {
        this.unread += fresh;
        this.badge.textContent = String(this.unread);
        this.badge.hidden = false;
      }
      if (changed) this.refresh();
    }

    async refresh() {
      if (!this.home) return;
      try {
        const data = await call("GET", "/chat/api/home?user=" + encodeURIComponent(this.identity.user));
        const fragment = document.createDocumentFragment();
        data.sections.forEach((section) => fragment.appendChild(fromHtml(section.html)));
        this.home.replaceChildren(fragment);
      } catch (error) {
        /* the next poll tries again */
      }
    }

    show(visible) {
      this.element.hidden = !visible;
      if (visible && this.badge) {
        this.unread = 0;
        this.badge.hidden = true;
      }
    }
  }

  const me = browserUser();
  const panes = {
    requester: new Pane("requester", { user: me, conversation: root.dataset.conversation, thread: me }),
  };
  if (demo && document.getElementById("pane-specialist")) {
    const specialist = root.dataset.specialist;
    panes.specialist = new Pane("specialist", { user: specialist, conversation: specialist, thread: null });
    document.querySelectorAll("button[data-view]").forEach((tab) => {
      tab.addEventListener("click", () => {
        Object.entries(panes).forEach(([name, pane]) => pane.show(name === tab.dataset.view));
        document.querySelectorAll("button[data-view]").forEach((other) => {
          other.setAttribute("aria-pressed", String(other === tab));
        });
        if (tab.dataset.view === "specialist") panes.specialist.refresh();
      });
    });
    panes.specialist.refresh();
  }

  const composer = document.getElementById("composer");
  const box = document.getElementById("message");
  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = box.value.trim();
    if (!text) {
      panes.requester.say("Type a question first.");
      box.focus();
      return;
    }
    box.value = "";
    panes.requester.send(text);
  });
  box.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });

  function tick() {
    Object.values(panes).forEach((pane) => pane.poll());
  }
  tick();
  window.setInterval(tick, pollMs);
})();
