// A small trend chart per indicator: the values against the trajectory to the target.
(function () {
  document.querySelectorAll("canvas.portal-trend").forEach(function (canvas) {
    var data = JSON.parse(canvas.dataset.trend);
    new Chart(canvas, {
      type: "line",
      data: { labels: data.labels, datasets: [
        { label: "Value (annualised)", data: data.values, borderColor: "#1d70b8", backgroundColor: "#1d70b8", pointRadius: 3 },
        { label: "Trajectory", data: data.trajectory, borderColor: "#505a5f", borderDash: [6, 4], pointRadius: 0 }
      ] },
      options: { animation: false, responsive: true, maintainAspectRatio: false,
                 plugins: { legend: { display: true, position: "bottom", labels: { boxWidth: 12 } } } }
    });
  });
})();
