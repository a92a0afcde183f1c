"""Two-arm paired comparisons (``outsidein compare``) and their handout."""
