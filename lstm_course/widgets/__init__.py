"""Interactive ipywidgets controls for the lectures, where exploring beats reading.

ipywidgets and matplotlib are imported inside the functions, so importing this package is
cheap. Each widget is built from plain functions that compute what it shows; tests call those.
"""
