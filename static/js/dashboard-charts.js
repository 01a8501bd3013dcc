// The dashboard's bar chart: tasks by lead partner (the table under it holds the same figures).
(function () {
  document.querySelectorAll("canvas.portal-bars").forEach(function (canvas) {
    var data = JSON.parse(canvas.dataset.bars);
    var colours = ["#00703c", "#f47738", "#d4351c"];
    new Chart(canvas, {
      type: "bar",
      data: { labels: data.labels, datasets: data.series.map(function (s, i) {
        return { label: s.label, data: s.values, backgroundColor: colours[i % colours.length] };
      }) },
      options: { animation: false, responsive: true, maintainAspectRatio: false, indexAxis: "y",
                 scales: { x: { stacked: true, ticks: { precision: 0 } }, y: { stacked: true } },
                 plugins: { legend: { display: true, position: "bottom", labels: { boxWidth: 12 } } } }
    });
  });
})();
