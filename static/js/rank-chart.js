// Rank-over-time chart of the Community Survey: one line per topic, rank 1 at the top.
(function () {
  var data = JSON.parse(document.getElementById("rank-data").textContent);
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
      scales: { y: { reverse: true, min: 1, ticks: { stepSize: 1, precision: 0 }, title: { display: true, text: "Rank" } } },
      plugins: { legend: { position: "bottom" } }
    }
  });
})();
