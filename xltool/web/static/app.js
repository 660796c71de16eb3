// The workbench's only script (no libraries, no network beyond this server): search on 总览,
// files and folders dropped on 收件, progress of background work, and a watch on the state so
// that two tabs show the same thing.
(function () {
  "use strict";
  var body = document.body;
  var getJSON = function (url, ok, fail) {
    var x = new XMLHttpRequest();
    x.open("GET", url);
    x.setRequestHeader("Accept", "application/json");
    x.onload = function () {
      if (x.status === 200) { ok(JSON.parse(x.responseText)); } else if (fail) { fail(x.status); }
    };
    x.onerror = function () { if (fail) { fail(0); } };
    x.send();
  };

  // 总览: search
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

  // every page: the state version; a change made elsewhere (another tab, a background job)
  // reloads 总览 (when nobody is typing) and shows a notice on the other pages
  var version = body.getAttribute("data-version");
  var busy = document.getElementById("busy");
  if (version !== null) {
    var typing = function () {
      var a = document.activeElement;
      var t = a && (a.tagName === "INPUT" || a.tagName === "TEXTAREA" || a.tagName === "SELECT");
      return t || (search && search.value);
    };
    var watch = function () {
      getJSON("/state", function (s) {
        if (busy) {
          if (s.job) {
            busy.hidden = false;
            busy.innerHTML = "";
            var a = document.createElement("a");
            a.href = "/job/" + s.job.id;
            a.textContent = "后台：" + s.job.title + "，" + s.job.text;
            busy.appendChild(a);
          } else {
            busy.hidden = true;
          }
        }
        if (String(s.version) !== version) {
          if (body.getAttribute("data-autoreload") && !typing()) {
            window.location.reload();
            return;
          }
          document.getElementById("stale").hidden = false;
        }
        window.setTimeout(watch, s.job ? 1000 : 2000);
      }, function () { window.setTimeout(watch, 5000); });
    };
    window.setTimeout(watch, 1000);
  }

  // a background job's page: its progress until it has finished, then the result
  var job = document.getElementById("job");
  if (job) {
    var id = job.getAttribute("data-job");
    var bar = document.getElementById("job-bar");
    var poll = function () {
      getJSON("/jobs/" + id, function (j) {
        document.getElementById("job-text").textContent = j.text;
        document.getElementById("job-seconds").textContent = j.seconds;
        if (j.total) { bar.value = Math.round(100 * j.done / j.total); } else { bar.removeAttribute("value"); }
        if (!j.running) { window.location.reload(); return; }
        window.setTimeout(poll, 400);
      }, function () { window.setTimeout(poll, 2000); });
    };
    window.setTimeout(poll, 200);
  }

  // 收件: files, zips and whole folders (dropped or chosen); everything goes to the server,
  // which puts every file through the same guard as `xltool receive`
  var collect = function (entries, done) {
    // DataTransferItem.webkitGetAsEntry() entries → File objects, folders walked recursively
    var files = [];
    var pending = 0;
    var finish = function () { pending -= 1; if (pending === 0) { done(files); } };
    var walk = function (entry) {
      pending += 1;
      if (entry.isFile) {
        entry.file(function (f) { files.push(f); finish(); }, finish);
      } else if (entry.isDirectory) {
        var reader = entry.createReader();
        var more = function () {  // readEntries gives at most ~100 entries a call: until empty
          reader.readEntries(function (list) {
            if (!list.length) { finish(); return; }
            Array.prototype.forEach.call(list, walk);
            more();
          }, finish);
        };
        more();
      } else {
        finish();
      }
    };
    pending += 1;
    Array.prototype.forEach.call(entries, walk);
    finish();
  };
  window.xltoolCollect = collect;  // tried in Chromium by tests/test_web_browser.py

  var drop = document.getElementById("drop");
  var input = document.getElementById("files");
  var folder = document.getElementById("folder");
  if (drop && input) {
    var picked = document.getElementById("picked");
    var show = function () {
      var all = Array.prototype.slice.call(input.files).concat(folder ? Array.prototype.slice.call(folder.files) : []);
      var names = all.map(function (f) { return f.webkitRelativePath || f.name; });
      var list = names.length > 20 ? names.slice(0, 20).join("、") + " 等" : names.join("、");
      picked.textContent = names.length ? "已选择 " + names.length + " 个文件：" + list : "未选择文件";
    };
    var add = function (files) {
      var dt = new DataTransfer();
      Array.prototype.forEach.call(input.files, function (f) { dt.items.add(f); });
      files.forEach(function (f) { dt.items.add(f); });
      input.files = dt.files;
      show();
    };
    window.xltoolAdd = add;
    input.addEventListener("change", show);
    if (folder) { folder.addEventListener("change", show); }
    ["dragenter", "dragover"].forEach(function (ev) {
      drop.addEventListener(ev, function (e) { e.preventDefault(); drop.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (ev) {
      drop.addEventListener(ev, function (e) { e.preventDefault(); drop.classList.remove("over"); });
    });
    drop.addEventListener("drop", function (e) {
      var items = e.dataTransfer.items;
      var entries = [];
      if (items) {
        Array.prototype.forEach.call(items, function (it) {
          var en = it.webkitGetAsEntry ? it.webkitGetAsEntry() : null;
          if (en) { entries.push(en); }
        });
      }
      if (entries.length) {
        picked.textContent = "正在读取拖入的文件夹…";
        collect(entries, add);
      } else {
        add(Array.prototype.slice.call(e.dataTransfer.files));
      }
    });
    document.getElementById("upload-form").addEventListener("submit", function () {
      var b = document.getElementById("send");
      b.disabled = true;
      b.textContent = "正在上传，请稍候…";
    });
  }
  var print = document.getElementById("print");
  if (print) { print.addEventListener("click", function () { window.print(); }); }
})();
