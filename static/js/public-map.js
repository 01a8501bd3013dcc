// Markers for the public map: fetched as compact points, clustered, coloured by status.
// A popup's text is fetched when it opens, so the page stays small with 10,000 concerns.
(function () {
  var box = document.getElementById("public-map");
  var map = window[box.dataset.mapName];
  var status = document.getElementById("map-status");
  var LABELS = { raised: "Raised", in_hand: "In hand", responded: "Responded", no_further_action: "No further action",
                 escalated: "Passed to the county group" };

  function icon(state) {
    return L.divIcon({ className: "portal-marker portal-dot portal-dot--" + state, iconSize: [16, 16],
                       html: '<span class="govuk-visually-hidden">' + LABELS[state] + "</span>" });
  }
  function text(value) { var span = document.createElement("span"); span.textContent = value; return span.innerHTML; }
  function date(iso) {
    return iso ? new Date(iso + "T12:00:00").toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric" }) : "";
  }
  function popup(r) {
    return '<div class="portal-popup"><p class="govuk-body-s"><strong>' + text(r.category) + "</strong>, " + text(r.locality) +
      ' <span class="portal-popup__status">' + LABELS[r.status] + "</span></p>" +
      '<p class="govuk-body-s"><strong>You said</strong> (' + date(r.raised_on) + "): " + text(r.you_said) + "</p>" +
      (r.we_did || !r.reason ? '<p class="govuk-body-s"><strong>We did</strong>' + (r.responded_on ? " (" + date(r.responded_on) + ")" : "") + ": " +
      text(r.we_did || "We are working on it.") + "</p>" : "") +
      (r.reason ? '<p class="govuk-body-s"><strong>' + LABELS[r.status] + "</strong>" + (r.decided_on ? " (" + date(r.decided_on) + ")" : "") +
      ": " + text(r.reason) + "</p>" : "") +
      // The question is asked on the item's own page, which carries the form's token (feedback/views.py).
      (r.we_did ? '<p class="govuk-body-s"><a class="govuk-link" href="' +
        text(box.dataset.feedbackUrl.replace("/0/", "/" + r.id + "/")) + '">Has this made a difference? Tell us</a></p>' : "") +
      "</div>";
  }

  fetch(box.dataset.pointsUrl, { headers: { Accept: "application/json" } })
    .then(function (response) { return response.json(); })
    .then(function (data) {
      var cluster = L.markerClusterGroup({ maxClusterRadius: 50, spiderfyOnMaxZoom: true, showCoverageOnHover: false });
      var count = 0;
      data.points.forEach(function (point) {
        point[2].forEach(function (item) {
          var marker = L.marker([point[0], point[1]], { icon: icon(item[1]), keyboard: true, title: LABELS[item[1]] });
          marker.bindPopup("Loading…");
          marker.on("popupopen", function (event) {
            fetch(box.dataset.concernUrl.replace("/0.json", "/" + item[0] + ".json"))
              .then(function (r) { return r.json(); })
              .then(function (r) { event.popup.setContent(popup(r)); });
          });
          cluster.addLayer(marker);
          count += 1;
        });
      });
      map.addLayer(cluster);
      if (count > 0) map.fitBounds(cluster.getBounds(), { maxZoom: 13, padding: [30, 30] });
      box.dataset.markers = String(count);
      status.textContent = count + (count === 1 ? " concern" : " concerns") + " on the map.";
    })
    .catch(function () { status.textContent = "The markers could not be loaded. The list has the same information."; });
})();
