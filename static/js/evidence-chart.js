// A task's before and after by month: its place (left axis) beside the rest of its area (right axis, larger).
// A month without police data is a gap in the line, never a zero.
(function () {
  document.querySelectorAll("canvas.portal-evidence-chart").forEach(function (canvas) {
    var data = JSON.parse(canvas.dataset.evidence);
    new Chart(canvas, {
      type: "line",
      data: { labels: data.labels, datasets: [
        { label: data.here_label, data: data.here, borderColor: "#1d70b8", backgroundColor: "#1d70b8",
          pointRadius: 3, spanGaps: false, yAxisID: "y" },
        { label: data.rest_label + " (right axis)", data: data.rest, borderColor: "#505a5f", borderDash: [6, 4],
          pointRadius: 2, spanGaps: false, yAxisID: "y1" }
      ] },
      options: { animation: false, responsive: true, maintainAspectRatio: false,
                 scales: { y: { beginAtZero: true, position: "left" },
                           y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } } },
                 plugins: { legend: { display: true, position: "bottom", labels: { boxWidth: 12 } } } }
    });
  });
})();
