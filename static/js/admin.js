/* Admin pages: the lazily loaded org tree and the live unit pickers.
 *
 * Progressive enhancement only: without this script every tree node is a link to
 * its unit page and every picker is a GET form that reloads the page with the
 * candidates. No framework, no CDN.
 */
(function () {
  "use strict";

  var PAGE = 100;          // children fetched per request (the API allows up to 200)

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      });
  }

  // ---- The tree ----------------------------------------------------------

  function setupTree(tree) {
    var childrenUrl = tree.getAttribute("data-children-url");   // .../units/0/children
    var unitUrl = tree.getAttribute("data-unit-url");           // /admin/units/0
    var kinds = JSON.parse(tree.getAttribute("data-kind-labels") || "{}");

    function urlFor(template, id) { return template.replace(/\/0(\/|$)/, "/" + id + "$1"); }

    function nodeFor(unit) {
      var li = el("li", { "class": "tree-node", "data-unit-id": unit.id,
                          "data-child-count": unit.child_count });
      var row = el("div", { "class": "tree-row" });
      if (unit.child_count > 0) {
        var button = el("button", { type: "button", "class": "tree-toggle", "aria-expanded": "false",
                                    "aria-controls": "tree-children-" + unit.id });
        button.appendChild(el("span", { "aria-hidden": "true" }, "▸"));
        button.appendChild(el("span", { "class": "sr-only" }, unit.name + "的下级单位"));
        row.appendChild(button);
      } else {
        row.appendChild(el("span", { "class": "tree-leaf", "aria-hidden": "true" }));
      }
      row.appendChild(el("a", { href: urlFor(unitUrl, unit.id) }, unit.name));
      var facts = [unit.code, kinds[unit.kind] || unit.kind];
      if (unit.child_count > 0) { facts.push("下级 " + unit.child_count); }
      facts.push(unit.member_count + " 人");
      row.appendChild(document.createTextNode(" "));
      row.appendChild(el("span", { "class": "muted" }, facts.join(" · ")));
      li.appendChild(row);
      if (unit.child_count > 0) {
        var list = el("ul", { "class": "tree", id: "tree-children-" + unit.id });
        list.hidden = true;
        li.appendChild(list);
      }
      return li;
    }

    function load(list, unitId, after, moreItem) {
      var url = urlFor(childrenUrl, unitId) + "?limit=" + PAGE + (after ? "&after=" + after : "");
      var status = el("li", { "class": "muted", role: "status" }, "正在加载…");
      if (moreItem) { moreItem.replaceWith(status); } else { list.appendChild(status); }
      return getJSON(url).then(function (page) {
        status.remove();
        page.items.forEach(function (unit) { list.appendChild(nodeFor(unit)); });
        if (!page.items.length && !after) { list.appendChild(el("li", { "class": "muted" }, "没有下级单位")); }
        if (page.next) {
          var more = el("li");
          var button = el("button", { type: "button", "class": "secondary tree-more",
                                      "data-unit-id": unitId, "data-after": page.next }, "加载更多");
          more.appendChild(button);
          list.appendChild(more);
        }
        list.setAttribute("data-loaded", "1");
      }).catch(function () {
        status.textContent = "加载失败，请重试。";
        status.setAttribute("data-failed", "1");
        throw new Error("load failed");
      });
    }

    tree.addEventListener("click", function (event) {
      var more = event.target.closest(".tree-more");
      if (more) {
        var moreList = more.closest("ul");
        load(moreList, more.getAttribute("data-unit-id"), more.getAttribute("data-after"),
             more.parentNode).catch(function () {});
        return;
      }
      var button = event.target.closest(".tree-toggle");
      if (!button) { return; }
      var list = document.getElementById(button.getAttribute("aria-controls"));
      var open = button.getAttribute("aria-expanded") === "true";
      button.setAttribute("aria-expanded", open ? "false" : "true");
      list.hidden = open;
      if (!open && !list.getAttribute("data-loaded") && !list.getAttribute("data-loading")) {
        list.setAttribute("data-loading", "1");
        var failed = list.querySelector("[data-failed]");
        if (failed) { failed.remove(); }
        load(list, button.closest(".tree-node").getAttribute("data-unit-id"))
          .catch(function () { /* the message stays; collapsing and expanding retries */ })
          .then(function () { list.removeAttribute("data-loading"); });
      }
    });

    tree.querySelectorAll(".tree-toggle[hidden]").forEach(function (button) { button.hidden = false; });
  }

  // ---- Unit pickers ------------------------------------------------------

  function setupPicker(form) {
    var input = form.querySelector("input[type=search]");
    var status = form.querySelector("[data-picker-status]");
    var selects = (form.getAttribute("data-targets") || "").split(/\s+/)
      .map(function (id) { return document.getElementById(id); })
      .filter(Boolean);
    var timer = null, asked = "";

    function fill(items) {
      selects.forEach(function (select) {
        var chosen = select.value;
        Array.prototype.slice.call(select.options).forEach(function (option, index) {
          if (index > 0 && !option.hasAttribute("data-keep")) { option.remove(); }
        });
        var kept = Array.prototype.map.call(select.options, function (o) { return o.value; });
        items.forEach(function (unit) {
          if (kept.indexOf(String(unit.id)) !== -1) { return; }
          var text = unit.name + "（" + unit.code + "）" + (unit.trail ? " — " + unit.trail : "");
          select.appendChild(el("option", { value: unit.id }, text));
        });
        select.options[0].textContent = select.options.length > 1 ? "请选择" : "请先在上方查找单位";
        select.value = chosen;
        if (select.value !== chosen) { select.value = ""; }
        var details = select.closest("details");
        if (details && items.length) { details.open = true; }
      });
    }

    function search() {
      var term = input.value.trim();
      if (term === asked) { return; }
      asked = term;
      if (!term) { fill([]); status.textContent = ""; return; }
      var url = form.getAttribute("data-picker-url") + "?q=" + encodeURIComponent(term);
      if (form.hasAttribute("data-exclude")) { url += "&exclude=" + form.getAttribute("data-exclude"); }
      status.textContent = "正在查找…";
      getJSON(url).then(function (page) {
        if (asked !== term) { return; }            // a newer search is under way
        fill(page.items);
        status.textContent = page.items.length
          ? "找到 " + page.items.length + " 个单位，已列入下方的选择框。"
          : "没有找到匹配的单位。";
      }).catch(function () {
        asked = "";
        status.textContent = "查找失败，请重试。";
      });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(search, 300);
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearTimeout(timer);
      asked = "";
      search();
    });
  }

  document.querySelectorAll("#unit-tree").forEach(setupTree);
  document.querySelectorAll("form.picker-search").forEach(setupPicker);
})();
