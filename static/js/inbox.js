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

  var el = Hub.el, t = Hub.t, formatTime = Hub.formatTime;
  var KINDS = { notice: t("通知"), mention: t("提及"), direct: t("私信"), document: t("公文") };

  function span(cls, text) { return el("span", { "class": cls }, text); }

  // The same markup as templates/inbox/_item.html, for a notice pushed live.
  function renderItem(item, noticeBase) {
    var li = el("li", { "class": "inbox-item is-unread is-new", "data-kind": item.kind, "data-id": item.id,
                        "data-read": item.read ? "1" : "0" });
    var head = el("p", { "class": "item-head" });
    head.appendChild(span("item-kind", KINDS[item.kind] || item.kind));
    if (!item.read) { head.appendChild(document.createTextNode(" ")); head.appendChild(span("item-unread", t("未读"))); }
    if (item.urgent) { head.appendChild(document.createTextNode(" ")); head.appendChild(span("tag tag-urgent", t("紧急"))); }
    head.appendChild(document.createTextNode(" "));
    head.appendChild(el("time", { datetime: item.at }, formatTime(item.at)));
    li.appendChild(head);
    var title = el("h2", { "class": "item-title" });
    title.appendChild(el("a", { href: noticeBase + item.id }, item.title));
    li.appendChild(title);
    if (item.urgent && item.urgent_reason) { li.appendChild(el("p", { "class": "item-urgent" }, t("紧急原因：%(reason)s", { reason: item.urgent_reason }))); }
    if (item.summary) { li.appendChild(el("p", { "class": "item-summary" }, item.summary)); }
    var meta = el("p", { "class": "item-meta" });
    var from = item.from || {};
    if (from.name || from.unit_name) {
      meta.appendChild(span("item-from", (from.unit_name ? from.unit_name + " · " : "") + (from.name || "")));
    }
    if (item.requires_ack) { meta.appendChild(span("item-mark", item.acked ? t("已签收") : t("需签收"))); }
    if (item.deadline) {
      var due = span("item-mark", t("截止") + " ");
      due.appendChild(el("time", { datetime: item.deadline }, formatTime(item.deadline)));
      meta.appendChild(due);
    }
    li.appendChild(meta);
    var note = el("p", { "class": "item-reminder", "data-reminder": "" }, t("发布单位提醒您阅读这条通知。"));
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
    var mark = Hub.titleMarker(t("（新通知）"));

    function row(kind, id) {
      return list.querySelector('.inbox-item[data-kind="' + kind + '"][data-id="' + id + '"]');
    }

    // Only in working hours, as the server reckons them for this person.
    function titleMark() {
      if (!document.hidden) { return; }
      Hub.getJSON("/api/v1/me/schedule").then(function (data) {
        if (data && data.alerts_now) { mark(); }
      }).catch(function () { /* no alert when in doubt */ });
    }

    function showBanner(item) {
      banner.textContent = "";
      banner.appendChild(el("strong", {}, t("紧急通知")));
      banner.appendChild(document.createTextNode((item.urgent_reason ? t("：%(title)s（%(reason)s）", { title: item.title, reason: item.urgent_reason })
                                                                : t("：%(title)s", { title: item.title })) + " "));
      banner.appendChild(el("a", { href: noticeBase + item.id }, t("查看")));
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
        count.textContent = t("未读通知 %(n)s 条", { n: unread });
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
        li.insertBefore(el("p", { "class": "item-revoked" }, t("已撤回（打开查看说明）")), li.querySelector(".item-summary"));
      }
    }

    // A document step that concerns the person (dispatched to their unit,
    // handed to them, ...): a quiet note with a link, like a notice on a later page.
    var documentNote = inbox.querySelector("[data-document-note]");
    function onDocument(data) {
      if (data && documentNote) { documentNote.hidden = false; }
    }

    var socket = Hub.connect();
    if (!socket) { return; }
    socket.on("notice", onNotice);
    socket.on("document", onDocument);
    socket.on("reminder", onReminder);
    socket.on("notice_changed", onChanged);
  }

  document.querySelectorAll("[data-inbox]").forEach(setup);
})();
