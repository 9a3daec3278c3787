"""Documents rendered from the symbolic model (text, LaTeX/PDF, HTML, Markdown)."""
