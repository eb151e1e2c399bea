/* Admin pages: the live unit pickers. (The lazily loaded org tree is shared
 * with the directory: static/js/hub.js.)
 *
 * Progressive enhancement only: without this script every picker is a GET form
 * that reloads the page with the candidates. No framework, no CDN.
 */
(function () {
  "use strict";

  var el = Hub.el, t = Hub.t;

  function setupPicker(form) {
    var status = form.querySelector("[data-picker-status]");
    var selects = (form.getAttribute("data-targets") || "").split(/\s+/)
      .map(function (id) { return document.getElementById(id); })
      .filter(Boolean);

    function fill(items) {
      selects.forEach(function (select) {
        var chosen = select.value;
        Array.prototype.slice.call(select.options).forEach(function (option, index) {
          if (index > 0 && !option.hasAttribute("data-keep")) { option.remove(); }
        });
        var kept = Array.prototype.map.call(select.options, function (o) { return o.value; });
        items.forEach(function (unit) {
          if (kept.indexOf(String(unit.id)) !== -1) { return; }
          var text = t("%(name)s（%(code)s）", { name: unit.name, code: unit.code }) + (unit.trail ? " — " + unit.trail : "");
          select.appendChild(el("option", { value: unit.id }, text));
        });
        select.options[0].textContent = select.options.length > 1 ? t("请选择") : t("请先在上方查找单位");
        select.value = chosen;
        if (select.value !== chosen) { select.value = ""; }
        var details = select.closest("details");
        if (details && items.length) { details.open = true; }
      });
    }

    function find(term) {
      var url = form.getAttribute("data-picker-url") + "?q=" + encodeURIComponent(term);
      if (form.hasAttribute("data-exclude")) { url += "&exclude=" + form.getAttribute("data-exclude"); }
      return Hub.getJSON(url).then(function (page) { return page.items; });
    }

    var search = Hub.liveSearch(form.querySelector("input[type=search]"), status, {
      find: find,
      empty: function () { fill([]); },
      found: function (items) {
        fill(items);
        return items.length ? t("找到 %(n)s 个单位，已列入下方的选择框。", { n: items.length })
                            : t("没有找到匹配的单位。");
      }
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      search(true);
    });
  }

  document.querySelectorAll("form.picker-search").forEach(setupPicker);
})();
