// The dashboard's bar chart: tasks by lead partner (the table under it holds the same figures).
(function () {
  // A partner's name cut to fit beside its bar on a phone; the tooltip and the table give it whole.
  function shortName(value) {
    var name = this.getLabelForValue(value);
    return name.length > 18 ? name.slice(0, 17) + "…" : name;
  }
  document.querySelectorAll("canvas.portal-bars").forEach(function (canvas) {
    var data = JSON.parse(canvas.dataset.bars);
    var colours = ["#00703c", "#f47738", "#d4351c"];
    new Chart(canvas, {
      type: "bar",
      data: { labels: data.labels, datasets: data.series.map(function (s, i) {
        return { label: s.label, data: s.values, backgroundColor: colours[i % colours.length] };
      }) },
      options: { animation: false, responsive: true, maintainAspectRatio: false, indexAxis: "y",
                 scales: { x: { stacked: true, ticks: { precision: 0 } }, y: { stacked: true, ticks: { callback: shortName } } },
                 plugins: { legend: { display: true, position: "bottom", labels: { boxWidth: 12 } } } }
    });
  });
})();
