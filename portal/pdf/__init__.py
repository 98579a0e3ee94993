"""PDF documents of the platform (reportlab platypus, DejaVu fonts embedded).

``base`` holds what every document shares: fonts, styles, the A4 page template with its
running header and footer, "Page N sur M", the PDF outline. One module per document renders a
read model already loaded from the database into bytes; none of them touches the database.
"""
