/* Notices (通知): the compose form (live unit/people search, position
 * suggestions, the summary's character count, the "reaches N people in M units"
 * preview, the urgent and after-hours fields) and the coverage page's live
 * update.
 *
 * Progressive enhancement only: without this script the compose form searches
 * and previews through its own buttons, and coverage is a plain page.
 * Text is only ever set with textContent. Coverage never sorts anything: rows
 * keep the tree order the server rendered.
 */
(function () {
  "use strict";

  var CSRF = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function request(method, url, body) {
    var init = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (method !== "GET") { init.headers["X-CSRFToken"] = CSRF; }
    return fetch(url, init).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var problem = new Error((data.error && data.error.message) || String(response.status));
          problem.status = response.status;
          throw problem;
        }
        return data;
      });
    });
  }

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  function checked(form, name) {
    return Array.prototype.map.call(form.querySelectorAll('input[name="' + name + '"]:checked'),
                                    function (box) { return +box.value; });
  }

  // ---- Compose -------------------------------------------------------------------

  function setupCounter(area) {
    var max = +area.getAttribute("data-count-max");
    var out = area.closest(".field").querySelector("[data-count]");
    function update() {
      var n = Array.from(area.value.replace(/[\r\n]+/g, " ")).length;
      out.textContent = n + " / " + max + " 字";
      out.classList.toggle("over", n > max);
    }
    area.addEventListener("input", update);
    update();
  }

  function choiceItem(kind, item) {
    var li = el("li", { "data-choice": item.id });
    var main = el("span", { "class": "check" });
    var prefix = kind === "units" ? "nu-" : "np-";
    main.appendChild(el("input", { type: "checkbox", id: prefix + item.id, value: item.id,
                                   name: kind === "units" ? "unit_ids" : "user_ids" }));
    var label = el("label", { "for": prefix + item.id }, item.name);
    var extra = kind === "units" ? item.trail : item.where;
    if (extra) {
      label.appendChild(document.createTextNode(" "));
      label.appendChild(el("span", { "class": "muted" }, extra));
    }
    main.appendChild(label);
    li.appendChild(main);
    if (kind === "units") {
      var sub = el("span", { "class": "check sub" });
      sub.appendChild(el("input", { type: "checkbox", id: "ns-" + item.id, name: "subtree_ids", value: item.id }));
      var subLabel = el("label", { "for": "ns-" + item.id });
      subLabel.appendChild(el("span", { "class": "sr-only" }, item.name));
      subLabel.appendChild(document.createTextNode("含下级单位"));
      sub.appendChild(subLabel);
      li.appendChild(sub);
    }
    return li;
  }

  function fillChoices(list, kind, items) {
    // Ticked choices stay; the rest give way to the new results.
    Array.prototype.slice.call(list.querySelectorAll("li[data-choice]")).forEach(function (li) {
      if (!li.querySelector("input:checked")) { li.remove(); }
    });
    items.forEach(function (item) {
      if (!list.querySelector('li[data-choice="' + item.id + '"]')) { list.appendChild(choiceItem(kind, item)); }
    });
    var empty = list.querySelector("[data-empty]");
    if (empty) { empty.hidden = !!list.querySelector("li[data-choice]"); }
  }

  function setupCompose(form) {
    var unitsUrl = form.getAttribute("data-units-url");
    var peopleUrl = form.getAttribute("data-people-url");
    var positionsUrl = form.getAttribute("data-positions-url");
    var previewUrl = form.getAttribute("data-preview-url");
    var reachLine = form.querySelector("[data-reach]");
    var rowsBox = form.querySelector("[data-position-rows]");
    var addPosition = form.querySelector("[data-add-position]");
    var reachHint = reachLine.textContent;

    form.querySelectorAll("textarea[data-count-max]").forEach(setupCounter);

    // Enter in a one-line field must not publish (or run a search by surprise).
    form.addEventListener("keydown", function (event) {
      var target = event.target;
      if (event.key !== "Enter" || target.tagName !== "INPUT" || target.type === "checkbox") { return; }
      event.preventDefault();
      if (target.type === "search") { target.dispatchEvent(new Event("search-now")); }
    });

    // Units ticked with "含下级单位" are the unit too; unticking the unit unticks both.
    form.addEventListener("change", function (event) {
      var box = event.target, li = box.closest && box.closest("#notice-units li[data-choice]");
      if (!li) { return; }
      var unit = li.querySelector('input[name="unit_ids"]'), sub = li.querySelector('input[name="subtree_ids"]');
      if (box === sub && sub.checked) { unit.checked = true; }
      if (box === unit && !unit.checked) { sub.checked = false; }
    });

    // ---- The pickers: live search, results added below, ticked ones kept.
    function addPositionUnits(items) {
      form.querySelectorAll("select[data-position-unit]").forEach(function (select) {
        items.forEach(function (u) {
          if (!select.querySelector('option[value="' + u.id + '"]')) {
            select.appendChild(el("option", { value: u.id }, u.name + (u.trail ? "（" + u.trail + "）" : "")));
          }
        });
      });
    }

    form.querySelectorAll("[data-picker]").forEach(function (box) {
      var kind = box.getAttribute("data-picker");
      var input = box.querySelector("input[type=search]");
      var button = box.querySelector("button[name=find]");
      var status = box.querySelector("[data-picker-status]");
      var list = document.getElementById(box.getAttribute("data-target"));
      var url = kind === "units" ? unitsUrl : peopleUrl, asked = "";

      function search() {
        var term = input.value.trim();
        if (term === asked) { return; }
        asked = term;
        if (!term) { status.textContent = ""; return; }
        status.textContent = "正在查找…";
        request("GET", url + "?q=" + encodeURIComponent(term)).then(function (page) {
          if (asked !== term) { return; }
          fillChoices(list, kind, page.items);
          if (kind === "units") { addPositionUnits(page.items); }
          status.textContent = page.items.length
            ? "找到 " + page.items.length + (kind === "units" ? " 个单位" : " 人") + "，勾选后加入发送范围。"
            : "在您可以发送的范围内没有找到匹配的" + (kind === "units" ? "单位" : "人员") + "。";
        }).catch(function () {
          asked = "";
          status.textContent = "查找失败，请重试。";
        });
      }

      input.addEventListener("input", debounce(search, 300));
      input.addEventListener("search-now", function () { asked = ""; search(); });
      button.addEventListener("click", function (event) {
        event.preventDefault();
        asked = "";
        search();
      });
    });

    // ---- Positions: suggestions follow the chosen unit; more rows on request.
    function suggest(row) {
      var select = row.querySelector("select[data-position-unit]");
      var list = row.querySelector("datalist");
      request("GET", positionsUrl + "?unit_id=" + encodeURIComponent(select.value)).then(function (page) {
        list.textContent = "";
        page.items.forEach(function (name) { list.appendChild(el("option", { value: name })); });
      }).catch(function () { /* keep the old suggestions */ });
    }

    rowsBox.addEventListener("change", function (event) {
      if (event.target.matches("select[data-position-unit]")) { suggest(event.target.closest("[data-position-row]")); }
    });

    var rowCount = rowsBox.querySelectorAll("[data-position-row]").length;
    addPosition.hidden = false;
    addPosition.addEventListener("click", function () {
      var rows = rowsBox.querySelectorAll("[data-position-row]");
      var copy = rows[rows.length - 1].cloneNode(true);
      rowCount += 1;
      var n = "x" + rowCount;
      copy.querySelector("select").id = "pu-" + n;
      copy.querySelector("select").previousElementSibling.setAttribute("for", "pu-" + n);
      var text = copy.querySelector("input[name=position]");
      text.id = "pn-" + n;
      text.value = "";
      text.setAttribute("list", "pl-" + n);
      text.previousElementSibling.setAttribute("for", "pn-" + n);
      copy.querySelector("datalist").id = "pl-" + n;
      rowsBox.appendChild(copy);
      text.focus();
    });

    // ---- "将送达 N 人，涉及 M 个单位", live.
    function audience() {
      var subtrees = checked(form, "subtree_ids");
      var positions = [];
      rowsBox.querySelectorAll("[data-position-row]").forEach(function (row) {
        var name = row.querySelector("input[name=position]").value.trim();
        var unit = +row.querySelector("select[data-position-unit]").value;
        if (name && unit) { positions.push({ unit_id: unit, position: name }); }
      });
      return { subtrees: subtrees,
               units: checked(form, "unit_ids").filter(function (id) { return subtrees.indexOf(id) === -1; }),
               users: checked(form, "user_ids"), positions: positions };
    }

    var previewButton = form.querySelector("[data-preview-button]");
    if (previewButton) { previewButton.hidden = true; }
    var asked = "";
    var preview = debounce(function () {
      var chosen = audience();
      var key = JSON.stringify(chosen);
      if (key === asked) { return; }
      asked = key;
      if (!chosen.subtrees.length && !chosen.units.length && !chosen.users.length && !chosen.positions.length) {
        reachLine.textContent = reachHint;
        return;
      }
      reachLine.textContent = "正在计算…";
      request("POST", previewUrl, { audience: chosen }).then(function (data) {
        if (asked !== key) { return; }
        reachLine.textContent = "";
        reachLine.appendChild(document.createTextNode("将送达 "));
        reachLine.appendChild(el("strong", {}, String(data.people)));
        reachLine.appendChild(document.createTextNode(" 人，涉及 "));
        reachLine.appendChild(el("strong", {}, String(data.units)));
        reachLine.appendChild(document.createTextNode(" 个单位"));
      }).catch(function (problem) {
        asked = "";
        reachLine.textContent = problem.status ? problem.message : "暂时无法计算送达人数。";
      });
    }, 400);
    form.querySelector("#audience").addEventListener("change", preview);
    rowsBox.addEventListener("input", preview);

    // ---- Urgent and the after-hours default.
    var urgent = form.querySelector("[data-urgent]");
    var reasonBox = form.querySelector("[data-urgent-reason]");
    var publishAt = form.querySelector("input[name=publish_at]");
    var auto = form.querySelector("input[name=auto_publish_at]").value;
    var afterHours = form.querySelector("[data-after-hours]");
    var afterText = afterHours ? afterHours.textContent : "";

    function explain() {
      if (!afterHours) { return; }
      if (urgent && urgent.checked && !publishAt.value) {
        afterHours.textContent = "紧急通知将在点“发布”后立即发出，非工作时间也会提醒收件人。";
      } else if (publishAt.value === auto) {
        afterHours.textContent = afterText;
      } else if (!publishAt.value) {
        afterHours.textContent = "发布时间已清空：点“发布”后立即发出，收件人在非工作时间不会收到提醒。";
      } else {
        afterHours.textContent = "将在所选的时间发出。";
      }
    }

    if (urgent) {
      var reason = reasonBox.querySelector("input");
      var toggle = function () {
        reasonBox.hidden = !urgent.checked;
        reason.required = urgent.checked;
      };
      urgent.addEventListener("change", function () {
        toggle();
        if (urgent.checked && auto && publishAt.value === auto) { publishAt.value = ""; }
        if (!urgent.checked && auto && !publishAt.value) { publishAt.value = auto; }
        if (urgent.checked) { reason.focus(); }
        explain();
      });
      toggle();
    }
    publishAt.addEventListener("input", explain);
    publishAt.addEventListener("change", explain);
  }

  // ---- Coverage: live counts, at most one fetch every 2 seconds ---------------------

  function setupCoverage(page) {
    var noticeId = +page.getAttribute("data-notice-id");
    var url = page.getAttribute("data-receipts-url");
    var after = page.getAttribute("data-after"), unitId = page.getAttribute("data-unit-id");
    var list = page.querySelector("[data-unread-list]");
    var empty = page.querySelector("[data-unread-empty]");
    var next = page.querySelector("a[data-next]");
    var stale = page.querySelector("[data-stale]");
    var unitNames = {};
    page.querySelectorAll("#unread-unit option[value]").forEach(function (option) {
      if (option.value) { unitNames[option.value] = option.textContent.trim(); }
    });
    var query = "?limit=" + page.getAttribute("data-page-size") + (after ? "&after=" + after : "") +
                (unitId ? "&unit_id=" + unitId : "");

    function setLine(line, read, acked, audience) {
      var values = { read: read, acked: acked, audience: audience };
      line.querySelectorAll("[data-num]").forEach(function (n) { n.textContent = values[n.getAttribute("data-num")]; });
      line.querySelectorAll("progress[data-bar]").forEach(function (bar) {
        bar.max = Math.max(audience, 1);
        bar.value = values[bar.getAttribute("data-bar")];
        bar.textContent = bar.value + "/" + audience;
      });
    }

    function apply(data) {
      ["audience", "read", "acked"].forEach(function (key) {
        var out = page.querySelector('[data-count="' + key + '"]');
        if (out) { out.textContent = data[key + "_count"]; }
      });
      var rows = {};
      data.by_unit.forEach(function (row) { rows[row.unit_id] = row; });
      var known = {};
      page.querySelectorAll("[data-own]").forEach(function (line) {
        var id = line.getAttribute("data-unit-id"), row = rows[id] || { audience: 0, read: 0, acked: 0 };
        known[id] = true;
        line.setAttribute("data-audience", row.audience);
        line.setAttribute("data-read", row.read);
        line.setAttribute("data-acked", row.acked);
        if (!line.hasAttribute("data-total")) { setLine(line, row.read, row.acked, row.audience); }
      });
      // Each unit's line shows its whole subtree: the sum of the own rows inside it.
      page.querySelectorAll("li.cover-node[data-node]").forEach(function (node) {
        var sum = { audience: 0, read: 0, acked: 0 };
        node.querySelectorAll("[data-own]").forEach(function (line) {
          sum.audience += +line.getAttribute("data-audience");
          sum.read += +line.getAttribute("data-read");
          sum.acked += +line.getAttribute("data-acked");
        });
        var total = node.querySelector("[data-total]");
        if (total) { setLine(total, sum.read, sum.acked, sum.audience); }
      });
      stale.hidden = data.by_unit.every(function (row) { return known[row.unit_id]; });
      list.textContent = "";
      data.unread.forEach(function (person) {
        var li = el("li", { "data-user-id": person.user_id }, person.name + " ");
        li.appendChild(el("span", { "class": "muted" }, unitNames[person.unit_id] || ""));
        list.appendChild(li);
      });
      empty.hidden = data.unread.length > 0;
      if (next) {
        next.hidden = !data.next;
        if (data.next) { next.href = "?" + (unitId ? "unit_id=" + unitId + "&" : "") + "after=" + data.next + "#unread"; }
      }
    }

    var last = 0, timer = null;
    function refresh() {
      if (timer) { return; }
      timer = setTimeout(function () {
        timer = null;
        last = Date.now();
        request("GET", url + query).then(apply).catch(function () { /* the next event tries again */ });
      }, Math.max(0, last + 2000 - Date.now()));
    }

    if (typeof window.io !== "function") { return; }
    var socket = window.io();
    socket.on("receipt", function (data) { if (data && +data.notice_id === noticeId) { refresh(); } });
    socket.on("connect", function () { if (last) { refresh(); } else { last = Date.now(); } });
  }

  document.querySelectorAll("form[data-compose]").forEach(setupCompose);
  document.querySelectorAll("[data-coverage]").forEach(setupCoverage);
})();
