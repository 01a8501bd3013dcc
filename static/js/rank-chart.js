// Rank-over-time chart of the Community Survey: one line per topic, rank 1 at the top.
(function () {
  var data = JSON.parse(document.getElementById("rank-data").textContent);
  var maxRank = Math.max.apply(null, Object.keys(data.ranks).map(Number));
  var colours = ["#1d70b8", "#d4351c", "#00703c", "#f47738", "#4c2c92", "#b58840", "#28a197"];
  var picker = document.getElementById("survey-choice");
  if (picker) picker.addEventListener("change", function () {
    var parts = picker.value.split("|");
    window.location.search = "?survey=" + encodeURIComponent(parts[0]) + "&area=" + parts[1];
  });
  new Chart(document.getElementById("rank-chart"), {
    type: "line",
    data: {
      labels: data.periods,
      datasets: data.series.map(function (s, i) {
        return { label: s.topic, data: s.ranks, borderColor: colours[i % colours.length],
                 backgroundColor: colours[i % colours.length], spanGaps: false, tension: 0, pointRadius: 5 };
      })
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      scales: { y: { reverse: true, min: 0.5, max: maxRank + 0.5, title: { display: true, text: "Rank" },
                     // one tick per rank, not at the half-rank padding
                     afterBuildTicks: function (axis) {
                       axis.ticks = Array.from({ length: maxRank }, function (_, i) { return { value: i + 1 }; });
                     } } },
      animation: false,
      plugins: { legend: { position: "bottom" } }
    }
  });
})();
