"""The pattern suite: the catalog of claims as data, their statistics, the suite and its reports."""
