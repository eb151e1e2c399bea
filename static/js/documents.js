/* Documents (公文): the draft form's live unit search and tree browsing, the
 * people search of the 承办 / 传阅 forms, the status board's live update, and
 * the 办文单's print button.
 *
 * The documents page shows a quiet note when a step concerns the person.
 *
 * Progressive enhancement only: without this script the draft form searches
 * and browses through its own buttons, the people search is a GET form, and
 * the board is a plain table. Text is only ever set with textContent. The board
 * never sorts anything: rows keep the tree order the server rendered.
 */
(function () {
  "use strict";

  var el = Hub.el, getJSON = Hub.getJSON, replaceChoices = Hub.replaceChoices, t = Hub.t;

  function check(id, name, value, label, hidden) {
    var box = el("span", { "class": "check" });
    box.appendChild(el("input", { type: "checkbox", id: id, name: name, value: value }));
    var text = el("label", { "for": id });
    text.appendChild(el("span", { "class": "sr-only" }, hidden));
    text.appendChild(document.createTextNode(label));
    box.appendChild(text);
    return box;
  }

  // ---- The draft form: units from the whole tree ------------------------------------

  function unitRow(unit) {
    var li = el("li", { "data-choice": unit.id });
    var name = el("span", { "class": "unit-choice-name" }, unit.name);
    if (unit.trail) {
      name.appendChild(document.createTextNode(" "));
      name.appendChild(el("span", { "class": "muted" }, unit.trail));
    }
    li.appendChild(name);
    li.appendChild(check("dm-" + unit.id, "main_ids", unit.id, t("主送"), unit.name));
    li.appendChild(check("dc-" + unit.id, "copy_ids", unit.id, t("抄送"), unit.name));
    li.appendChild(check("dj-" + unit.id, "joint_ids", unit.id, t("联合发文"), unit.name));
    if (unit.children) {
      li.appendChild(el("button", { type: "submit", name: "browse", value: unit.id, "class": "link",
                                    "data-browse": unit.id }, t("下级单位（%(n)s）", { n: unit.children })));
    }
    return li;
  }

  function setupDraft(form) {
    var url = form.getAttribute("data-units-url");
    var input = form.querySelector("#unit-q");
    var list = form.querySelector("#doc-units");
    var status = form.querySelector("[data-unit-picker] [data-picker-status]");
    var picker = form.querySelector("[data-unit-picker]");

    var actions = picker.querySelector(".picker-actions");

    function upButton(parentId) {
      var up = actions.querySelector("button[data-browse]");
      if (!parentId) { if (up) { up.hidden = true; } return; }
      if (!up) {
        up = el("button", { type: "submit", name: "browse", "class": "link" }, t("返回上一级"));
        actions.insertBefore(up, actions.firstChild);
      }
      up.value = parentId;
      up.setAttribute("data-browse", parentId);
      up.hidden = false;
    }

    // "全部主送" posts the form: the server adds every unit under the one browsed.
    function allButton(parent, count) {
      var all = actions.querySelector("button[data-all-main]");
      if (!parent || !count) { if (all) { all.hidden = true; } return; }
      if (!all) {
        all = el("button", { type: "submit", name: "all_main", "class": "secondary small", "data-all-main": "" });
        actions.appendChild(all);
      }
      all.value = parent.id;
      all.textContent = t("%(name)s的下级单位全部主送", { name: parent.name });
      all.hidden = false;
    }

    var search = Hub.liveSearch(input, status, {
      find: function (term) {
        return getJSON(url + "?q=" + encodeURIComponent(term)).then(function (page) { return page.items; });
      },
      found: function (items) {
        replaceChoices(list, items, unitRow);
        upButton(null);
        allButton(null, 0);
        return items.length ? t("找到 %(n)s 个单位，勾选“主送”或“抄送”。", { n: items.length }) : t("没有找到匹配的单位。");
      }
    });

    function browse(unitId) {
      status.textContent = t("正在列出下级单位…");
      getJSON(url + "?parent_id=" + encodeURIComponent(unitId)).then(function (page) {
        replaceChoices(list, page.items, unitRow);
        status.textContent = page.parent ? t("正在列出%(name)s的下级单位。", { name: page.parent.name }) : "";
        upButton(page.parent && page.parent.parent_id);
        allButton(page.parent, page.items.length);
      }).catch(function () { status.textContent = t("加载失败，请重试。"); });
    }

    form.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && event.target === input) {
        event.preventDefault();
        search(true);
      }
    });
    form.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest("button");
      if (!button) { return; }
      if (button.hasAttribute("data-browse")) {
        event.preventDefault();
        browse(button.getAttribute("data-browse"));
      } else if (button.name === "find" && button.value === "units") {
        event.preventDefault();
        search(true);
      }
    });
    // A unit is 主送 or 抄送, not both.
    form.addEventListener("change", function (event) {
      var box = event.target, li = box.closest && box.closest("#doc-units li[data-choice]");
      if (!li || !box.checked) { return; }
      var other = { main_ids: "copy_ids", copy_ids: "main_ids" }[box.name];
      if (other) { li.querySelector('input[name="' + other + '"]').checked = false; }
    });
  }

  // ---- The document page: people search, live board, changes -------------------------

  function personRow(action) {
    return function (person) {
      var li = el("li", { "data-choice": person.id });
      var main = el("span", { "class": "check" });
      main.appendChild(el("input", { type: "checkbox", id: action + "-p" + person.id, name: "user_ids", value: person.id }));
      var label = el("label", { "for": action + "-p" + person.id }, person.name);
      if (person.where) {
        label.appendChild(document.createTextNode(" "));
        label.appendChild(el("span", { "class": "muted" }, person.where));
      }
      main.appendChild(label);
      li.appendChild(main);
      if (action === "assign" || action === "instruct") {
        var lead = el("span", { "class": "check sub" });
        lead.appendChild(el("input", { type: "radio", id: action + "-lead-" + person.id, name: "lead_id", value: person.id }));
        var leadLabel = el("label", { "for": action + "-lead-" + person.id });
        leadLabel.appendChild(el("span", { "class": "sr-only" }, person.name));
        leadLabel.appendChild(document.createTextNode(t("主办")));
        lead.appendChild(leadLabel);
        li.appendChild(lead);
      } else {
        var order = el("span", { "class": "order-field" });
        var orderLabel = el("label", { "for": "order-" + person.id });
        orderLabel.appendChild(el("span", { "class": "sr-only" }, t("%(name)s的", { name: person.name })));
        orderLabel.appendChild(document.createTextNode(t("顺序")));
        order.appendChild(orderLabel);
        order.appendChild(el("input", { id: "order-" + person.id, name: "order_" + person.id, type: "number",
                                        min: "1", max: "999", inputmode: "numeric" }));
        li.appendChild(order);
      }
      return li;
    };
  }

  function setupPeople(page) {
    var form = page.querySelector("form[data-people-search]");
    if (!form) { return; }
    var url = form.getAttribute("data-people-url");
    var input = form.querySelector("input[type=search]");
    var search = Hub.liveSearch(input, form.querySelector("[data-picker-status]"), {
      asked: input.value.trim(),
      askEmpty: true,
      find: function (term) {
        return getJSON(url + "&q=" + encodeURIComponent(term)).then(function (data) { return data.items; });
      },
      found: function (items, term) {
        page.querySelectorAll("[data-people-list]").forEach(function (list) {
          replaceChoices(list, items, personRow(list.getAttribute("data-people-list")));
        });
        return term ? (items.length ? t("找到 %(n)s 人。", { n: items.length }) : t("没有找到匹配的人员。")) : "";
      }
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      search(true);
    });
  }

  function setupBoard(board) {
    var url = board.getAttribute("data-board-url");
    function cell(row, name) { return row.querySelector('[data-cell="' + name + '"]'); }
    function apply(data) {
      data.items.forEach(function (item) {
        var row = board.querySelector('tr[data-unit-id="' + item.unit_id + '"]');
        if (!row) { return; }
        cell(row, "status").textContent = item.status_label;
        cell(row, "signed_for").textContent = item.signed_for;
        cell(row, "done").textContent = item.done;
        cell(row, "replied").textContent = item.replied ? t("已答复") : "";
        cell(row, "reply").textContent = item.reply || "";
        cell(row, "reply").hidden = !item.reply;
        cell(row, "reminded").textContent = item.reminded ? t("已提醒 %(when)s", { when: item.reminded }) : "";
        cell(row, "overdue").hidden = !item.overdue;
        row.classList.toggle("is-overdue", item.overdue);
        var remind = row.querySelector("form[data-remind]");
        if (remind) { remind.hidden = item.status === "done" || item.status === "archived"; }
      });
      Object.keys(data.counts).forEach(function (key) {
        var out = board.querySelector('[data-count="' + key + '"]');
        if (out) { out.textContent = data.counts[key]; }
      });
    }
    return Hub.throttle(function () {
      getJSON(url).then(apply).catch(function () { /* the next event tries again */ });
    }, 2000);
  }

  function setupDocument(page) {
    var documentId = +page.getAttribute("data-document-id");
    var board = page.querySelector("[data-board]");
    var changed = page.querySelector("[data-doc-changed]");
    setupPeople(page);
    var refresh = board ? setupBoard(board) : null;
    var socket = Hub.connect();
    if (!socket) { return; }
    socket.on("document", function (data) {
      if (!data || +data.id !== documentId) { return; }
      if (refresh && data.unit_id) { refresh(); } else if (changed) { changed.hidden = false; }
    });
    if (refresh) { Hub.onReconnect(socket, refresh); }
  }

  // The timeline: "显示后面的步骤" appends the next page of steps in place, and
  // keyboard focus moves to the first of them.
  function setupTimeline(list) {
    list.addEventListener("click", function (event) {
      var link = event.target.closest("a[data-steps-more]");
      if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) { return; }
      event.preventDefault();
      var item = link.closest("li");
      if (item.hasAttribute("aria-busy")) { return; }
      item.setAttribute("aria-busy", "true");
      Hub.getFragment(link.getAttribute("data-steps-more")).then(function (steps) {
        var first = steps.querySelector(".tl-item");
        item.replaceWith(steps);
        if (first) {
          first.setAttribute("tabindex", "-1");
          first.focus();
        }
      }).catch(function () { window.location.href = link.href; });
    });
  }

  // The documents page: a step that concerns the person says so, quietly.
  function setupIndex(page) {
    var changed = page.querySelector("[data-doc-changed]");
    var socket = changed && Hub.connect();
    if (socket) { socket.on("document", function () { changed.hidden = false; }); }
  }

  document.querySelectorAll("form[data-draft]").forEach(setupDraft);
  document.querySelectorAll("[data-documents]").forEach(setupIndex);
  document.querySelectorAll("[data-document]").forEach(setupDocument);
  document.querySelectorAll("ol[data-timeline]").forEach(setupTimeline);
  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
