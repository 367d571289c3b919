// Progressive enhancement of the county choice: a select of counties grouped by prefecture
// (which works without JavaScript) becomes two cascading selects, prefecture then county.
(function () {
  "use strict";
  var county = document.getElementById("id_county");
  if (!county || county.dataset.cascade === "on") { return; }
  var groups = county.querySelectorAll("optgroup");
  if (groups.length < 2) { return; }
  county.dataset.cascade = "on";
  var lang = document.documentElement.lang || "zh-hans";
  var label = lang.indexOf("zh") === 0 ? "市（州）" : "Prefecture";
  var wrapper = document.createElement("div");
  wrapper.className = "field";
  var prefLabel = document.createElement("label");
  prefLabel.setAttribute("for", "id_prefecture");
  prefLabel.textContent = label;
  var pref = document.createElement("select");
  pref.id = "id_prefecture";
  pref.setAttribute("data-testid", "prefecture-select");
  var blank = document.createElement("option");
  blank.value = "";
  blank.textContent = "---------";
  pref.appendChild(blank);
  var byGroup = {};
  groups.forEach(function (g, i) {
    var opt = document.createElement("option");
    opt.value = String(i);
    opt.textContent = g.label;
    pref.appendChild(opt);
    byGroup[i] = Array.prototype.map.call(g.querySelectorAll("option"), function (o) {
      return { value: o.value, text: o.textContent, selected: o.selected };
    });
  });
  wrapper.appendChild(prefLabel);
  wrapper.appendChild(pref);
  county.closest(".field").before(wrapper);

  function fill(index, keep) {
    county.innerHTML = "";
    var first = document.createElement("option");
    first.value = "";
    first.textContent = "---------";
    county.appendChild(first);
    (byGroup[index] || []).forEach(function (o) {
      var opt = document.createElement("option");
      opt.value = o.value;
      opt.textContent = o.text;
      if (keep && o.selected) { opt.selected = true; }
      county.appendChild(opt);
    });
  }
  var selectedGroup = "";
  Object.keys(byGroup).forEach(function (i) {
    if (byGroup[i].some(function (o) { return o.selected && o.value; })) { selectedGroup = i; }
  });
  pref.value = selectedGroup;
  fill(selectedGroup, true);
  pref.addEventListener("change", function () { fill(pref.value, false); });
})();
