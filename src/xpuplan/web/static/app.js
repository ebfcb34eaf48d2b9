// Draw each chart the server embedded (data-figure: a Plotly {data, layout} object), filter
// catalog tables as the user types, and POST a form (multipart) once a config.json is chosen.
document.addEventListener("DOMContentLoaded", () => {
  for (const el of document.querySelectorAll(".chart[data-figure]")) {
    const fig = JSON.parse(el.dataset.figure);
    Plotly.newPlot(el, fig.data, fig.layout, {responsive: true, displaylogo: false});
  }
  for (const input of document.querySelectorAll("input[name=config_file]")) {
    input.addEventListener("change", () => {
      input.form.method = input.files.length ? "post" : "get";
    });
  }
  const example = document.getElementById("example");
  if (example) {
    example.addEventListener("change", () => {
      example.form.querySelector("textarea[name=scenario]").value = "";
      example.form.submit();
    });
  }
  const filter = document.querySelector("input.filter");
  if (filter) {
    filter.addEventListener("input", () => {
      const q = filter.value.trim().toLowerCase();
      for (const row of document.querySelectorAll("table.filterable tbody tr")) {
        row.hidden = q !== "" && !row.textContent.toLowerCase().includes(q);
      }
    });
  }
});
