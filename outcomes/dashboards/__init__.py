"""Outcome dashboards: Plotly figures built from stored statistics runs, never computed in
a request. `results` reads stored result JSON (the only module that knows its keys),
`figures` turns what it reads into plotly.js figure dicts, `sources` finds the runs a page
shows (and asks for fresh ones), `views` puts them on pages."""
