// Optional map point for a concern: tap the map or use the phone's location.
// Progressive enhancement: without JavaScript the latitude/longitude fields still work.
(function () {
  var SHROPSHIRE = [52.71, -2.75];
  document.querySelectorAll("[data-point-picker]").forEach(function (details) {
    var lat = details.querySelector("input[name$='lat']");
    var lon = details.querySelector("input[name$='lon']");
    var box = details.querySelector(".portal-point-map");
    details.querySelectorAll(".portal-js-only").forEach(function (el) { el.hidden = false; });
    var map = null, marker = null;
    function place(latlng) {
      lat.value = latlng.lat.toFixed(5);
      lon.value = latlng.lng.toFixed(5);
      if (marker) marker.setLatLng(latlng); else marker = L.marker(latlng).addTo(map);
    }
    details.addEventListener("toggle", function () {
      if (!details.open || map || typeof L === "undefined") return;
      box.hidden = false;
      var start = lat.value && lon.value ? [parseFloat(lat.value), parseFloat(lon.value)] : SHROPSHIRE;
      map = L.map(box, { maxZoom: 18 }).setView(start, lat.value ? 16 : 9);
      var tiles = document.body.dataset.tileUrl;
      if (tiles) L.tileLayer(tiles, { maxZoom: 18, attribution: document.body.dataset.tileAttribution || "" }).addTo(map);
      if (lat.value && lon.value) place(L.latLng(start));
      map.on("click", function (e) { place(e.latlng); });
    });
    var locate = details.querySelector("[data-use-location]");
    if (locate && navigator.geolocation) locate.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (pos) {
        var latlng = L.latLng(pos.coords.latitude, pos.coords.longitude);
        if (map) { place(latlng); map.setView(latlng, 16); }
        else { lat.value = latlng.lat.toFixed(5); lon.value = latlng.lng.toFixed(5); }
      });
    });
  });
})();
