// Polls the import's state and moves the progress bar until it is done, or offers a retry if it failed.
(function () {
  var box = document.getElementById("import-progress");
  var bar = document.getElementById("import-bar");
  var message = document.getElementById("import-message");
  var retry = document.getElementById("import-retry");
  function poll() {
    fetch(box.dataset.statusUrl).then(function (r) { return r.json(); }).then(function (s) {
      bar.value = s.percent;
      if (s.state === "running") message.textContent = "Importing " + s.file + ": " + s.percent + "%";
      if (s.state === "done") {
        message.textContent = "Done: " + s.rows.toLocaleString("en-GB") + " rows imported, " +
          s.unmatched.toLocaleString("en-GB") + " matched no locality." +
          (s.errors && s.errors.length ? " Refused: " + s.errors.join(" ") : "") +
          (s.notes && s.notes.length ? " Data quality: " + s.notes.join(" ") : "");
        return;
      }
      if (s.state === "failed") { message.textContent = s.errors.join(" "); retry.hidden = false; return; }
      setTimeout(poll, 1000);
    }, function () { setTimeout(poll, 5000); });  // the server is briefly unreachable: keep asking
  }
  if (retry.hidden) poll();
})();
