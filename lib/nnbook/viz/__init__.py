"""Figures: one style and palette (``plots``), graph drawing (``graph``), and the
interactive player (``player``)."""
