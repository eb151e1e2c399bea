/* Shared by every page: the helpers the page scripts use (window.Hub), the
 * lazily loaded unit trees, and the service worker.
 *
 * base.html loads this file with `defer` before the page scripts, which are
 * deferred too, so window.Hub exists when they run. Text is only ever set with
 * textContent. No framework, no CDN.
 */
(function () {
  "use strict";

  var TZ = "Asia/Shanghai";
  var CSRF = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

  // ---- Text for people: the catalogue of the page's language ----------------

  var catalogue = null;

  // The translation of a Chinese source string, with %(name)s filled from
  // `values`. The strings come from a JSON data block (not executed, so the CSP
  // allows it); without one, the Chinese source is the text.
  function t(text, values) {
    if (catalogue === null) {
      var block = document.getElementById("hub-strings");
      try { catalogue = block ? JSON.parse(block.textContent) : {}; } catch (e) { catalogue = {}; }
    }
    var out = catalogue[text] || text;
    return out.replace(/%\((\w+)\)s/g, function (whole, name) {
      return values && values[name] !== undefined ? String(values[name]) : whole;
    });
  }

  // ---- The DOM and the server ----------------------------------------------

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  // A JSON call with the session cookie and, for writes, the CSRF token. A
  // refusal rejects with the server's own message (API.md's error body) and the
  // status; a network failure rejects without a status.
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

  function getJSON(url) { return request("GET", url); }

  // Server-rendered HTML (a page's fragment endpoint) as a DocumentFragment to
  // insert: the server escapes it like any page, and the CSP still applies.
  function getFragment(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.text();
    }).then(function (html) {
      var template = document.createElement("template");
      template.innerHTML = html;
      return template.content;
    });
  }

  // The Socket.IO connection (same origin: the session cookie authenticates
  // it), or null on a page that does not load the client.
  function connect() {
    return typeof window.io === "function" ? window.io() : null;
  }

  // Run `fn` on every connect but the first: after a reconnect, what changed
  // meanwhile has to be fetched.
  function onReconnect(socket, fn) {
    var connected = false;
    socket.on("connect", function () {
      if (connected) { fn(); }
      connected = true;
    });
  }

  // ---- Timing ----------------------------------------------------------------

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  // At most one call of `fn` every `ms`; calls in between fold into the next
  // one. Live pages refetch on events that can arrive by the thousand.
  function throttle(fn, ms) {
    var last = 0, timer = null;
    return function () {
      if (timer) { return; }
      timer = setTimeout(function () {
        timer = null;
        last = Date.now();
        fn();
      }, Math.max(0, last + ms - Date.now()));
    };
  }

  // ---- Beijing time, formatted as the server's local_when filter writes it ----

  var clock = new Intl.DateTimeFormat("en-US", {
    timeZone: TZ, year: "numeric", month: "numeric", day: "numeric", weekday: "short",
    hour: "2-digit", minute: "2-digit", hour12: false });

  function beijing(date) {
    var p = {};
    clock.formatToParts(date).forEach(function (part) { p[part.type] = part.value; });
    return { year: +p.year, month: +p.month, day: +p.day, hour: p.hour === "24" ? 0 : +p.hour,
             minute: +p.minute, weekday: WEEKDAYS.indexOf(p.weekday) + 1 };
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  // "11月22日 14:05", with the year only when it is not this year.
  function formatTime(iso) {
    var when = beijing(new Date(String(iso).replace(/(\.\d{3})\d+/, "$1")));
    var values = { year: when.year, month: when.month, day: when.day, time: pad(when.hour) + ":" + pad(when.minute) };
    return when.year === beijing(new Date()).year ? t("%(month)s月%(day)s日 %(time)s", values)
                                                  : t("%(year)s年%(month)s月%(day)s日 %(time)s", values);
  }

  // ---- The one quiet alert: a marker before the page title --------------------

  // Returns a function that puts `mark` before the title while the page is in
  // the background; it goes when the person looks at the page again. No sound,
  // no Notification prompt, no counter (DESIGN.md principle 5).
  function titleMarker(mark) {
    var marked = false;
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden && marked) {
        marked = false;
        document.title = document.title.replace(mark, "");
      }
    });
    return function show() {
      if (!document.hidden || marked) { return; }
      marked = true;
      document.title = mark + document.title;
    };
  }

  // ---- Pickers: search as one types, results as ticked lists ------------------

  // Ticked rows stay; the rest give way to the new results, built by `build`.
  function replaceChoices(list, items, build) {
    Array.prototype.slice.call(list.querySelectorAll("li[data-choice]")).forEach(function (li) {
      if (!li.querySelector("input:checked")) { li.remove(); }
    });
    items.forEach(function (item) {
      if (!list.querySelector('li[data-choice="' + item.id + '"]')) { list.appendChild(build(item)); }
    });
    var empty = list.querySelector("[data-empty]");
    if (empty) { empty.hidden = !!list.querySelector("li[data-choice]"); }
  }

  // One result of an audience picker: a unit or a person to tick (ids
  // `prefix`u-, `prefix`p-), a unit with a second box "含下级单位" (`prefix`s-);
  // `extra` is the muted text after the name (a unit's trail, a person's post).
  function audienceChoice(prefix, kind, item, extra) {
    var li = el("li", { "data-choice": item.id });
    var main = el("span", { "class": "check" });
    var id = prefix + (kind === "units" ? "u-" : "p-") + item.id;
    main.appendChild(el("input", { type: "checkbox", id: id, value: item.id,
                                   name: kind === "units" ? "unit_ids" : "user_ids" }));
    var label = el("label", { "for": id }, item.name);
    if (extra) {
      label.appendChild(document.createTextNode(" "));
      label.appendChild(el("span", { "class": "muted" }, extra));
    }
    main.appendChild(label);
    li.appendChild(main);
    if (kind === "units") {
      var sub = el("span", { "class": "check sub" });
      sub.appendChild(el("input", { type: "checkbox", id: prefix + "s-" + item.id, name: "subtree_ids",
                                    value: item.id }));
      var subLabel = el("label", { "for": prefix + "s-" + item.id });
      subLabel.appendChild(el("span", { "class": "sr-only" }, item.name));
      subLabel.appendChild(document.createTextNode(t("含下级单位")));
      sub.appendChild(subLabel);
      li.appendChild(sub);
    }
    return li;
  }

  // "含下级单位" means the unit too: ticking it ticks the unit, unticking the
  // unit unticks it, in the rows matched by `rows` inside `container`.
  function linkSubtreeTicks(container, rows) {
    container.addEventListener("change", function (event) {
      var box = event.target, li = box.closest && box.closest(rows);
      if (!li) { return; }
      var unit = li.querySelector('input[name="unit_ids"]'), sub = li.querySelector('input[name="subtree_ids"]');
      if (!unit || !sub) { return; }
      if (box === sub && sub.checked) { unit.checked = true; }
      if (box === unit && !unit.checked) { sub.checked = false; }
    });
  }

  // A search box that asks 300 ms after the last key, and at once when the
  // returned function is called with `true` (a button, Enter). An answer to an
  // older term is dropped. options: find(term) → promise of items;
  // found(items, term) → the status line; empty() for a cleared box (unless
  // askEmpty, which searches with the empty term too); asked: the term the page
  // was rendered with.
  function liveSearch(input, status, options) {
    var asked = options.asked !== undefined ? options.asked : "";
    function search(now) {
      var term = input.value.trim();
      if (term === asked && now !== true) { return; }
      asked = term;
      if (!term && !options.askEmpty) {
        status.textContent = "";
        if (options.empty) { options.empty(); }
        return;
      }
      status.textContent = term ? t("正在查找…") : "";
      options.find(term).then(function (items) {
        if (asked !== term) { return; }              // a newer search is under way
        status.textContent = options.found(items, term);
      }).catch(function () {
        asked = null;
        status.textContent = t("查找失败，请重试。");
      });
    }
    input.addEventListener("input", debounce(search, 300));
    return search;
  }

  // ---- Unit trees: children loaded on demand --------------------------------

  var TREE_PAGE = 100;          // children fetched per request (the API allows up to 200)

  // A list marked data-unit-tree: each unit with children has a real button
  // (aria-expanded) that fetches them from GET /api/v1/units/{id}/children a
  // page at a time, so a province's 27,000 units are never all on the page.
  // Without this script every node is a link to its unit page.
  function setupTree(tree) {
    var childrenUrl = tree.getAttribute("data-children-url");   // .../units/0/children
    var unitUrl = tree.getAttribute("data-unit-url");           // .../units/0
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
        button.appendChild(el("span", { "class": "sr-only" }, t("%(name)s的下级单位", { name: unit.name })));
        row.appendChild(button);
      } else {
        row.appendChild(el("span", { "class": "tree-leaf", "aria-hidden": "true" }));
      }
      row.appendChild(el("a", { href: urlFor(unitUrl, unit.id) }, unit.name));
      var facts = [unit.code, kinds[unit.kind] || unit.kind];
      if (unit.child_count > 0) { facts.push(t("下级 %(n)s", { n: unit.child_count })); }
      facts.push(t("%(n)s 人", { n: unit.member_count }));
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
      var url = urlFor(childrenUrl, unitId) + "?limit=" + TREE_PAGE + (after ? "&after=" + after : "");
      var status = el("li", { "class": "muted", role: "status" }, t("正在加载…"));
      if (moreItem) { moreItem.replaceWith(status); } else { list.appendChild(status); }
      return getJSON(url).then(function (page) {
        status.remove();
        page.items.forEach(function (unit) { list.appendChild(nodeFor(unit)); });
        if (!page.items.length && !after) { list.appendChild(el("li", { "class": "muted" }, t("没有下级单位"))); }
        if (page.next) {
          var more = el("li");
          more.appendChild(el("button", { type: "button", "class": "secondary tree-more",
                                          "data-unit-id": unitId, "data-after": page.next }, t("加载更多")));
          list.appendChild(more);
        }
        list.setAttribute("data-loaded", "1");
      }).catch(function () {
        status.textContent = t("加载失败，请重试。");
        status.setAttribute("data-failed", "1");
        throw new Error("load failed");
      });
    }

    tree.addEventListener("click", function (event) {
      var more = event.target.closest(".tree-more");
      if (more) {
        load(more.closest("ul"), more.getAttribute("data-unit-id"), more.getAttribute("data-after"),
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

  window.Hub = {
    t: t, el: el, request: request, getJSON: getJSON, getFragment: getFragment, connect: connect,
    onReconnect: onReconnect,
    debounce: debounce, throttle: throttle, beijing: beijing, pad: pad, formatTime: formatTime,
    titleMarker: titleMarker, replaceChoices: replaceChoices, audienceChoice: audienceChoice,
    linkSubtreeTicks: linkSubtreeTicks, liveSearch: liveSearch, csrf: CSRF
  };

  document.querySelectorAll("ul[data-unit-tree]").forEach(setupTree);

  if ("serviceWorker" in navigator && window.isSecureContext) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js").catch(function () { /* the site works without it */ });
    });
  }
})();
