// Barcode intake: a keyboard-wedge scanner types the code and Enter into the focused
// field (a plain form submit); a phone reads it with the camera where the browser has
// the BarcodeDetector API (no library: the button stays hidden elsewhere).
(function () {
  "use strict";
  var form = document.getElementById("hd-intake-form");
  var input = document.getElementById("hd-code");
  var button = document.getElementById("hd-camera");
  var video = document.getElementById("hd-video");
  if (!form || !input) { return; }
  // ready for the next scan: the field keeps the focus with its text selected
  input.focus();
  input.select();
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices || !button) { return; }
  button.classList.remove("d-none");
  var stream = null;
  function stop() {
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }
    stream = null;
    video.classList.add("d-none");
  }
  button.addEventListener("click", function () {
    if (stream) { stop(); return; }
    var detector = new window.BarcodeDetector();
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } })
      .then(function (s) {
        stream = s;
        video.srcObject = s;
        video.classList.remove("d-none");
        return video.play();
      })
      .then(function tick() {
        if (!stream) { return; }
        detector.detect(video).then(function (codes) {
          if (codes.length && codes[0].rawValue) {
            input.value = codes[0].rawValue;
            stop();
            form.submit();
          } else {
            window.requestAnimationFrame(tick);
          }
        }, function () { window.requestAnimationFrame(tick); });
      })
      .catch(function () { stop(); });
  });
})();
