/* 建造师助手 chat widget. Embed with one tag: <script src="https://YOUR-BOT-HOST/widget.js" defer></script>
 * No framework, no build step, no third-party CDN. Every message is rendered as text (never as
 * HTML); only http(s) links are turned into <a> elements, built with the DOM API.
 */
(function () {
  "use strict";
  if (window.__jzsWidget) return;
  window.__jzsWidget = true;

  var script = document.currentScript;
  var BASE = script && script.src ? script.src.replace(/\/widget\.js(\?.*)?$/, "") : "";
  var KEY = "jzs-widget";
  var state = load();

  function load() {
    try {
      var s = JSON.parse(localStorage.getItem(KEY) || "null");
      if (s && s.sender) return s;
    } catch (e) { /* storage unavailable or corrupted: start fresh */ }
    return { sender: "web-" + Date.now().toString(36) + Math.random().toString(36).slice(2, 10), log: [], open: false };
  }
  function save() {
    state.log = state.log.slice(-60);
    try { localStorage.setItem(KEY, JSON.stringify(state)); } catch (e) { /* private mode: keep in memory */ }
  }

  var css = [
    ".jzs-launch{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:28px;padding:12px 18px;background:#1a73e8;color:#fff;font-size:15px;box-shadow:0 4px 14px rgba(0,0,0,.2);cursor:pointer}",
    ".jzs-panel{position:fixed;right:20px;bottom:80px;z-index:2147483000;width:370px;max-width:calc(100vw - 24px);height:560px;max-height:calc(100vh - 100px);display:none;flex-direction:column;background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.25);font:14px/1.55 system-ui,'PingFang SC','Microsoft YaHei',sans-serif;color:#222;overflow:hidden}",
    ".jzs-panel.jzs-open{display:flex}",
    ".jzs-head{background:#1a73e8;color:#fff;padding:10px 14px;display:flex;align-items:center;justify-content:space-between}",
    ".jzs-head button{background:transparent;border:1px solid rgba(255,255,255,.6);color:#fff;border-radius:14px;padding:2px 10px;cursor:pointer;font-size:13px}",
    ".jzs-log{flex:1;overflow-y:auto;padding:12px;background:#f6f7f9}",
    ".jzs-msg{max-width:85%;margin:6px 0;padding:8px 11px;border-radius:10px;white-space:pre-wrap;word-break:break-word}",
    ".jzs-user{margin-left:auto;background:#1a73e8;color:#fff}",
    ".jzs-bot{background:#fff;border:1px solid #e3e5e8}",
    ".jzs-bot a{color:#1a73e8}",
    ".jzs-staff{border-color:#f2c46d;background:#fffaf0}",
    ".jzs-staff-label{display:block;font-size:12px;color:#b06000;margin-bottom:2px}",
    ".jzs-quick{display:flex;flex-wrap:wrap;gap:6px;margin:4px 0 8px}",
    ".jzs-quick button{border:1px solid #1a73e8;color:#1a73e8;background:#fff;border-radius:14px;padding:4px 10px;cursor:pointer;font-size:13px}",
    ".jzs-fb{display:flex;gap:6px;margin:-2px 0 6px 4px;font-size:12px;color:#888}",
    ".jzs-fb button{border:0;background:transparent;cursor:pointer;font-size:15px;padding:0 2px}",
    ".jzs-fb button[disabled]{opacity:.45;cursor:default}",
    ".jzs-table{border-collapse:collapse;margin:6px 0;font-size:12.5px;background:#fff}",
    ".jzs-table th,.jzs-table td{border:1px solid #dfe2e6;padding:4px 6px;vertical-align:top;text-align:left}",
    ".jzs-table th{background:#eef3fd}",
    ".jzs-typing{color:#888;font-size:13px;margin:4px 2px}",
    ".jzs-form{display:flex;border-top:1px solid #e3e5e8}",
    ".jzs-form textarea{flex:1;border:0;padding:10px;font:inherit;resize:none;height:44px;outline:none}",
    ".jzs-form button{border:0;background:#1a73e8;color:#fff;padding:0 16px;cursor:pointer;font-size:14px}",
    "@media (max-width:480px){.jzs-panel{right:0;bottom:0;width:100vw;max-width:100vw;height:100vh;max-height:100vh;border-radius:0}}"
  ].join("\n");

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  // Text with line breaks (pre-wrap) and safe links: only http(s) URLs become <a>, via the DOM API.
  function renderText(node, text) {
    var re = /https?:\/\/[^\s<>"'，。）)]+/g, last = 0, m;
    while ((m = re.exec(text)) !== null) {
      node.appendChild(document.createTextNode(text.slice(last, m.index)));
      var a = el("a", null, m[0]);
      a.href = m[0]; a.target = "_blank"; a.rel = "noopener noreferrer";
      node.appendChild(a);
      last = m.index + m[0].length;
    }
    node.appendChild(document.createTextNode(text.slice(last)));
  }

  function renderTable(custom) {
    var table = el("table", "jzs-table"), head = el("tr");
    (custom.columns || []).forEach(function (c) { head.appendChild(el("th", null, String(c))); });
    table.appendChild(head);
    (custom.rows || []).forEach(function (row) {
      var tr = el("tr");
      (row || []).forEach(function (cell) { tr.appendChild(el("td", null, String(cell))); });
      table.appendChild(tr);
    });
    return table;
  }

  var style = el("style"); style.textContent = css; document.head.appendChild(style);
  var launch = el("button", "jzs-launch", "💬 咨询建造师助手");
  launch.type = "button"; launch.setAttribute("aria-label", "打开建造师助手");
  var panel = el("div", "jzs-panel"); panel.setAttribute("role", "dialog"); panel.setAttribute("aria-label", "建造师助手");
  var head = el("div", "jzs-head"); head.appendChild(el("strong", null, "建造师助手"));
  var human = el("button", "jzs-human", "转人工"); human.type = "button"; head.appendChild(human);
  var logBox = el("div", "jzs-log"); logBox.setAttribute("aria-live", "polite");
  var form = el("form", "jzs-form");
  var input = el("textarea"); input.placeholder = "请输入您的问题，Enter 发送，Shift+Enter 换行"; input.setAttribute("aria-label", "输入消息");
  var send = el("button", null, "发送"); send.type = "submit";
  form.appendChild(input); form.appendChild(send);
  panel.appendChild(head); panel.appendChild(logBox); panel.appendChild(form);
  document.body.appendChild(launch); document.body.appendChild(panel);

  function setOpen(open) {
    state.open = open; save();
    panel.classList.toggle("jzs-open", open);
    if (open) { input.focus(); logBox.scrollTop = logBox.scrollHeight; }
  }
  launch.onclick = function () { launch.textContent = "💬 咨询建造师助手"; setOpen(!panel.classList.contains("jzs-open")); };

  function scroll() { logBox.scrollTop = logBox.scrollHeight; }

  // One entry of the transcript: {who: "user"|"bot", text, buttons, custom, question, rated}
  function renderEntry(entry, index) {
    if (entry.who === "user") { logBox.appendChild(el("div", "jzs-msg jzs-user", entry.text)); return; }
    if (entry.who === "staff") {  // a person, after a hand-off (fetched below)
      var said = el("div", "jzs-msg jzs-bot jzs-staff"); said.appendChild(el("span", "jzs-staff-label", "人工客服"));
      renderText(said, entry.text); logBox.appendChild(said); return;
    }
    if (entry.text) {
      var bubble = el("div", "jzs-msg jzs-bot"); renderText(bubble, entry.text); logBox.appendChild(bubble);
    }
    if (entry.custom && entry.custom.type === "comparison") logBox.appendChild(renderTable(entry.custom));
    if (entry.buttons && entry.buttons.length) {
      var quick = el("div", "jzs-quick");
      entry.buttons.forEach(function (b) {
        var btn = el("button", null, b.title); btn.type = "button";
        btn.onclick = function () { sendMessage(b.payload, b.title); };
        quick.appendChild(btn);
      });
      logBox.appendChild(quick);
    }
    if (entry.feedback) logBox.appendChild(feedbackBar(entry, index));
  }

  function feedbackBar(entry, index) {
    var bar = el("div", "jzs-fb"); bar.appendChild(el("span", null, entry.rated ? "感谢反馈" : "有帮助吗？"));
    [["👍", 1, "有帮助"], ["👎", -1, "没帮助"]].forEach(function (f) {
      var b = el("button", null, f[0]); b.type = "button"; b.title = f[2]; b.setAttribute("aria-label", f[2]);
      b.disabled = !!entry.rated;
      b.onclick = function () {
        entry.rated = f[1]; save();
        bar.firstChild.textContent = "感谢反馈";
        Array.prototype.forEach.call(bar.querySelectorAll("button"), function (x) { x.disabled = true; });
        post("/api/feedback", { sender: state.sender, channel: "web", rating: f[1], question: entry.question || "",
                                answer: entry.text || "", faq_id: entry.feedback.faq_id || null });
      };
      bar.appendChild(b);
    });
    return bar;
  }

  function post(path, body) {
    return fetch(BASE + path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  }

  function addEntry(entry) { state.log.push(entry); save(); renderEntry(entry, state.log.length - 1); scroll(); }

  var busy = false;
  function sendMessage(message, shown) {
    if (busy || !message || !message.trim()) return;
    busy = true;
    addEntry({ who: "user", text: shown || message });
    var typing = el("div", "jzs-typing", "助手正在输入…"); logBox.appendChild(typing); scroll();
    post("/api/chat", { sender: state.sender, message: message, metadata: { channel: "web" } })
      .then(function (r) { return r.json().catch(function () { return {}; }); })
      .then(function (data) {
        var msgs = data.messages || (data.detail ? [{ text: String(data.detail) }] : [{ text: "抱歉，助手暂时无法回复，请稍后再试。" }]);
        var pending = null;
        msgs.forEach(function (m) {
          // An {"type":"answer"} custom payload belongs to the text answer just before it: it enables 👍/👎.
          if (m.custom && m.custom.type === "answer" && pending) { pending.feedback = { faq_id: m.custom.faq_id }; return; }
          // The hand-off was recorded: watch for the person who takes it.
          if (m.custom && m.custom.type === "handoff") { watchHandoff(true); return; }
          // A comparison comes as a text table plus the same data as a payload: draw a real table
          // instead of the text, keeping the text's closing line (what to do next).
          if (m.custom && m.custom.type === "comparison" && pending) {
            var lines = (pending.text || "").split("\n");
            pending.custom = m.custom; pending.text = lines.length > 1 ? lines[lines.length - 1] : "";
            return;
          }
          if (pending) addEntry(pending);
          pending = { who: "bot", text: m.text || "", buttons: m.buttons || [], custom: m.custom || null, question: shown || message };
        });
        if (pending) addEntry(pending);
      })
      .catch(function () { addEntry({ who: "bot", text: "网络异常，请检查网络后重试。" }); })
      .then(function () { typing.remove(); busy = false; });
  }

  // After a hand-off: ask every few seconds whether a person took it and what they said, until it
  // is closed. The state survives reloads like the transcript does.
  var POLL_MS = 5000, watchTimer = null, quietPolls = 0;
  function watchHandoff(fresh) {
    state.handoff = { after: (state.handoff && state.handoff.after) || 0, watching: true }; save();
    if (fresh) quietPolls = 0;
    if (!watchTimer) watchTimer = setTimeout(pollHandoff, fresh ? 1500 : 0);
  }
  function pollHandoff() {
    watchTimer = null;
    var h = state.handoff; if (!h || !h.watching) return;
    fetch(BASE + "/api/handoffs/updates?sender=" + encodeURIComponent(state.sender) + "&after=" + (h.after || 0))
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        (data.messages || []).forEach(function (m) {
          h.after = Math.max(h.after || 0, m.id); addEntry({ who: "staff", text: String(m.text || "") });
          if (!panel.classList.contains("jzs-open")) launch.textContent = "💬 人工客服回复了您";
        });
        quietPolls = data.status ? 0 : quietPolls + 1;
        if (data.status === "closed" || quietPolls > 3) h.watching = false;  // over, or never recorded
        save();
      })
      .catch(function () { /* offline for a moment: try again */ })
      .then(function () { if (state.handoff && state.handoff.watching) watchTimer = setTimeout(pollHandoff, POLL_MS); });
  }

  human.onclick = function () { sendMessage("转人工"); };
  form.onsubmit = function (e) { e.preventDefault(); var v = input.value; input.value = ""; sendMessage(v); };
  input.addEventListener("keydown", function (e) {
    // Enter while a Chinese IME is composing confirms the candidate; it must not send.
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.onsubmit(e);
    }
  });

  state.log.forEach(renderEntry);
  if (!state.log.length) addEntry({ who: "bot", text: "您好！我是建造师助手，可以解答二级建造师注册问题、梳理办理步骤，也可以帮您选课报名。请问有什么可以帮您？" });
  setOpen(!!state.open);
  if (state.handoff && state.handoff.watching) watchHandoff(false);
})();
