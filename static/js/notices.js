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

  var el = Hub.el, request = Hub.request, debounce = Hub.debounce, t = Hub.t;

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
      out.textContent = t("%(n)s / %(max)s 字", { n: n, max: max });
      out.classList.toggle("over", n > max);
    }
    area.addEventListener("input", update);
    update();
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

    Hub.linkSubtreeTicks(form, "#notice-units li[data-choice]");

    // ---- The pickers: live search, results added below, ticked ones kept.
    function addPositionUnits(items) {
      form.querySelectorAll("select[data-position-unit]").forEach(function (select) {
        items.forEach(function (u) {
          if (!select.querySelector('option[value="' + u.id + '"]')) {
            select.appendChild(el("option", { value: u.id }, u.trail ? t("%(name)s（%(trail)s）", { name: u.name, trail: u.trail }) : u.name));
          }
        });
      });
    }

    form.querySelectorAll("[data-picker]").forEach(function (box) {
      var kind = box.getAttribute("data-picker");
      var input = box.querySelector("input[type=search]");
      var list = document.getElementById(box.getAttribute("data-target"));
      var url = kind === "units" ? unitsUrl : peopleUrl;

      var search = Hub.liveSearch(input, box.querySelector("[data-picker-status]"), {
        find: function (term) {
          return request("GET", url + "?q=" + encodeURIComponent(term)).then(function (page) { return page.items; });
        },
        found: function (items) {
          Hub.replaceChoices(list, items, function (item) {
            return Hub.audienceChoice("n", kind, item, kind === "units" ? item.trail : item.where);
          });
          if (kind === "units") { addPositionUnits(items); }
          if (kind === "units") {
            return items.length ? t("找到 %(n)s 个单位，勾选后加入发送范围。", { n: items.length })
                                : t("在您可以发送的范围内没有找到匹配的单位。");
          }
          return items.length ? t("找到 %(n)s 人，勾选后加入发送范围。", { n: items.length })
                              : t("在您可以发送的范围内没有找到匹配的人员。");
        }
      });
      input.addEventListener("search-now", function () { search(true); });
      box.querySelector("button[name=find]").addEventListener("click", function (event) {
        event.preventDefault();
        search(true);
      });
    });

    // ---- Positions: suggestions follow the chosen unit; more rows on request.
    function suggest(row) {
      var select = row.querySelector("select[data-position-unit]");
      var list = row.querySelector("datalist");
      request("GET", positionsUrl + "?unit_id=" + encodeURIComponent(select.value)).then(function (page) {
        list.textContent = "";
        page.items.forEach(function (name, i) {
          list.appendChild(el("option", { value: name, label: t("%(position)s（%(count)s 人）", { position: name, count: page.people[i] }) }));
        });
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
      reachLine.textContent = t("正在计算…");
      request("POST", previewUrl, { audience: chosen }).then(function (data) {
        if (asked !== key) { return; }
        reachLine.textContent = "";
        // The numbers in bold, wherever the language puts them in the sentence.
        t("将送达 %(people)s 人，涉及 %(units)s 个单位").split(/(%\(\w+\)s)/).forEach(function (part) {
          var name = /^%\((\w+)\)s$/.exec(part);
          reachLine.appendChild(name ? el("strong", {}, String(data[name[1]])) : document.createTextNode(part));
        });
      }).catch(function (problem) {
        asked = "";
        reachLine.textContent = problem.status ? problem.message : t("暂时无法计算送达人数。");
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
        afterHours.textContent = t("紧急通知将在点“发布”后立即发出，非工作时间也会提醒收件人。");
      } else if (publishAt.value === auto) {
        afterHours.textContent = afterText;
      } else if (!publishAt.value) {
        afterHours.textContent = t("发布时间已清空：点“发布”后立即发出，收件人在非工作时间不会收到提醒。");
      } else {
        afterHours.textContent = t("将在所选的时间发出。");
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

  // ---- Coverage: units expanded on demand, live counts (one fetch every 2 s at most) -----

  // A unit's <details data-load> fetches its lines when first opened; "显示更多单位"
  // fetches the next page of lines in place. Without this script both are links.
  function setupCoverTree(tree) {
    function load(url, replaced) {
      replaced.setAttribute("aria-busy", "true");
      return Hub.getFragment(url).then(function (lines) {
        replaced.replaceWith(lines);
      }).catch(function () {
        replaced.removeAttribute("aria-busy");
        replaced.appendChild(el("span", { "class": "error", role: "alert" }, " " + Hub.t("加载失败，请重试。")));
      });
    }

    tree.addEventListener("toggle", function (event) {
      var details = event.target;
      if (!details.open || !details.hasAttribute("data-load")) { return; }
      var placeholder = details.querySelector(":scope > ul > li.cover-more");
      if (!placeholder || placeholder.hasAttribute("aria-busy")) { return; }
      var error = placeholder.querySelector(".error");
      if (error) { error.remove(); }
      load(details.getAttribute("data-load"), placeholder).then(function () {
        if (!placeholder.isConnected) { details.removeAttribute("data-load"); }
      });
    }, true);                          // "toggle" does not bubble

    tree.addEventListener("click", function (event) {
      var more = event.target.closest("a[data-more]");
      if (!more || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) { return; }
      event.preventDefault();
      var item = more.closest("li");
      if (!item.hasAttribute("aria-busy")) { load(more.href, item); }
    });
  }


  function setupCoverage(page) {
    var noticeId = +page.getAttribute("data-notice-id");
    var url = page.getAttribute("data-receipts-url");
    var after = page.getAttribute("data-after"), unitId = page.getAttribute("data-unit-id");
    var list = page.querySelector("[data-unread-list]");
    var empty = page.querySelector("[data-unread-empty]");
    var next = page.querySelector("a[data-next]");
    var stale = page.querySelector("[data-stale]");
    var unitsKey = page.getAttribute("data-units");
    var unitNames = {};
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
      var rows = {}, shown = {}, idSum = 0;
      data.by_unit.forEach(function (row) {
        rows[row.unit_id] = row;
        unitNames[row.unit_id] = row.name;
        idSum += row.unit_id;
      });
      page.querySelectorAll("[data-own]").forEach(function (line) {
        var row = rows[line.getAttribute("data-unit-id")] || { audience: 0, read: 0, acked: 0 };
        if (!line.hasAttribute("data-total")) { setLine(line, row.read, row.acked, row.audience); }
      });
      // Each unit's line shows its whole subtree: the rows whose path runs through
      // it, most of which are not on the page (they are loaded on demand).
      page.querySelectorAll("li.cover-node[data-node]").forEach(function (node) {
        shown[node.getAttribute("data-node")] = { node: node, audience: 0, read: 0, acked: 0 };
      });
      data.by_unit.forEach(function (row) {
        String(row.path).split("/").forEach(function (id) {
          var sum = id && shown[id];
          if (sum) { sum.audience += row.audience; sum.read += row.read; sum.acked += row.acked; }
        });
      });
      Object.keys(shown).forEach(function (id) {
        var sum = shown[id], total = sum.node.querySelector("[data-total]");
        if (total) { setLine(total, sum.read, sum.acked, sum.audience); }
      });
      stale.hidden = data.by_unit.length + ":" + idSum === unitsKey;
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

    var refresh = Hub.throttle(function () {
      request("GET", url + query).then(apply).catch(function () { /* the next event tries again */ });
    }, 2000);

    var socket = Hub.connect();
    if (!socket) { return; }
    socket.on("receipt", function (data) { if (data && +data.notice_id === noticeId) { refresh(); } });
    Hub.onReconnect(socket, refresh);
  }

  document.querySelectorAll("form[data-compose]").forEach(setupCompose);
  document.querySelectorAll("[data-coverage]").forEach(setupCoverage);
  document.querySelectorAll("[data-cover-tree]").forEach(setupCoverTree);
})();
