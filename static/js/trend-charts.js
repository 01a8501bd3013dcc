// A small trend chart per indicator: the values against the trajectory to the target.
(function () {
  document.querySelectorAll("canvas.portal-trend").forEach(function (canvas) {
    var data = JSON.parse(canvas.dataset.trend);
    new Chart(canvas, {
      type: "line",
      data: { labels: data.labels, datasets: [
        // Provisional points (fewer months of data than the period has) are hollow, on a dashed line.
        { label: "Value (annualised; hollow = provisional)", data: data.values, borderColor: "#1d70b8",
          backgroundColor: "#1d70b8", pointRadius: 3,
          pointBackgroundColor: (data.provisional || []).map(function (p) { return p ? "#ffffff" : "#1d70b8"; }),
          segment: { borderDash: function (ctx) { return (data.provisional || [])[ctx.p1DataIndex] ? [3, 3] : undefined; } } },
        { label: "Trajectory", data: data.trajectory, borderColor: "#505a5f", borderDash: [6, 4], pointRadius: 0 }
      ] },
      options: { animation: false, responsive: true, maintainAspectRatio: false,
                 plugins: { legend: { display: true, position: "bottom", labels: { boxWidth: 12 } } } }
    });
  });
})();
