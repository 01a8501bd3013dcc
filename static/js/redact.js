// Redacting a concern: words selected in one of the texts shown fill in "Words to remove" and choose that
// text, exactly as they are written. Without JavaScript the words are typed or pasted instead.
(function () {
  var input = document.getElementById("text");
  if (!input) return;
  function take() {
    var selection = window.getSelection();
    if (!selection || selection.isCollapsed) return;
    var node = selection.anchorNode && (selection.anchorNode.nodeType === 1 ? selection.anchorNode : selection.anchorNode.parentElement);
    var source = node && node.closest(".portal-redact-source");
    if (!source || !source.contains(selection.focusNode)) return;
    var words = selection.toString();
    if (!words.trim()) return;
    input.value = words;
    var radio = document.querySelector('input[name="field"][value="' + source.dataset.field + '"]');
    if (radio) radio.checked = true;
  }
  document.querySelectorAll(".portal-redact-source").forEach(function (source) {
    source.addEventListener("mouseup", take);
    source.addEventListener("keyup", take);
    source.setAttribute("tabindex", "0");
  });
})();
