"""Result objects rendered as JSON, HTML, Markdown, CSV tables and figures."""
