/* Staff console: per-person login (an HttpOnly session cookie; nothing kept in the page's storage),
 * the views each role may use, and their actions. Every value reaches the page with textContent,
 * never as HTML; a missing value shows as "—", never as "undefined" or "NaN". */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var me = null;
  var SECTION_LABELS = { search: "知识检索", unanswered: "未解答问题", feedback: "用户反馈", handoffs: "转人工队列",
    enrollments: "报名", leads: "回访线索", accounts: "账号管理", audit: "操作日志", settings: "设置" };
  var STATUS = { new: "待联系", contacted: "已联系", paid: "已付款", cancelled: "已取消", closed: "已结束" };
  var ENROLLMENT_NEXT = { new: ["contacted", "paid", "cancelled"], contacted: ["paid", "cancelled"], paid: ["cancelled"], cancelled: [] };
  var LEAD_STATUSES = ["new", "contacted", "closed"];
  var CHANNELS = { web: "网页", wechat: "微信" };
  var PAGE = 20;

  // -- small helpers -----------------------------------------------------------------------------
  function text(v) {
    if (v === null || v === undefined || v === "" || (typeof v === "number" && !isFinite(v))) return "—";
    return typeof v === "object" ? (v.name || v.label || v.title || "—") : String(v);
  }
  function el(tag, props, children) {
    var e = document.createElement(tag);
    Object.keys(props || {}).forEach(function (k) {
      if (k === "text") e.textContent = props[k];
      else if (k === "onclick" || k === "onchange" || k === "onsubmit") e[k] = props[k];
      else if (k === "className") e.className = props[k];
      else e.setAttribute(k, props[k]);
    });
    (children || []).forEach(function (c) { if (c) e.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return e;
  }
  function cell(tr, value, props) { var td = el("td", props || {}); td.textContent = text(value); tr.appendChild(td); return td; }
  function button(label, onclick, cls) { return el("button", { type: "button", text: label, onclick: onclick, className: cls || "" }); }
  var FMT = new Intl.DateTimeFormat("zh-CN", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hour12: false });
  function when(iso) {
    if (!iso) return "—";
    var d = new Date(iso);
    return isNaN(d.getTime()) ? "—" : FMT.format(d).replace(/\//g, "-");
  }
  function duration(seconds) {
    if (typeof seconds !== "number" || !isFinite(seconds)) return "—";
    if (seconds < 60) return "不到1分钟";
    var m = Math.floor(seconds / 60), h = Math.floor(m / 60), d = Math.floor(h / 24);
    if (d) return d + "天" + (h % 24) + "小时";
    if (h) return h + "小时" + (m % 60) + "分钟";
    return m + "分钟";
  }
  function yuan(v) { return typeof v === "number" && isFinite(v) ? "¥" + v : "—"; }
  function channel(c) { return CHANNELS[c] || text(c); }
  function toast(message, ok) {
    var t = $("toast"); t.textContent = message; t.hidden = false; t.style.background = ok ? "#137333" : "#323232";
    clearTimeout(toast.timer); toast.timer = setTimeout(function () { t.hidden = true; }, 4000);
  }
  function copy(value, btn) {
    function done(ok) { btn.textContent = ok ? "已复制" : "请手动复制"; btn.dataset.copied = value; }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(value).then(function () { done(true); }, function () { done(fallbackCopy(value)); });
    } else done(fallbackCopy(value));
  }
  function fallbackCopy(value) {
    var area = el("textarea"); area.value = value; document.body.appendChild(area); area.select();
    var ok = false; try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    area.remove(); return ok;
  }

  // -- the API -------------------------------------------------------------------------------------
  function api(path, options) {
    options = options || {};
    var init = { method: options.method || "GET", headers: {}, credentials: "same-origin" };
    if (options.body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(options.body); }
    return fetch(path, init).then(function (r) {
      var isJson = (r.headers.get("content-type") || "").indexOf("json") >= 0;
      var body = isJson ? r.json().catch(function () { return {}; }) : r.text();
      return body.then(function (data) {
        if (r.ok) return data;
        var detail = data && data.detail ? String(data.detail) : "请求没有成功（" + r.status + "），请稍后再试。";
        if (r.status === 401 && !options.quiet) showLogin("登录已过期或尚未登录，请重新登录。");
        else if (r.status === 403 && detail.indexOf("修改初始密码") >= 0) showPassword(true);
        else if (!options.quiet) toast(detail);
        var err = new Error(detail); err.status = r.status; throw err;
      });
    });
  }
  function query(params) {
    var parts = [];
    Object.keys(params).forEach(function (k) {
      if (params[k] !== "" && params[k] !== null && params[k] !== undefined) parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(params[k]));
    });
    return parts.length ? "?" + parts.join("&") : "";
  }
  function download(path, filename) {
    return fetch(path, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) return r.json().catch(function () { return {}; }).then(function (d) { toast(d.detail || "导出没有成功。"); });
      var named = /filename="([^"]+)"/.exec(r.headers.get("content-disposition") || "");  // the server's name first
      return r.blob().then(function (blob) {
        var a = el("a", { href: URL.createObjectURL(blob), download: named ? named[1] : filename }); document.body.appendChild(a); a.click(); a.remove();
      });
    });
  }

  // -- the drawer beside a list: one record with its actions and its conversation ---------------
  function openDrawer(title) {
    var d = $("drawer"); d.textContent = ""; d.hidden = false; d.removeAttribute("data-key");
    d.appendChild(el("div", { style: "display:flex;justify-content:space-between;align-items:center" }, [
      el("h3", { text: title }), button("关闭", closeDrawer)]));
    return d;
  }
  function closeDrawer() { $("drawer").hidden = true; $("drawer").textContent = ""; }
  function facts(pairs) {
    var dl = el("dl");
    pairs.forEach(function (p) { dl.appendChild(el("dt", { text: p[0] })); dl.appendChild(el("dd", { text: text(p[1]) })); });
    return dl;
  }
  function conversationBox(path, sender) {
    var box = el("div", { className: "transcript", "data-role": "transcript" }, ["正在读取会话记录…"]);
    if (!path) { box.textContent = "这条记录没有关联的会话。"; return box; }
    api(path, { quiet: true }).then(function (data) {
      var turns = (data.turns || data.messages || []).map(function (t) {
        return ((t.who || t.role) === "user" ? "用户：" : "助手：") + text(t.text);
      });
      box.textContent = turns.length ? "会话 " + text(sender || data.sender) + "\n\n" + turns.join("\n") : "（没有找到这个会话的记录）";
    }, function (err) { box.textContent = err.message; });
    return box;
  }
  function showConversation(sender) {
    var d = openDrawer("会话记录");
    d.appendChild(conversationBox("/api/staff/conversations/" + encodeURIComponent(sender), sender));
  }

  // -- knowledge lookup (客服) ---------------------------------------------------------------------
  function sourceWords(source) {
    var s = source || {};
    var parts = [s.title, s.section].filter(function (x) { return x; });
    return parts.length ? parts.join(" · ") : "资料中未注明出处";
  }
  function decisionWords(d) {
    if (d.decision === "answer") return d.suggestions && d.suggestions.length ? "较有把握：可以回答，并提示相关问题" : "可以直接回答";
    if (d.gap) return "资料里没有这方面的内容：请转人工或补充资料";
    return d.suggestions && d.suggestions.length ? "没有把握直接回答：可能是以下问题" : "资料中没有答案";
  }
  function renderDecision(d, asked) {
    var box = el("div", { className: "box decision" + (d.decision === "answer" ? "" : " decline"), "data-role": "decision" });
    if (asked) box.appendChild(el("div", { className: "meta", text: "问：" + asked }));
    var confidence = typeof d.confidence === "number" && isFinite(d.confidence) ? "（把握 " + Math.round(d.confidence * 100) + "%）" : "";
    box.appendChild(el("div", { "data-role": "verdict" }, [el("strong", { text: "判断：" + decisionWords(d) }), confidence]));
    if (d.question) box.appendChild(el("div", { className: "meta", text: "对应的标准问题：" + d.question }));
    box.appendChild(el("div", { className: "answer", "data-role": "answer", text: text(d.answer) }));
    if (d.decision === "answer") {
      var src = sourceWords(d.source);
      box.appendChild(el("div", { className: "meta", "data-role": "source", text: "来源：" + src }));
      var btn = button("复制答案（含来源）", function () { copy(d.answer + "\n（来源：" + src + "）", btn); });
      btn.setAttribute("data-role", "copy"); box.appendChild(btn);
    }
    if (d.suggestions && d.suggestions.length) {
      var list = el("ul");
      d.suggestions.forEach(function (s) {
        list.appendChild(el("li", {}, [button(text(s.question), function () { $("q").value = s.question; search(); }, "link")]));
      });
      box.appendChild(el("div", { className: "meta", text: d.decision === "answer" ? "用户可能还想问：" : "相近的问题：" }));
      box.appendChild(list);
    }
    return box;
  }
  var searchOrigin = null;
  function lookup(question, sender) {
    searchOrigin = sender ? { question: question, sender: sender } : null;
    $("q").value = question; showSection("search"); search();
  }
  function search() {
    var q = $("q").value.trim(); if (!q) return;
    var origin = $("search-origin"); origin.textContent = "";
    if (searchOrigin && searchOrigin.question === q) {
      origin.appendChild(el("p", { className: "meta" }, ["这个问题来自用户 " + searchOrigin.sender + "：",
        button("查看提问用户的会话", function () { showConversation(searchOrigin.sender); }, "link")]));
    }
    var box = $("search-result"); box.textContent = "正在检索…";
    api("/api/knowledge/search" + query({ q: q, k: 5 })).then(function (data) {
      box.textContent = "";
      var d = data.decision || {};
      if (d.parts && d.parts.length) {
        box.appendChild(el("p", { className: "meta", text: "这条消息问了 " + d.parts.length + " 件事，逐一判断：" }));
        d.parts.forEach(function (p) { box.appendChild(renderDecision(p, p.asked)); });
      } else box.appendChild(renderDecision(d));
      var hits = data.hits || [];
      if (!hits.length) return;
      box.appendChild(el("h4", { text: "其他候选（按相关度）" }));
      hits.forEach(function (h) {
        var div = el("div", { className: "box", "data-role": "hit" });
        div.appendChild(el("div", {}, [el("strong", { text: text(h.question) }), " ",
          el("span", { className: "badge", text: h.kind === "faq" ? "常见问题" : "指南原文" })]));
        div.appendChild(el("div", { className: "meta", "data-role": "hit-meta",
          text: "得分 " + (typeof h.score === "number" ? h.score.toFixed(3) : "—") + " · 来源：" + sourceWords(h.source) }));
        div.appendChild(el("div", { className: "answer", text: text(h.text) }));
        var btn = button("复制（含来源）", function () { copy(h.text + "\n（来源：" + sourceWords(h.source) + "）", btn); });
        div.appendChild(btn); box.appendChild(div);
      });
    }, function (err) { box.textContent = err.message; });
  }
  $("search-form").onsubmit = function (e) { e.preventDefault(); search(); };

  // -- lists of 客服 -------------------------------------------------------------------------------
  function fill(id, rows, render, empty) {
    var body = $(id); body.textContent = "";
    if (!rows.length) { var tr = el("tr"); var td = cell(tr, empty || "暂无数据"); td.colSpan = 9; body.appendChild(tr); return; }
    rows.forEach(function (row) { var tr = el("tr"); render(tr, row); body.appendChild(tr); });
  }
  function actions(tr, list) {
    var td = el("td"); list.forEach(function (a) { if (a) { td.appendChild(a); td.appendChild(document.createTextNode(" ")); } });
    tr.appendChild(td); return td;
  }
  function loadUnanswered() {
    api("/api/staff/unanswered").then(function (d) {
      var groups = d.groups || [];
      $("unanswered-note").textContent = groups.length ? "共 " + groups.length + " 组" : "";
      fill("unanswered", groups, function (tr, g) {
        var pick = el("input", { type: "checkbox", "aria-label": "选择这一组" }); pick.dataset.id = g.id || "";
        if (!g.id) pick.disabled = true;
        var td = el("td"); td.appendChild(pick); tr.appendChild(td);
        var questions = g.questions || [];
        cell(tr, questions.join(" / "));
        cell(tr, g.count);
        cell(tr, (g.first_seen ? when(g.first_seen) + " / " : "") + when(g.last_seen));
        cell(tr, g.nearest ? text(g.nearest.question) + (typeof g.nearest.score === "number" ? "（" + g.nearest.score.toFixed(2) + "）" : "") : "—");
        actions(tr, [button("检索", function () { lookup(questions[0] || "", g.sender); }),
          g.sender ? button("查看会话", function () { showConversation(g.sender); }) : null]);
      }, "暂时没有未解答的问题");
    });
  }
  $("unanswered-export").onclick = function () {
    var ids = Array.prototype.map.call(document.querySelectorAll("#unanswered input:checked"), function (x) { return x.dataset.id; })
      .filter(function (x) { return x; });
    if (!ids.length) { toast("请先勾选要导出的问题组。"); return; }
    download("/api/staff/unanswered/export" + query({ ids: ids.join(","), faq_id: $("unanswered-faq").value.trim() }), "faq_draft.yml");
  };
  function loadFeedback() {
    api("/api/staff/feedback").then(function (d) {
      fill("feedback", d.items || [], function (tr, f) {
        cell(tr, f.rating > 0 ? "👍 有帮助" : "👎 没帮助"); cell(tr, f.question); cell(tr, f.answer); cell(tr, when(f.created_at));
        actions(tr, [f.question ? button("检索", function () { lookup(f.question, f.sender); }) : null,
          f.sender ? button("查看会话", function () { showConversation(f.sender); }) : null]);
      }, "暂时没有反馈");
    });
  }

  // -- the hand-off queue --------------------------------------------------------------------------
  var handoffStatus = "open";
  function loadHandoffs() {
    api("/api/staff/handoffs" + query({ status: handoffStatus })).then(function (d) {
      var counts = d.counts || {}, tabs = $("handoff-tabs"); tabs.textContent = "";
      [["open", "等待接待"], ["taken", "已接手"], ["closed", "已结束"]].forEach(function (t) {
        var b = button(t[1] + "（" + (counts[t[0]] || 0) + "）", function () { handoffStatus = t[0]; loadHandoffs(); });
        b.className = handoffStatus === t[0] ? "active" : ""; b.setAttribute("data-status", t[0]); tabs.appendChild(b);
      });
      tabs.appendChild(button("刷新", loadHandoffs));
      fill("handoffs", d.items || [], function (tr, h) {
        tr.setAttribute("data-id", h.id);
        cell(tr, h.sender); cell(tr, channel(h.channel)); cell(tr, h.reason); cell(tr, when(h.created_at));
        cell(tr, (h.status === "open" ? "已等待 " : "等了 ") + duration(h.waited_seconds));
        cell(tr, h.taken_by);
        var st = el("td"); st.appendChild(el("span", { className: "badge " + h.status, text: text(h.status_label) })); tr.appendChild(st);
        actions(tr, [
          h.status === "open" ? button("接手", function () { act(h, "take"); }) : null,
          h.status === "taken" ? button("回复", function () { openHandoff(h); }) : null,
          h.status !== "closed" ? button("结束", function () { act(h, "close"); }) : null,
          h.sender ? button("查看会话", function () { h.status === "taken" ? openHandoff(h) : showConversation(h.sender); }) : null]);
      }, handoffStatus === "open" ? "没有等待接待的用户" : "暂无记录");
    });
  }
  function messageWords(m) {
    if (!m) return "";
    if (m.channel === "wechat") return m.delivered ? "已通过微信客服消息告诉用户。" : (m.problem || "微信消息没有发送成功。");
    return "用户在网页聊天窗口中会看到这条消息。";
  }
  function act(h, what, body) {
    return api("/api/staff/handoffs/" + h.id + "/" + what, { method: "POST", body: body || {} }).then(function (out) {
      toast({ take: "已接手。", close: "已结束。", reply: "已发送。" }[what] + messageWords(out.message), true);
      loadHandoffs();
      if (what === "take") openHandoff(out);
      return out;
    });
  }
  function openHandoff(h) {
    var d = openDrawer("转人工：" + text(h.sender));
    d.appendChild(facts([["渠道", channel(h.channel)], ["用户说", h.reason], ["提出时间", when(h.created_at)],
      ["状态", h.status_label], ["处理人", h.taken_by]]));
    var area = el("textarea", { placeholder: "回复用户（网页用户在聊天窗口看到，微信用户收到客服消息）", "aria-label": "回复用户" });
    d.appendChild(area);
    d.appendChild(el("p", {}, [button("发送回复", function () {
      if (!area.value.trim()) return;
      act(h, "reply", { text: area.value }).then(function () { area.value = ""; });
    }), " ", button("结束", function () { act(h, "close").then(closeDrawer); }),
      " ", h.reason ? button("检索用户的问题", function () { lookup(h.reason, h.sender); }) : null]));
    d.appendChild(el("h4", { text: "会话记录" }));
    d.appendChild(conversationBox("/api/staff/conversations/" + encodeURIComponent(h.sender), h.sender));
  }

  // -- the sales pipeline --------------------------------------------------------------------------
  var consultants = [];
  function loadConsultants() {
    return api("/api/staff/consultants", { quiet: true }).then(function (d) { consultants = d.items || []; }, function () { consultants = []; });
  }
  function pipeline(kind) {
    var state = { offset: 0, total: 0 };
    var enrollments = kind === "enrollments";
    var bar = $(kind + "-filters"); bar.textContent = "";
    var q = el("input", { type: "search", size: 22, placeholder: enrollments ? "姓名、手机号或报名号" : "姓名或手机号", "aria-label": "搜索" });
    var status = el("select", { "aria-label": "状态" }, [el("option", { value: "", text: "全部状态" })]);
    (enrollments ? ["new", "contacted", "paid", "cancelled"] : LEAD_STATUSES).forEach(function (s) { status.appendChild(el("option", { value: s, text: STATUS[s] })); });
    var from = el("input", { type: "date", "aria-label": "开始日期" }), to = el("input", { type: "date", "aria-label": "结束日期" });
    var assignee = el("select", { "aria-label": "负责人" });
    function assigneeOptions() {
      var chosen = assignee.value; assignee.textContent = "";
      [["", "全部负责人"], ["me", "我负责的"], ["none", "未分配"]].forEach(function (o) { assignee.appendChild(el("option", { value: o[0], text: o[1] })); });
      consultants.forEach(function (c) { assignee.appendChild(el("option", { value: String(c.id), text: c.name })); });
      assignee.value = chosen;
    }
    assigneeOptions();
    var form = el("form", { className: "toolbar" }, [q, status, el("span", { text: "日期" }), from, el("span", { text: "至" }), to, assignee,
      el("button", { type: "submit", text: "查询" })]);
    form.onsubmit = function (e) { e.preventDefault(); state.offset = 0; load(); };
    status.onchange = assignee.onchange = function () { state.offset = 0; load(); };
    bar.appendChild(form);
    if (me.can_export) {
      bar.appendChild(button("导出CSV", function () {
        download("/api/staff/exports/" + kind + ".csv" + query(filters()), kind + ".csv");
      }));
    }
    function filters() { return { q: q.value.trim(), status: status.value, date_from: from.value, date_to: to.value, assignee: assignee.value }; }
    function load() {
      var params = filters(); params.limit = PAGE; params.offset = state.offset;
      var mine = state.seq = (state.seq || 0) + 1;
      return api("/api/" + kind + query(params)).then(function (d) {
        if (mine !== state.seq) return;  // a newer search was sent meanwhile
        state.total = d.total || 0;
        fill(kind, d.items || [], function (tr, r) {
          tr.className = "pick"; tr.setAttribute("data-key", enrollments ? r.number : r.id);
          tr.onclick = function () { openRecord(kind, enrollments ? r.number : r.id, load); };
          if (enrollments) {
            cell(tr, r.number); cell(tr, r.name); cell(tr, r.mobile);
            cell(tr, [r.package ? r.package.name : "", (r.subjects || []).map(function (s) { return s.name; }).join("、")].filter(Boolean).join(" / "));
            cell(tr, yuan(r.price));
          } else {
            cell(tr, r.id); cell(tr, r.name); cell(tr, r.mobile); cell(tr, r.preferred_time); cell(tr, r.question);
          }
          cell(tr, r.status_label); cell(tr, r.assignee ? r.assignee.name : "未分配"); cell(tr, when(r.created_at));
        }, "没有符合条件的记录");
        var pager = $(kind + "-pager"); pager.textContent = "";
        var first = state.total ? state.offset + 1 : 0, last = Math.min(state.offset + PAGE, state.total);
        var prev = button("上一页", function () { state.offset = Math.max(0, state.offset - PAGE); load(); });
        var next = button("下一页", function () { state.offset += PAGE; load(); });
        prev.disabled = state.offset === 0; next.disabled = last >= state.total;
        pager.appendChild(prev); pager.appendChild(el("span", { "data-role": "range", text: "第 " + first + "-" + last + " 条，共 " + state.total + " 条" }));
        pager.appendChild(next);
      });
    }
    loadConsultants().then(function () { assigneeOptions(); load(); });
  }
  openRecord.seq = 0;
  function openRecord(kind, key, reload) {
    var enrollments = kind === "enrollments";
    var path = "/api/" + kind + "/" + encodeURIComponent(key);
    var mine = ++openRecord.seq;  // only the latest request draws: an older answer may arrive last
    api(path).then(function (r) {
      if (mine !== openRecord.seq) return;
      var open = $("drawer"), draft = "", shown = null;
      if (!open.hidden && open.getAttribute("data-key") === String(key)) {
        // Re-drawn after a change: keep a note being typed, and the conversation already read.
        var typing = open.querySelector("textarea"); draft = typing ? typing.value : "";
        shown = open.querySelector("[data-role=transcript]");
      }
      var d = openDrawer(enrollments ? "报名 " + r.number : "回访线索 #" + r.id);
      d.setAttribute("data-key", key);
      var rows = enrollments ? [["姓名", r.name], ["手机", r.mobile], ["套餐", r.package ? r.package.name : ""],
        ["科目", (r.subjects || []).map(function (s) { return s.name; }).join("、")], ["报价", yuan(r.price)], ["状态", r.status_label],
        ["渠道", channel(r.channel)], ["报名时间", when(r.created_at)]]
        : [["姓名", r.name], ["手机", r.mobile], ["方便时间", r.preferred_time], ["客户的问题", r.question],
          ["意向套餐", r.package ? r.package.name : ""], ["状态", r.status_label], ["渠道", channel(r.channel)], ["提交时间", when(r.created_at)]];
      d.appendChild(facts(rows));
      function change(body, words) {
        return api(path, { method: "PATCH", body: body }).then(function () { toast(words, true); reload(); openRecord(kind, key, reload); });
      }
      var next = enrollments ? ENROLLMENT_NEXT[r.status] || [] : LEAD_STATUSES.filter(function (s) { return s !== r.status; });
      var statusRow = el("p", { "data-role": "status-actions" }, [el("span", { text: "改为：" })]);
      next.forEach(function (s) { statusRow.appendChild(button(STATUS[s], function () { change({ status: s }, "状态已改为“" + STATUS[s] + "”。"); })); });
      if (!next.length) statusRow.appendChild(el("span", { className: "meta", text: "已取消的报名不能再更改。" }));
      d.appendChild(statusRow);
      var who = el("select", { "aria-label": "负责人" }, [el("option", { value: "", text: "未分配" })]);
      consultants.forEach(function (c) { who.appendChild(el("option", { value: String(c.id), text: c.name })); });
      who.value = r.assignee ? String(r.assignee.id) : "";
      who.onchange = function () {
        change({ assignee_id: who.value ? Number(who.value) : null }, "负责人已改为“" + who.options[who.selectedIndex].text + "”。");
      };
      d.appendChild(el("p", {}, [el("span", { text: "负责人：" }), who]));
      d.appendChild(el("h4", { text: "备注" }));
      var area = el("textarea", { placeholder: "例如：电话沟通，客户周末付款", "aria-label": "添加备注" });
      area.value = draft; d.appendChild(area);
      d.appendChild(button("保存备注", function () {
        if (!area.value.trim()) return;
        api(path + "/notes", { method: "POST", body: { text: area.value } }).then(function () {
          area.value = ""; toast("备注已保存。", true); openRecord(kind, key, reload);
        });
      }));
      var notes = el("ul", { "data-role": "notes" });
      (r.notes || []).forEach(function (n) { notes.appendChild(el("li", { text: when(n.created_at) + " " + text(n.author) + "：" + text(n.text) })); });
      if (!(r.notes || []).length) notes.appendChild(el("li", { className: "meta", text: "还没有备注" }));
      d.appendChild(notes);
      d.appendChild(el("h4", { text: "会话记录" }));
      d.appendChild(shown || conversationBox(r.sender ? path + "/conversation" : null, r.sender));
    });
  }

  // -- admin ---------------------------------------------------------------------------------------
  function loadAccounts() {
    api("/api/staff/accounts").then(function (d) {
      fill("accounts", d.items || [], function (tr, a) {
        tr.setAttribute("data-username", a.username);
        cell(tr, a.username); cell(tr, a.display_name);
        var role = el("select", { "aria-label": "角色" });
        (d.roles || []).forEach(function (r) { role.appendChild(el("option", { value: r.id, text: r.label })); });
        role.value = a.role;
        role.onchange = function () { changeAccount(a, { role: role.value }, "角色已修改。"); };
        var td = el("td"); td.appendChild(role); tr.appendChild(td);
        cell(tr, (a.active ? "在用" : "已停用") + (a.must_change_password ? "（未改初始密码）" : ""));
        cell(tr, when(a.last_login_at));
        actions(tr, [button("重置密码", function () { changeAccount(a, { reset_password: true }, "密码已重置。"); }),
          button(a.active ? "停用" : "启用", function () { changeAccount(a, { active: !a.active }, a.active ? "已停用。" : "已启用。"); })]);
      });
    });
  }
  function showOneTime(account) {
    var box = $("account-result"); box.textContent = "";
    if (!account.one_time_password) return;
    box.appendChild(el("div", { className: "box", "data-role": "one-time" }, [
      "账号 " + account.username + "（" + account.display_name + "，" + account.role_label + "）的一次性密码：",
      el("span", { className: "otp", "data-role": "otp", text: account.one_time_password }),
      el("div", { className: "meta", text: "只显示这一次。请当面或通过可靠渠道交给本人，首次登录后需要修改。" })]));
  }
  function changeAccount(a, body, words) {
    api("/api/staff/accounts/" + a.id, { method: "PATCH", body: body }).then(function (out) { toast(words, true); showOneTime(out); loadAccounts(); },
      function () { loadAccounts(); });
  }
  $("account-form").onsubmit = function (e) {
    e.preventDefault();
    api("/api/staff/accounts", { method: "POST", body: { username: $("acc-username").value, display_name: $("acc-name").value, role: $("acc-role").value } })
      .then(function (out) { $("acc-username").value = ""; $("acc-name").value = ""; showOneTime(out); loadAccounts(); });
  };
  var auditState = { offset: 0 };
  function loadAudit() {
    var bar = $("audit-filters");
    if (!bar.firstChild) {
      var actor = el("input", { type: "search", placeholder: "操作人用户名", "aria-label": "操作人", id: "audit-actor" });
      var action = el("select", { "aria-label": "操作", id: "audit-action" }, [el("option", { value: "", text: "全部操作" })]);
      var form = el("form", { className: "toolbar" }, [actor, action, el("button", { type: "submit", text: "查询" })]);
      form.onsubmit = function (e) { e.preventDefault(); auditState.offset = 0; loadAudit(); };
      action.onchange = function () { auditState.offset = 0; loadAudit(); };
      bar.appendChild(form);
    }
    var params = { actor: $("audit-actor").value.trim(), action: $("audit-action").value, limit: PAGE, offset: auditState.offset };
    api("/api/staff/audit" + query(params)).then(function (d) {
      var select = $("audit-action");
      if (select.options.length === 1) (d.actions || []).forEach(function (a) { select.appendChild(el("option", { value: a.id, text: a.label })); });
      fill("audit", d.items || [], function (tr, e) {
        cell(tr, when(e.at)); cell(tr, e.actor); cell(tr, e.action_label);
        cell(tr, [e.target_label, e.target_id].filter(Boolean).join(" ")); cell(tr, e.detail); cell(tr, e.ip);
      });
      var pager = $("audit-pager"); pager.textContent = "";
      var total = d.total || 0, last = Math.min(auditState.offset + PAGE, total);
      var prev = button("上一页", function () { auditState.offset = Math.max(0, auditState.offset - PAGE); loadAudit(); });
      var next = button("下一页", function () { auditState.offset += PAGE; loadAudit(); });
      prev.disabled = auditState.offset === 0; next.disabled = last >= total;
      pager.appendChild(prev); pager.appendChild(el("span", { text: "第 " + (total ? auditState.offset + 1 : 0) + "-" + last + " 条，共 " + total + " 条" }));
      pager.appendChild(next);
    });
  }
  function loadSettings() {
    api("/api/staff/settings").then(function (d) {
      fill("settings", d.items || [], function (tr, s) { cell(tr, s.label); cell(tr, s.name); cell(tr, s.value); });
      $("settings-note").textContent = text(d.note);
    });
  }

  // -- sections, login, password -------------------------------------------------------------------
  var loaders = { search: function () { $("q").focus(); }, unanswered: loadUnanswered, feedback: loadFeedback, handoffs: loadHandoffs,
    enrollments: function () { pipeline("enrollments"); }, leads: function () { pipeline("leads"); },
    accounts: loadAccounts, audit: loadAudit, settings: loadSettings };
  function showSection(name) {
    Array.prototype.forEach.call(document.querySelectorAll("#nav button"), function (b) { b.classList.toggle("active", b.dataset.section === name); });
    Array.prototype.forEach.call(document.querySelectorAll("section.view"), function (s) { s.classList.toggle("active", s.id === "view-" + name); });
    closeDrawer();
    if (name !== "search") loaders[name]();
  }
  function enter(who) {
    me = who;
    if (me.must_change_password) { showPassword(true); return; }
    $("login").hidden = true; $("password-card").hidden = true; $("app").hidden = false;
    $("who").textContent = me.display_name + "（" + me.role_label + "）";
    var nav = $("nav"); nav.textContent = "";
    me.sections.forEach(function (s) {
      var b = button(SECTION_LABELS[s] || s, function () { showSection(s); }); b.dataset.section = s; nav.appendChild(b);
    });
    var first = me.sections[0];
    if (first) { showSection(first); if (first === "search") loaders.search(); }
  }
  function showLogin(message) {
    me = null; closeDrawer();
    $("app").hidden = true; $("password-card").hidden = true; $("login").hidden = false;
    $("login-err").textContent = message || ""; $("password").value = "";
  }
  function showPassword(required) {
    $("app").hidden = true; $("login").hidden = true; $("password-card").hidden = false;
    $("password-why").textContent = required ? "这是管理员给您的一次性密码：请先设置您自己的密码（至少10个字符）。" : "";
    $("pw-cancel").hidden = required; $("pw-err").textContent = "";
  }
  $("login-form").onsubmit = function (e) {
    e.preventDefault();
    $("login-err").textContent = "";
    api("/api/staff/login", { method: "POST", body: { username: $("username").value, password: $("password").value }, quiet: true })
      .then(function (who) {
        $("password").value = "";
        if (who.must_change_password) { me = who; showPassword(true); $("pw-current").focus(); } else enter(who);
      }, function (err) { $("login-err").textContent = err.message; });
  };
  $("password-form").onsubmit = function (e) {
    e.preventDefault();
    if ($("pw-new").value !== $("pw-repeat").value) { $("pw-err").textContent = "两次输入的新密码不一致。"; return; }
    api("/api/staff/password", { method: "POST", body: { current: $("pw-current").value, new: $("pw-new").value }, quiet: true })
      .then(function (who) {
        ["pw-current", "pw-new", "pw-repeat"].forEach(function (id) { $(id).value = ""; });
        toast("密码已修改。", true); enter(who);
      }, function (err) { $("pw-err").textContent = err.message; });
  };
  $("pw-cancel").onclick = function () { if (me) enter(me); };
  $("change-pw").onclick = function () { showPassword(false); };
  $("logout").onclick = function () {
    api("/api/staff/logout", { method: "POST", body: {}, quiet: true }).then(function () { showLogin("已退出。"); }, function () { showLogin(""); });
  };
  api("/api/staff/me", { quiet: true }).then(enter, function (err) {
    showLogin(err.status === 503 ? err.message : "");
  });
})();
