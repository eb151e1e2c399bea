/* Channels (频道): live messages over Socket.IO, topic switching, the pickers of
 * the list page, and the one quiet alert.
 *
 * Progressive enhancement only: without this script every page works with plain
 * links and forms. Message text is only ever set with textContent; the one thing
 * inserted as HTML is a message's `html`, which the server cleaned with nh3.
 * Alerts respect working hours, are a title marker and nothing else: no sound,
 * no Notification prompt, nothing about who is online.
 */
(function () {
  "use strict";

  var el = Hub.el, request = Hub.request, t = Hub.t;
  var beijing = Hub.beijing, pad = Hub.pad, formatTime = Hub.formatTime, CSRF = Hub.csrf;

  // crypto.randomUUID needs a secure context; getRandomValues does not.
  function newClientId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function splitTerms(term) {
    return term.split(/[\s,，、;；]+/).filter(Boolean).slice(0, 5);
  }

  // ---- Quiet hours: alerts only in working time (DESIGN.md principle 5) ----

  // Until /api/v1/me/schedule answers: Mon–Fri 08:30–17:30 Beijing time.
  var schedule = { days: "12345", start: "08:30", end: "17:30", holidays: [] };

  request("GET", "/api/v1/me/schedule").then(function (data) {
    if (data && data.schedule) { schedule = data.schedule; }
  }).catch(function () { /* keep the default hours */ });

  function minutes(hhmm) {
    var parts = String(hhmm || "0:0").split(":");
    return +parts[0] * 60 + +parts[1];
  }

  function alertsAllowed() {
    var when = beijing(new Date()), now = when.hour * 60 + when.minute;
    var day = when.year + "-" + pad(when.month) + "-" + pad(when.day);
    var workday = String(schedule.days || "").indexOf(String(when.weekday)) !== -1;
    (schedule.holidays || []).forEach(function (h) { if (h.day === day) { workday = !!h.workday; } });
    if (!workday || now < minutes(schedule.start) || now >= minutes(schedule.end)) { return false; }
    if (schedule.quiet_start && schedule.quiet_end) {
      var from = minutes(schedule.quiet_start), to = minutes(schedule.quiet_end);
      if (from <= to ? (now >= from && now < to) : (now >= from || now < to)) { return false; }
    }
    return true;
  }

  // The one alert: "（新消息）" before the title while the page is in the background.
  var markTitle = Hub.titleMarker(t("（新消息）"));

  function alertNew() {
    if (alertsAllowed()) { markTitle(); }
  }

  // ---- Pickers on the list page (units and people) ----

  function personWhere(person) {
    var m = (person.memberships || []).filter(function (x) { return x.primary; })[0] || (person.memberships || [])[0];
    return m ? (m.unit_name + " " + (m.position || "")).trim() : "";
  }

  function fillSelect(select, items) {
    var chosen = select.value;
    Array.prototype.slice.call(select.options, 1).forEach(function (option) { option.remove(); });
    items.forEach(function (person) {
      var where = personWhere(person);
      select.appendChild(el("option", { value: person.id }, where ? t("%(name)s（%(where)s）", { name: person.name, where: where }) : person.name));
    });
    select.options[0].textContent = items.length ? t("请选择") : t("请先在上方查找人员");
    select.value = chosen;
    if (select.value !== chosen || !select.value) { select.value = items.length === 1 ? String(items[0].id) : ""; }
  }

  function setupPicker(form, me) {
    var kind = form.getAttribute("data-picker");
    var target = document.getElementById(form.getAttribute("data-target"));
    var base = form.getAttribute("data-search-url");

    function find(term) {
      if (kind === "units") {
        return request("GET", base + "?q=" + encodeURIComponent(term)).then(function (page) { return page.items; });
      }
      // The people API takes one name at a time.
      return Promise.all(splitTerms(term).map(function (name) {
        return request("GET", base + "?limit=20&q=" + encodeURIComponent(name));
      })).then(function (pages) {
        var seen = {}, found = [];
        pages.forEach(function (page) {
          page.items.forEach(function (p) {
            if (!seen[p.id] && String(p.id) !== me) { seen[p.id] = true; found.push(p); }
          });
        });
        return found;
      });
    }

    function found(items) {
      if (kind === "person") {
        fillSelect(target, items);
      } else {
        Hub.replaceChoices(target, items, function (item) {
          return Hub.audienceChoice("t", kind, item, kind === "units" ? item.trail : personWhere(item));
        });
      }
      var values = { n: items.length };
      if (kind === "units") {
        return items.length ? t("找到 %(n)s 个单位，勾选后加入。", values) : t("没有找到匹配的单位。");
      }
      if (!items.length) { return t("没有找到匹配的人员。"); }
      return kind === "person" ? t("找到 %(n)s 人，请在下方选择。", values) : t("找到 %(n)s 人，勾选后加入。", values);
    }

    var search = Hub.liveSearch(form.querySelector("input[type=search]"), form.querySelector("[data-picker-status]"),
                                { find: find, found: found });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      search(true);
    });
  }

  // ---- The channel list: unread numbers follow live messages ----

  function setupList(page) {
    var me = page.getAttribute("data-user-id");
    page.querySelectorAll("form[data-picker]").forEach(function (form) { setupPicker(form, me); });
    var units = document.getElementById("task-units");
    if (units) { Hub.linkSubtreeTicks(units, "li[data-choice]"); }
    var socket = Hub.connect();
    if (!socket) { return; }
    socket.on("message", function (m) {
      if (!m || !m.author || String(m.author.id) === me) { return; }
      var item = page.querySelector('.channel-item[data-channel-id="' + m.channel_id + '"]');
      var badge = item && item.querySelector(".unread");
      if (badge) {
        var n = (+badge.getAttribute("data-unread") || 0) + 1;
        badge.setAttribute("data-unread", n);
        badge.textContent = "";
        badge.appendChild(el("span", { "class": "sr-only" }, t("未读消息")));
        badge.appendChild(document.createTextNode(String(n)));
        badge.hidden = false;
      }
      alertNew();
    });
  }

  // ---- The message pane ----

  function setupPane(pane) {
    var channelId = +pane.getAttribute("data-channel-id");
    var me = +pane.getAttribute("data-user-id");
    var showUrl = pane.getAttribute("data-show-url");
    var pageBase = showUrl.replace(/\d+$/, "");                 // "/channels/"
    var messagesUrl = pane.getAttribute("data-messages-url");
    var readUrl = pane.getAttribute("data-read-url");
    var directUrl = pane.getAttribute("data-direct-url");
    var list = document.getElementById("messages");
    var empty = pane.querySelector("[data-empty]");
    var olderLink = pane.querySelector("a[data-older]");
    var composer = pane.querySelector("form[data-composer]");
    var topics = pane.querySelector("details[data-topics]");
    var state = {
      topic: pane.hasAttribute("data-topic") ? pane.getAttribute("data-topic") : null,
      latest: pane.hasAttribute("data-latest"),
      active: pane.hasAttribute("data-active"),
      replyDirect: pane.hasAttribute("data-reply-direct"),
      lastRead: +pane.getAttribute("data-last-read") || 0,
      lastId: 0
    };
    var socket = null;

    Array.prototype.forEach.call(list.children, function (li) {
      state.lastId = Math.max(state.lastId, +li.getAttribute("data-id"));
    });

    function topicQuery(sep) {
      return state.topic === null ? "" : sep + "topic=" + encodeURIComponent(state.topic);
    }

    function postForm(action, name, label) {
      var form = el("form", { method: "post", action: action, "class": "inline" });
      if (name) { form.setAttribute("data-action", name); }
      form.appendChild(el("input", { type: "hidden", name: "csrf_token", value: CSRF }));
      form.appendChild(el("button", { type: "submit", "class": "link" }, label));
      return form;
    }

    function ackText(n) { return n ? t("%(n)s 人已确认收到", { n: n }) : ""; }

    function renderFoot(m, own) {
      var foot = el("div", { "class": "msg-foot" });
      foot.appendChild(el("span", { "class": "msg-acks", "data-acks": m.acks || 0 }, ackText(m.acks)));
      if (!state.active || m.withdrawn) { return foot; }
      var base = pageBase + "messages/" + m.id;
      foot.appendChild(el("a", { "class": "msg-reply", href: showUrl + "?reply_to=" + m.id + "#composer-body",
                                 "data-reply": m.id }, t("回复")));
      if (!own) {
        foot.appendChild(postForm(base + "/ack" + topicQuery("?"), "ack", t("确认收到")));
        if (state.replyDirect && m.author) {
          var reply = postForm(directUrl, null, t("私信回复"));
          reply.insertBefore(el("input", { type: "hidden", name: "user_id", value: m.author.id }), reply.lastChild);
          foot.appendChild(reply);
        }
        return foot;
      }
      var details = el("details", { "class": "msg-edit" });
      details.appendChild(el("summary", {}, t("编辑")));
      var edit = el("form", { method: "post", action: base + "/edit" + topicQuery("?"), "data-action": "edit" });
      edit.appendChild(el("input", { type: "hidden", name: "csrf_token", value: CSRF }));
      edit.appendChild(el("label", { "for": "edit-" + m.id }, t("修改消息")));
      var area = el("textarea", { id: "edit-" + m.id, name: "body", rows: "3", maxlength: "10000", required: "" });
      area.value = m.body;
      edit.appendChild(area);
      edit.appendChild(el("button", { type: "submit" }, t("保存")));
      details.appendChild(edit);
      foot.appendChild(details);
      foot.appendChild(postForm(base + "/withdraw" + topicQuery("?"), "withdraw", t("撤回")));
      return foot;
    }

    // What a reply shows of the message it answers, from that message on the page.
    function quoteText(id) {
      var quoted = document.getElementById("m-" + id);
      var author = quoted && quoted.querySelector(".msg-author");
      var body = quoted && quoted.querySelector(".msg-body:not(.msg-withdrawn)");
      if (!author) { return t("回复一条消息"); }
      if (!body) { return t("回复 %(author)s（原消息已撤回）", { author: author.textContent }); }
      var text = body.textContent.trim();
      return t("回复 %(author)s：%(text)s", { author: author.textContent, text: text.slice(0, 60) }) +
             (text.length > 60 ? "…" : "");
    }

    function quoteOf(id) {
      var p = el("p", { "class": "msg-quote" });
      p.appendChild(el("a", { href: "#m-" + id }, quoteText(id)));
      return p;
    }

    function renderMessage(m) {
      var own = !!m.author && m.author.id === me;
      var li = el("li", { "class": "msg" + (own ? " msg-own" : ""), id: "m-" + m.id, "data-id": m.id,
                          "data-author-id": m.author ? m.author.id : "" });
      if (m.client_msg_id) { li.setAttribute("data-client-msg-id", m.client_msg_id); }
      var head = el("p", { "class": "msg-head" });
      head.appendChild(el("span", { "class": "msg-author" }, (m.author && m.author.name) || t("（未知）")));
      head.appendChild(document.createTextNode(" "));
      head.appendChild(el("time", { datetime: m.created_at }, formatTime(m.created_at)));
      if (state.topic === null && m.topic) {
        head.appendChild(document.createTextNode(" "));
        head.appendChild(el("a", { "class": "tag msg-topic", href: showUrl + "?topic=" + encodeURIComponent(m.topic),
                                   "data-topic": m.topic }, m.topic));
      }
      if (m.edited_at && !m.withdrawn) {
        head.appendChild(document.createTextNode(" "));
        head.appendChild(el("span", { "class": "muted msg-edited" }, t("已编辑")));
      }
      li.appendChild(head);
      if (m.reply_to && !m.withdrawn) { li.appendChild(quoteOf(m.reply_to)); }
      var body;
      if (m.withdrawn) {
        body = el("p", { "class": "msg-body msg-withdrawn" }, t("此消息已撤回"));
      } else if (m.html) {
        body = el("div", { "class": "msg-body msg-rich" });
        body.innerHTML = m.html;                 // sanitized by the server (nh3) before it was stored
      } else {
        body = el("p", { "class": "msg-body" }, m.body);
      }
      li.appendChild(body);
      if (!m.withdrawn && m.attachments && m.attachments.length) {
        var files = el("ul", { "class": "msg-files" });
        m.attachments.forEach(function (a) {
          var item = el("li");
          item.appendChild(el("a", { href: "/api/v1/attachments/" + a.id, download: "" }, a.filename));
          item.appendChild(document.createTextNode(" "));
          item.appendChild(el("span", { "class": "muted" }, Math.ceil(a.size / 1024) + " KB"));
          files.appendChild(item);
        });
        li.appendChild(files);
      }
      li.appendChild(renderFoot(m, own));
      return li;
    }

    function nearBottom() {
      return window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 160;
    }

    function toBottom() { window.scrollTo(0, document.documentElement.scrollHeight); }

    function appendMessage(m, live) {
      if (!m || m.channel_id !== channelId) { return; }
      if (document.getElementById("m-" + m.id)) { return; }
      if (m.client_msg_id && m.author && list.querySelector('[data-author-id="' + m.author.id +
          '"][data-client-msg-id="' + CSS.escape(m.client_msg_id) + '"]')) { return; }
      if (state.topic !== null && m.topic !== state.topic) { return; }
      var follow = live && nearBottom();
      list.appendChild(renderMessage(m));
      state.lastId = Math.max(state.lastId, m.id);
      empty.hidden = true;
      if (follow) { toBottom(); }
      if (live && m.author && m.author.id !== me) { alertNew(); }
      markRead();
    }

    function replaceMessage(m) {
      var old = document.getElementById("m-" + m.id);
      if (old) { old.replaceWith(renderMessage(m)); }
    }

    function setAcks(li, n) {
      var span = li.querySelector(".msg-acks");
      if (span) { span.setAttribute("data-acks", n); span.textContent = ackText(n); }
    }

    function markAcked(li) {
      var form = li.querySelector('form[data-action="ack"]');
      if (form) { form.replaceWith(el("span", { "class": "muted msg-acked" }, t("您已确认"))); }
    }

    // Mark read once the pane is on screen, up to the last message shown.
    var readTimer = null;
    function markRead() {
      if (document.hidden || !state.latest) { return; }
      clearTimeout(readTimer);
      readTimer = setTimeout(function () {
        var upTo = state.lastId;
        if (upTo <= state.lastRead) { return; }
        request("POST", readUrl, { up_to: upTo }).then(function (data) {
          state.lastRead = Math.max(state.lastRead, data.last_read_id || 0);
        }).catch(function () { /* the next visit marks it */ });
      }, 400);
    }
    document.addEventListener("visibilitychange", markRead);

    // After a (re)connect: fetch what was missed, oldest first, page by page.
    function catchUp() {
      if (!state.latest) { return Promise.resolve(); }
      function from(after) {
        return request("GET", messagesUrl + "?limit=200&after=" + after + topicQuery("&")).then(function (page) {
          page.items.forEach(function (m) { appendMessage(m, true); });
          if (page.next) { return from(page.next); }
        });
      }
      return from(state.lastId).catch(function () { /* the socket will try again */ });
    }

    function setOlder(next) {
      olderLink.parentNode.hidden = !next;
      olderLink.setAttribute("data-older", next || "");
      olderLink.href = next ? showUrl + "?before=" + next + topicQuery("&") : "#";
    }

    olderLink.addEventListener("click", function (event) {
      var before = olderLink.getAttribute("data-older");
      if (!before) { return; }
      event.preventDefault();
      request("GET", messagesUrl + "?limit=50&before=" + before + topicQuery("&")).then(function (page) {
        var height = document.documentElement.scrollHeight, first = list.firstChild;
        page.items.forEach(function (m) {
          if (!document.getElementById("m-" + m.id)) { list.insertBefore(renderMessage(m), first); }
        });
        window.scrollBy(0, document.documentElement.scrollHeight - height);   // keep the reader's place
        setOlder(page.next);
      }).catch(function () { window.location.href = olderLink.href; });
    });

    // Choosing a topic (话题) shows only its messages, without leaving the page.
    function showTopic(topic, href) {
      var url = messagesUrl + "?limit=50" + (topic === null ? "" : "&topic=" + encodeURIComponent(topic));
      request("GET", url).then(function (page) {
        state.topic = topic;
        state.latest = true;
        list.textContent = "";
        state.lastId = 0;
        page.items.forEach(function (m) { appendMessage(m, false); });
        empty.hidden = page.items.length > 0;
        setOlder(page.next);
        pane.querySelectorAll("[data-newest]").forEach(function (p) { p.hidden = true; });
        pane.querySelectorAll(".topic-list a").forEach(function (a) {
          var mine = topic === null ? a.hasAttribute("data-topic-all") : a.getAttribute("data-topic") === topic;
          if (mine) { a.setAttribute("aria-current", "page"); } else { a.removeAttribute("aria-current"); }
        });
        var label = pane.querySelector("[data-topic-label]");
        if (label) { label.textContent = topic === null ? t("全部") : (topic || t("未分话题")); }
        if (composer) {
          composer.action = composer.action.split("?")[0] + topicQuery("?");
          composer.querySelector("input[name=topic]").value = topic || "";
          var status = composer.querySelector("[data-composer-status]");
          status.textContent = status.getAttribute("data-hint") || "";
        }
        history.pushState({ topic: topic }, "", href);
        if (topics && !window.matchMedia("(min-width: 800px)").matches) { topics.open = false; }
        toBottom();
      }).catch(function () { window.location.href = href; });
    }

    pane.addEventListener("click", function (event) {
      var link = event.target.closest("a[data-topic], a[data-topic-all]");
      if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) { return; }
      event.preventDefault();
      showTopic(link.hasAttribute("data-topic-all") ? null : link.getAttribute("data-topic"), link.href);
    });
    window.addEventListener("popstate", function () { window.location.reload(); });

    // 确认收到, 编辑, 撤回 through the API; the form posts itself if the API can't be reached.
    list.addEventListener("submit", function (event) {
      var form = event.target, action = form.getAttribute("data-action");
      if (!action) { return; }
      var li = form.closest(".msg"), id = li.getAttribute("data-id");
      event.preventDefault();
      var call;
      if (action === "ack") {
        call = request("POST", "/api/v1/messages/" + id + "/ack").then(function (data) {
          setAcks(li, data.acks);
          markAcked(li);
        });
      } else if (action === "withdraw") {
        if (!window.confirm(t("撤回这条消息？撤回后大家只能看到“此消息已撤回”。"))) { return; }
        call = request("POST", "/api/v1/messages/" + id + "/withdraw").then(replaceMessage);
      } else {
        call = request("PATCH", "/api/v1/messages/" + id,
                       { body: form.querySelector("textarea").value }).then(replaceMessage);
      }
      call.catch(function (problem) {
        if (!problem.status) { form.submit(); return; }
        var foot = li.querySelector(".msg-foot"), note = foot.querySelector(".error");
        if (!note) { note = el("span", { "class": "error", role: "alert" }); foot.appendChild(note); }
        note.textContent = problem.message;
      });
    });

    // Typing "@" offers the channel's people and units (a listbox under the text,
    // arrows and Enter or a tap to pick); picking writes "@name " into the text,
    // and the server reads the mentions from the text (mention_names).
    function setupMentions(form, body) {
      var url = form.getAttribute("data-mentions-url");
      if (!url) { return; }
      var list = el("ul", { id: "mention-list", role: "listbox", "class": "mention-list",
                            "aria-label": t("可以提及的人") });
      list.hidden = true;
      body.parentNode.insertBefore(list, body.nextSibling);
      // The text stays a textbox (a textarea is no combobox); the list is tied to it.
      body.setAttribute("aria-autocomplete", "list");
      body.setAttribute("aria-controls", "mention-list");
      var active = -1, items = [], asked = 0;

      function typed() {
        var m = /[@＠]([^\s@＠]{0,20})$/.exec(body.value.slice(0, body.selectionStart));
        return m ? { term: m[1], start: body.selectionStart - m[0].length } : null;
      }
      function close() {
        list.hidden = true; list.textContent = ""; items = []; active = -1;
        body.removeAttribute("aria-activedescendant");
      }
      function mark(n) {
        active = n;
        Array.prototype.forEach.call(list.children, function (li, i) {
          li.setAttribute("aria-selected", i === n ? "true" : "false");
        });
        if (n >= 0) { body.setAttribute("aria-activedescendant", "mention-" + n); }
      }
      function pick(n) {
        var at = typed();
        if (!at || !items[n]) { close(); return; }
        var text = "@" + items[n].name + " ";
        body.value = body.value.slice(0, at.start) + text + body.value.slice(body.selectionStart);
        var caret = at.start + text.length;
        body.setSelectionRange(caret, caret);
        close();
        body.focus();
      }
      var look = Hub.debounce(function () {
        var at = typed();
        if (!at) { close(); return; }
        var ask = ++asked;
        request("GET", url + "?q=" + encodeURIComponent(at.term)).then(function (page) {
          if (ask !== asked || !typed()) { return; }
          items = page.items;
          list.textContent = "";
          if (!items.length) { close(); return; }
          items.forEach(function (item, i) {
            var li = el("li", { id: "mention-" + i, role: "option", "aria-selected": "false",
                                "data-kind": item.kind },
                        item.kind === "unit" ? t("%(name)s（单位）", { name: item.name }) : item.name);
            li.addEventListener("mousedown", function (event) { event.preventDefault(); pick(i); });
            list.appendChild(li);
          });
          list.hidden = false;
          mark(0);
        }).catch(close);
      }, 150);
      body.addEventListener("input", look);
      body.addEventListener("blur", function () { setTimeout(close, 150); });
      body.addEventListener("keydown", function (event) {
        if (list.hidden) { return; }
        if (event.key === "ArrowDown" || event.key === "ArrowUp") {
          event.preventDefault();
          var n = items.length;
          mark(((active + (event.key === "ArrowDown" ? 1 : -1)) % n + n) % n);
        } else if ((event.key === "Enter" && !event.ctrlKey && !event.metaKey) || event.key === "Tab") {
          event.preventDefault();
          pick(active < 0 ? 0 : active);
        } else if (event.key === "Escape") {
          event.preventDefault();
          close();
        }
      });
    }

    // The composer sends over the socket and waits for the server's answer;
    // while the socket is down the form posts itself (the same client_msg_id
    // means a retry never makes a second message).
    function setupComposer(form) {
      var body = form.querySelector("textarea[name=body]");
      var topicInput = form.querySelector("input[name=topic]");
      var clientId = form.querySelector("input[name=client_msg_id]");
      var status = form.querySelector("[data-composer-status]");
      var button = form.querySelector("button[type=submit]");
      var hint = status.textContent, sending = false;
      status.setAttribute("data-hint", hint);

      setupMentions(form, body);
      var replyBox = form.querySelector("[data-reply-box]");
      var replyInput = replyBox.querySelector("input[name=reply_to]");
      function replyTo(id) {
        replyInput.value = id || "";
        replyInput.disabled = !id;
        replyBox.hidden = !id;
        if (id) { replyBox.querySelector("[data-reply-text]").textContent = quoteText(id); }
      }
      pane.addEventListener("click", function (event) {
        var link = event.target.closest("a[data-reply]");
        if (link) { event.preventDefault(); replyTo(link.getAttribute("data-reply")); body.focus(); }
        if (event.target.closest("a[data-reply-cancel]")) { event.preventDefault(); replyTo(null); }
      });
      var chosen = form.querySelector("[data-file-chosen]");
      var picker = form.querySelector("[data-file-input]");
      if (picker && chosen) {
        picker.addEventListener("change", function () {
          chosen.hidden = !picker.files.length;
          chosen.textContent = picker.files.length ? t("附件：%(name)s", { name: picker.files[0].name }) : "";
        });
      }
      body.addEventListener("keydown", function (event) {
        if (event.defaultPrevented) { return; }            // the mention list took the key
        if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
          event.preventDefault();
          if (form.requestSubmit) { form.requestSubmit(); } else { button.click(); }
        }
      });

      var fileInput = form.querySelector("input[type=file]");
      form.addEventListener("submit", function (event) {
        if (!socket || !socket.connected) { return; }
        if (fileInput && fileInput.files.length) { return; }   // files go with the form post
        event.preventDefault();
        if (sending) { return; }
        if (!body.value.trim()) { status.textContent = t("消息内容不能为空"); return; }
        // mention_names: "@name" in the text mentions that person or unit of the channel.
        var payload = { channel_id: channelId, body: body.value, topic: topicInput.value.trim(),
                        client_msg_id: clientId.value, mention_names: true };
        if (!replyInput.disabled && replyInput.value) { payload.reply_to = +replyInput.value; }
        sending = true;
        button.disabled = true;
        status.textContent = t("正在发送…");
        socket.timeout(10000).emit("send", payload, function (err, answer) {
          sending = false;
          button.disabled = false;
          if (err) { form.submit(); return; }          // no answer in time: post the form instead
          if (answer && answer.error) { status.textContent = answer.error.message; return; }
          body.value = "";
          clientId.value = newClientId();
          replyTo(null);
          if (answer && answer.acknowledged) {
            var acked = document.getElementById("m-" + answer.acknowledged);
            if (acked) { markAcked(acked); }
            status.textContent = t("已记为确认收到");
          } else if (state.topic !== null && payload.topic !== state.topic) {
            status.textContent = t("已发送到话题“%(topic)s”", { topic: payload.topic || t("未分话题") });
          } else {
            status.textContent = hint;
            catchUp().then(toBottom);
          }
          body.focus();
        });
      });
    }

    if (composer) { setupComposer(composer); }
    if (topics && window.matchMedia("(min-width: 800px)").matches) { topics.open = true; }
    if (!window.location.hash) { toBottom(); }
    markRead();

    socket = Hub.connect();
    if (!socket) { return; }
    socket.on("connect", catchUp);
    socket.on("message", function (m) {
      if (m && m.channel_id === channelId) { appendMessage(m, true); }
      else if (m && m.author && m.author.id !== me) { alertNew(); }
    });
    socket.on("ack", function (a) {
      var li = a && a.channel_id === channelId && document.getElementById("m-" + a.message_id);
      if (li) { setAcks(li, a.acks); }
    });
    socket.on("message_changed", function (m) {
      if (m && m.channel_id === channelId) { replaceMessage(m); }
    });
  }

  document.querySelectorAll("[data-channel-list]").forEach(setupList);
  document.querySelectorAll("[data-channel-pane]").forEach(setupPane);
})();
