"""The notebook front: magics, their argument parsing, what a cell displays and the widgets (the only wing that
imports IPython or ipywidgets)."""
