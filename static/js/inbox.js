/* The inbox (收件箱): notices that arrive while the page is open appear at the
 * top, quietly.
 *
 * Progressive enhancement only: without this script the page is a plain list
 * with links and forms. Text is only ever set with textContent.
 * Respecting time (DESIGN.md principle 5): no sound, no Notification prompt, no
 * counter badge. During working hours (GET /api/v1/me/schedule → alerts_now) a
 * background tab gets the short title prefix "（新通知）"; outside them nothing
 * but the row itself. An urgent notice, which carries its reason, may always
 * show a calm banner.
 */
(function () {
  "use strict";

  var TZ = "Asia/Shanghai";
  var KINDS = { notice: "通知", mention: "提及", direct: "私信", document: "公文" };
  var MARK = "（新通知）";

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      });
  }

  // "11月22日 14:05" in Beijing time, as the server's local_when filter writes it.
  var clock = new Intl.DateTimeFormat("en-US", { timeZone: TZ, year: "numeric", month: "numeric",
    day: "numeric", hour: "2-digit", minute: "2-digit", hour12: false });

  function parts(date) {
    var p = {};
    clock.formatToParts(date).forEach(function (part) { p[part.type] = part.value; });
    return { year: +p.year, month: +p.month, day: +p.day, hour: p.hour === "24" ? 0 : +p.hour, minute: +p.minute };
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function formatTime(iso) {
    var t = parts(new Date(String(iso).replace(/(\.\d{3})\d+/, "$1")));
    var text = t.month + "月" + t.day + "日 " + pad(t.hour) + ":" + pad(t.minute);
    return t.year === parts(new Date()).year ? text : t.year + "年" + text;
  }

  function span(cls, text) { return el("span", { "class": cls }, text); }

  // The same markup as templates/inbox/_item.html, for a notice pushed live.
  function renderItem(item, noticeBase) {
    var li = el("li", { "class": "inbox-item is-unread is-new", "data-kind": item.kind, "data-id": item.id,
                        "data-read": item.read ? "1" : "0" });
    var head = el("p", { "class": "item-head" });
    head.appendChild(span("item-kind", KINDS[item.kind] || item.kind));
    if (!item.read) { head.appendChild(document.createTextNode(" ")); head.appendChild(span("item-unread", "未读")); }
    if (item.urgent) { head.appendChild(document.createTextNode(" ")); head.appendChild(span("tag tag-urgent", "紧急")); }
    head.appendChild(document.createTextNode(" "));
    head.appendChild(el("time", { datetime: item.at }, formatTime(item.at)));
    li.appendChild(head);
    var title = el("h2", { "class": "item-title" });
    title.appendChild(el("a", { href: noticeBase + item.id }, item.title));
    li.appendChild(title);
    if (item.urgent && item.urgent_reason) { li.appendChild(el("p", { "class": "item-urgent" }, "紧急原因：" + item.urgent_reason)); }
    if (item.summary) { li.appendChild(el("p", { "class": "item-summary" }, item.summary)); }
    var meta = el("p", { "class": "item-meta" });
    var from = item.from || {};
    if (from.name || from.unit_name) {
      meta.appendChild(span("item-from", (from.unit_name ? from.unit_name + " · " : "") + (from.name || "")));
    }
    if (item.requires_ack) { meta.appendChild(span("item-mark", item.acked ? "已签收" : "需签收")); }
    if (item.deadline) {
      var due = span("item-mark", "截止 ");
      due.appendChild(el("time", { datetime: item.deadline }, formatTime(item.deadline)));
      meta.appendChild(due);
    }
    li.appendChild(meta);
    var note = el("p", { "class": "item-reminder", "data-reminder": "" }, "发布单位提醒您阅读这条通知。");
    note.hidden = true;
    li.appendChild(note);
    return li;
  }

  function setup(inbox) {
    var list = inbox.querySelector("[data-inbox-list]");
    var empty = inbox.querySelector("[data-inbox-empty]");
    var banner = inbox.querySelector("[data-urgent-banner]");
    var newNote = inbox.querySelector("[data-new-note]");
    var count = inbox.querySelector(".inbox-count");
    var noticeBase = inbox.getAttribute("data-notice-base");
    var live = inbox.hasAttribute("data-live");
    var unread = (count && +(count.textContent.match(/\d+/) || [0])[0]) || 0;
    var marked = false;

    function row(kind, id) {
      return list.querySelector('.inbox-item[data-kind="' + kind + '"][data-id="' + id + '"]');
    }

    function titleMark() {
      if (!document.hidden || marked) { return; }
      getJSON("/api/v1/me/schedule").then(function (data) {
        if (data && data.alerts_now && document.hidden && !marked) {
          marked = true;
          document.title = MARK + document.title;
        }
      }).catch(function () { /* no alert when in doubt */ });
    }

    document.addEventListener("visibilitychange", function () {
      if (!document.hidden && marked) {
        marked = false;
        document.title = document.title.replace(MARK, "");
      }
    });

    function showBanner(item) {
      banner.textContent = "";
      banner.appendChild(el("strong", {}, "紧急通知"));
      banner.appendChild(document.createTextNode("：" + item.title + (item.urgent_reason ? "（" + item.urgent_reason + "）" : "") + " "));
      banner.appendChild(el("a", { href: noticeBase + item.id }, "查看"));
      banner.hidden = false;
    }

    function onNotice(item) {
      if (!item || item.kind !== "notice" || row("notice", item.id)) { return; }
      if (live) {
        list.insertBefore(renderItem(item, noticeBase), list.firstChild);
        list.hidden = false;
        if (empty) { empty.hidden = true; }
      } else if (newNote) {
        newNote.hidden = false;
      }
      if (count && !item.read) {
        unread += 1;
        count.textContent = "未读通知 " + unread + " 条";
      }
      if (item.urgent) { showBanner(item); }
      titleMark();
    }

    // A reminder shows only on a row the person has not read yet.
    function onReminder(data) {
      var li = data && row("notice", data.notice_id);
      if (li && li.getAttribute("data-read") === "0") {
        var note = li.querySelector("[data-reminder]");
        if (note) { note.hidden = false; }
      }
    }

    function onChanged(data) {
      var li = data && data.revoked && row("notice", data.id);
      if (li && !li.querySelector(".item-revoked")) {
        li.classList.add("is-revoked");
        li.insertBefore(el("p", { "class": "item-revoked" }, "已撤回（打开查看说明）"), li.querySelector(".item-summary"));
      }
    }

    // A document step that concerns the person (dispatched to their unit,
    // handed to them, ...): a quiet note with a link, like a notice on a later page.
    var documentNote = inbox.querySelector("[data-document-note]");
    function onDocument(data) {
      if (data && documentNote) { documentNote.hidden = false; }
    }

    if (typeof window.io !== "function") { return; }
    var socket = window.io();            // same origin: the session cookie authenticates
    socket.on("notice", onNotice);
    socket.on("document", onDocument);
    socket.on("reminder", onReminder);
    socket.on("notice_changed", onChanged);
  }

  document.querySelectorAll("[data-inbox]").forEach(setup);
})();
