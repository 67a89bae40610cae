/* Staff console: token login, knowledge lookup, and the lists the bot collects. Text only: every
 * value is inserted with textContent, never as HTML. */
(function () {
  "use strict";
  var token = sessionStorage.getItem("jzs-staff-token") || "";
  var $ = function (id) { return document.getElementById(id); };

  function api(path) {
    return fetch(path, { headers: { Authorization: "Bearer " + token } }).then(function (r) {
      if (r.status === 401 || r.status === 403) { logout("令牌无效或已过期，请重新登录。"); throw new Error("auth"); }
      // 429: too many failed logins from here; 503 on /api/staff/me: the server has no STAFF_TOKEN.
      if (r.status === 429 || (r.status === 503 && path === "/api/staff/me")) {
        return r.json().catch(function () { return {}; }).then(function (d) {
          logout(d.detail || "暂时无法登录，请稍后再试。"); throw new Error("auth");
        });
      }
      return r.json();
    });
  }
  function cell(tr, text) { var td = document.createElement("td"); td.textContent = text == null ? "" : String(text); tr.appendChild(td); return td; }
  function convLink(tr, sender) {
    var td = cell(tr, ""); if (!sender) return;
    var a = document.createElement("a"); a.className = "conv"; a.textContent = "查看会话";
    a.onclick = function () { showTranscript(sender); }; td.appendChild(a);
  }
  function fill(id, rows, render) {
    var body = $(id); body.textContent = "";
    if (!rows.length) { var tr = document.createElement("tr"); cell(tr, "暂无数据"); body.appendChild(tr); return; }
    rows.forEach(function (row) { var tr = document.createElement("tr"); render(tr, row); body.appendChild(tr); });
  }
  function when(t) { return t ? t.replace("T", " ").slice(0, 16) : ""; }

  function showTranscript(sender) {
    api("/api/staff/conversations/" + encodeURIComponent(sender)).then(function (data) {
      var box = $("transcript"); box.hidden = false;
      box.textContent = "会话 " + sender + "\n\n" + (data.turns || []).map(function (t) {
        return (t.who === "user" ? "用户：" : "助手：") + t.text;
      }).join("\n") || "（没有找到这个会话的记录）";
      box.scrollIntoView();
    });
  }

  var loaders = {
    search: function () {},
    unanswered: function () {
      api("/api/staff/unanswered").then(function (d) {
        fill("unanswered", d.groups, function (tr, g) { cell(tr, g.questions.join(" / ")); cell(tr, g.count); cell(tr, when(g.last_seen)); convLink(tr, g.sender); });
      });
    },
    feedback: function () {
      api("/api/staff/feedback").then(function (d) {
        fill("feedback", d.items, function (tr, f) { cell(tr, f.rating > 0 ? "👍" : "👎"); cell(tr, f.question); cell(tr, f.answer); cell(tr, when(f.created_at)); convLink(tr, f.sender); });
      });
    },
    handoffs: function () {
      api("/api/staff/handoffs").then(function (d) {
        fill("handoffs", d.items, function (tr, h) { cell(tr, h.sender); cell(tr, h.channel); cell(tr, h.reason); cell(tr, when(h.created_at)); convLink(tr, h.sender); });
      });
    },
    enrollments: function () {
      api("/api/enrollments?limit=200").then(function (d) {
        fill("enrollments", d.items, function (tr, e) {
          cell(tr, e.number); cell(tr, e.name); cell(tr, e.mobile);
          cell(tr, (e.package ? e.package.name : "") + " " + (e.subjects || []).map(function (s) { return s.name; }).join("、"));
          cell(tr, "¥" + e.price); cell(tr, e.status_label || e.status); convLink(tr, e.sender);
        });
      });
    },
    leads: function () {
      api("/api/leads?limit=200").then(function (d) {
        fill("leads", d.items, function (tr, l) { cell(tr, l.name); cell(tr, l.mobile); cell(tr, l.preferred_time); cell(tr, l.question); cell(tr, when(l.created_at)); convLink(tr, l.sender); });
      });
    }
  };

  $("search-form").onsubmit = function (e) {
    e.preventDefault();
    var q = $("q").value.trim(); if (!q) return;
    fetch("/api/knowledge/search?k=5&q=" + encodeURIComponent(q)).then(function (r) { return r.json(); }).then(function (d) {
      var box = $("hits"); box.textContent = "";
      var decision = document.createElement("p"); decision.className = "meta";
      decision.textContent = "判断：" + ({ answer: "可直接回答", suggest: "可能是以下问题", decline: "资料中没有答案" }[d.decision] || d.decision || "");
      box.appendChild(decision);
      (d.hits || []).forEach(function (h) {
        var div = document.createElement("div"); div.className = "hit";
        var meta = document.createElement("div"); meta.className = "meta";
        meta.textContent = "得分 " + Number(h.score).toFixed(3) + " · 来源：" + (h.source_title || h.source || "");
        var text = document.createElement("div"); text.textContent = h.answer || h.text || "";
        var copy = document.createElement("button"); copy.textContent = "复制答案";
        copy.onclick = function () {
          var value = text.textContent + (h.source_title ? "\n来源：" + h.source_title : "");
          (navigator.clipboard ? navigator.clipboard.writeText(value) : Promise.reject()).then(function () { copy.textContent = "已复制"; },
            function () { copy.textContent = "请手动复制"; });
        };
        div.appendChild(meta); div.appendChild(text); div.appendChild(copy); box.appendChild(div);
      });
    });
  };

  $("export").onclick = function (e) {
    e.preventDefault();
    fetch("/api/staff/unanswered/export", { headers: { Authorization: "Bearer " + token } })
      .then(function (r) { return r.text(); }).then(function (text) {
        var a = document.createElement("a");
        a.href = URL.createObjectURL(new Blob([text], { type: "text/yaml" })); a.download = "candidate_variants.yml"; a.click();
      });
  };

  Array.prototype.forEach.call(document.querySelectorAll("nav button"), function (b) {
    b.onclick = function () {
      document.querySelectorAll("nav button").forEach(function (x) { x.classList.toggle("active", x === b); });
      document.querySelectorAll("section").forEach(function (s) { s.classList.toggle("active", s.id === "tab-" + b.dataset.tab); });
      $("transcript").hidden = true;
      loaders[b.dataset.tab]();
    };
  });

  function enter() {
    api("/api/staff/me").then(function () {
      $("login").hidden = true; $("app").hidden = false;
    }).catch(function () {});
  }
  function logout(message) {
    token = ""; sessionStorage.removeItem("jzs-staff-token");
    $("app").hidden = true; $("login").hidden = false; $("login-err").textContent = message || "";
  }
  $("login-btn").onclick = function () {
    token = $("token").value.trim(); sessionStorage.setItem("jzs-staff-token", token); $("login-err").textContent = ""; enter();
  };
  $("token").addEventListener("keydown", function (e) { if (e.key === "Enter") $("login-btn").click(); });
  $("logout").onclick = function () { logout(""); };
  if (token) enter();
})();
