// The workbench's only script: search on 总览, drag-and-drop on 收件. No libraries.
(function () {
  "use strict";
  var search = document.getElementById("search");
  if (search) {
    var rows = document.querySelectorAll("#roster tbody tr");
    var shown = document.getElementById("shown");
    search.addEventListener("input", function () {
      var q = search.value.trim().toLowerCase();
      var n = 0;
      rows.forEach(function (tr) {
        var hit = !q || tr.textContent.toLowerCase().indexOf(q) >= 0;
        tr.classList.toggle("hidden", !hit);
        if (hit) { n += 1; }
      });
      shown.textContent = q ? "显示 " + n + " / " + rows.length + " 个单位" : "";
    });
  }
  var drop = document.getElementById("drop");
  var input = document.getElementById("files");
  if (drop && input) {
    var picked = document.getElementById("picked");
    var show = function () {
      var names = Array.prototype.map.call(input.files, function (f) { return f.name; });
      picked.textContent = names.length ? "已选择 " + names.length + " 个文件：" + names.join("、") : "未选择文件";
    };
    input.addEventListener("change", show);
    ["dragenter", "dragover"].forEach(function (ev) {
      drop.addEventListener(ev, function (e) { e.preventDefault(); drop.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (ev) {
      drop.addEventListener(ev, function (e) { e.preventDefault(); drop.classList.remove("over"); });
    });
    drop.addEventListener("drop", function (e) {
      var dt = new DataTransfer();
      Array.prototype.forEach.call(input.files, function (f) { dt.items.add(f); });
      Array.prototype.forEach.call(e.dataTransfer.files, function (f) { dt.items.add(f); });
      input.files = dt.files;
      show();
    });
    document.getElementById("upload-form").addEventListener("submit", function () {
      var b = document.getElementById("send");
      b.disabled = true;
      b.textContent = "正在收取和校验，请稍候…";
    });
  }
})();
