"""Sweeps: specs, designs, the sweep itself, its store, analysis, figures and reports."""
