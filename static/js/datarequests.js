/* Data requests (填报): the compose page's live catalogue and unit searches and
 * its live check (核对) — what is held, which units will not be asked, which
 * open requests overlap — as fields, units and the period change.
 *
 * Progressive enhancement only: without this script the page searches and
 * checks through its own buttons. The check is the server's own fragment
 * (datarequests/_check.html), so the page and the script never disagree; a
 * refusal is shown next to the field it names. Text is only ever set with
 * textContent.
 */
(function () {
  "use strict";

  var el = Hub.el, t = Hub.t;

  function fieldChoice(labels) {
    return function (item) {
      var li = el("li", { "data-choice": item.id });
      var box = el("span", { "class": "check" });
      box.appendChild(el("input", { type: "checkbox", id: "df-" + item.id, name: "field_ids", value: item.id }));
      var label = el("label", { "for": "df-" + item.id }, item.name);
      var facts = [item.code, labels.kinds[item.kind] || item.kind,
                   labels.period_kinds[item.period_kind] || item.period_kind];
      if (item.unit_of_measure) { facts.push(item.unit_of_measure); }
      if (item.owner_unit_name) { facts.push(item.owner_unit_name); }
      label.appendChild(document.createTextNode(" "));
      label.appendChild(el("span", { "class": "muted" }, facts.join(" · ")));
      if (item.system) {
        label.appendChild(document.createTextNode(" "));
        label.appendChild(el("span", { "class": "tag" }, labels.system));
      }
      box.appendChild(label);
      li.appendChild(box);
      return li;
    };
  }

  function setupSearch(form, box, list, build) {
    var kind = box.getAttribute("data-search");
    var input = box.querySelector("input[type=search]");
    var url = form.getAttribute(kind === "fields" ? "data-fields-url" : "data-units-url");
    var search = Hub.liveSearch(input, box.querySelector("[data-search-status]"), {
      asked: input.value.trim(),
      find: function (term) {
        return Hub.request("GET", url + "?q=" + encodeURIComponent(term)).then(function (page) { return page.items; });
      },
      found: function (items) {
        Hub.replaceChoices(list, items, build);
        if (kind === "fields") {
          return items.length ? t("找到 %(n)s 个数据项，勾选后选入本次填报。", { n: items.length })
                              : t("数据目录中没有匹配的数据项，可以在下面新增。");
        }
        return items.length ? t("找到 %(n)s 个单位，勾选后加入填报范围。", { n: items.length })
                            : t("在您可以发起的范围内没有找到匹配的单位。");
      }
    });
    input.addEventListener("search-now", function () { search(true); });
    box.querySelector("button[name=step]").addEventListener("click", function (event) {
      event.preventDefault();
      search(true);
    });
  }

  // A refusal of the check, next to the field it names (and the field marked).
  function showFieldError(form, check) {
    form.querySelectorAll("[data-live-error]").forEach(function (node) { node.remove(); });
    form.querySelectorAll("[data-live-invalid]").forEach(function (node) {
      node.removeAttribute("aria-invalid");
      node.removeAttribute("data-live-invalid");
      var before = node.getAttribute("data-described");
      if (before) { node.setAttribute("aria-describedby", before); } else { node.removeAttribute("aria-describedby"); }
    });
    var anchor = check.getAttribute("data-error-anchor");
    var target = anchor && document.getElementById(anchor);
    if (!target) { return; }
    var id = anchor + "-live-error";
    var message = el("p", { "class": "error", id: id, "data-live-error": "" }, check.getAttribute("data-error-message"));
    if (target.tagName === "UL") {
      target.closest("fieldset").before(message);           // a list of choices: above it
    } else {
      (target.closest(".field") || target.parentNode).appendChild(message);
    }
    if (/^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName)) {
      target.setAttribute("data-described", target.getAttribute("aria-describedby") || "");
      target.setAttribute("aria-describedby", id);
      target.setAttribute("aria-invalid", "true");
      target.setAttribute("data-live-invalid", "");
    }
  }

  function setupCompose(form) {
    var labels = JSON.parse(form.getAttribute("data-labels") || "{}");
    var region = form.querySelector("[data-check-region]");
    var fieldList = document.getElementById("d-field-list");
    var unitList = document.getElementById("d-unit-list");
    var period = form.querySelector("input[name=period]");

    // Enter in a one-line field must not send the request (or run a search by surprise).
    form.addEventListener("keydown", function (event) {
      var target = event.target;
      if (event.key !== "Enter" || target.tagName !== "INPUT" || target.type === "checkbox") { return; }
      event.preventDefault();
      if (target.type === "search") { target.dispatchEvent(new Event("search-now")); }
    });

    Hub.linkSubtreeTicks(form, "#d-unit-list li[data-choice]");
    form.querySelectorAll("[data-search]").forEach(function (box) {
      var units = box.getAttribute("data-search") === "units";
      setupSearch(form, box, units ? unitList : fieldList, units ? function (item) {
        return Hub.audienceChoice("d", "units", item, item.trail);
      } : fieldChoice(labels));
    });

    // ---- The check: the server's fragment, asked again whenever the scope changes.
    var asked = null;
    function scope() {
      var body = new URLSearchParams();
      body.append("csrf_token", Hub.csrf);
      body.append("period", period.value.trim());
      ["field_ids", "unit_ids", "subtree_ids"].forEach(function (name) {
        form.querySelectorAll('input[name="' + name + '"]:checked').forEach(function (box) {
          body.append(name, box.value);
        });
      });
      return body;
    }

    function check(now) {
      var body = scope();
      var key = body.toString();
      if (key === asked && now !== true) { return; }
      asked = key;
      region.setAttribute("aria-busy", "true");
      fetch(form.getAttribute("data-check-url"), {
        method: "POST", body: body, credentials: "same-origin",
        headers: { Accept: "text/html", "X-CSRFToken": Hub.csrf }
      }).then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      }).then(function (html) {
        if (asked !== key) { return; }                 // a newer check is under way
        var template = document.createElement("template");
        template.innerHTML = html;
        var fresh = template.content.querySelector("[data-check]");
        region.querySelector("[data-check]").replaceWith(fresh);
        region.removeAttribute("aria-busy");
        showFieldError(form, fresh);
      }).catch(function () {
        asked = null;
        region.removeAttribute("aria-busy");
        var current = region.querySelector("[data-check]");
        current.textContent = "";
        current.appendChild(el("p", { "class": "error" }, t("暂时无法核对，请点“核对”重试。")));
      });
    }

    var soon = Hub.debounce(check, 400);
    fieldList.addEventListener("change", soon);
    unitList.addEventListener("change", soon);
    period.addEventListener("input", Hub.debounce(check, 700));
    period.addEventListener("change", soon);
    form.querySelector("[data-check-button]").addEventListener("click", function (event) {
      event.preventDefault();
      check(true);
    });
  }

  document.querySelectorAll("form[data-data-compose]").forEach(setupCompose);
})();
