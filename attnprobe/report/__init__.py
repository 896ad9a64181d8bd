"""Reports: text, figures and the HTML page. Never imports torch."""
