"""Static stand-ins for ipywidgets in slides: a deck has no kernel, so widgets cannot run.

A saved notebook keeps each widget's last state in ``metadata.widgets``. Rendering it live needs
the ipywidgets HTML manager (a few MB of JavaScript from a CDN), so instead each widget output
becomes plain HTML from that state:

- a tqdm progress bar (HBox of HTML, FloatProgress, HTML) becomes one line with a <progress>;
- an interactive control becomes a line "name = value, ..." and a note that it is live in
  JupyterLab, followed by what its Output widgets last showed (e.g. the figure at the initial
  slider values, embedded like any other figure);
- a widget whose state was not saved becomes that note alone.
"""

import html
from copy import deepcopy

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
LIVE_NOTE = "interactive in JupyterLab; here: a snapshot of its saved state"
MISSING_NOTE = "interactive widget (state not saved): open the notebook in JupyterLab to use it"
_PROGRESS = ("FloatProgressModel", "IntProgressModel")
_SKIPPED = ("PlayModel", "LayoutModel", "LinkModel", "DirectionalLinkModel")
_MAX_DEPTH = 20  # Output widgets may hold widgets; saved state cannot really nest deeper


def static_widgets(nb):
    """A copy of ``nb`` with every widget output replaced by static outputs (see above).

    The notebook-level widget state is dropped too, so no widget JavaScript is referenced.
    New outputs are plain dicts: pass the result through ``nbformat.from_dict`` to export it.
    """
    nb = deepcopy(nb)
    widgets = nb.get("metadata", {}).pop("widgets", None) or {}
    state = widgets.get(WIDGET_STATE, {}).get("state", {})
    for cell in nb["cells"]:
        if cell.get("cell_type") == "code":
            cell["outputs"] = _replace_outputs(cell.get("outputs", []), state, depth=0)
    return nb


def _replace_outputs(outputs, state, depth):
    replaced = []
    for output in outputs:
        view = output.get("data", {}).get(WIDGET_VIEW)
        if view is None:
            replaced.append(output)
            continue
        model_id = view.get("model_id", "")
        if model_id not in state or depth > _MAX_DEPTH:
            replaced.append(_html_output(f'<div class="lstm-widget-note">{MISSING_NOTE}</div>'))
            continue
        replaced += _static(model_id, state, depth)
    return replaced


def _static(model_id, state, depth):
    """Static outputs for the widget tree rooted at ``model_id``."""
    progress = _progress_line(model_id, state)
    if progress is not None:
        return [_html_output(progress)]
    controls, shown = [], []
    _walk(model_id, state, controls, shown, seen=set())
    lines = []
    if controls:
        items = ", ".join(
            f"<b>{html.escape(name)}</b> = {html.escape(value)}" for name, value in controls
        )
        lines.append(f'<div class="lstm-widget-controls">{items}</div>')
    lines.append(f'<div class="lstm-widget-note">{LIVE_NOTE}</div>')
    outputs = [_html_output("\n".join(lines))]
    for output in shown:
        outputs += _replace_outputs([output], state, depth + 1)
    return outputs


def _walk(model_id, state, controls, shown, seen):
    """Collect (description, value) of each control and the outputs of each Output widget."""
    if model_id in seen or model_id not in state:
        return
    seen.add(model_id)
    model = state[model_id]
    name, fields = model.get("model_name", ""), model.get("state", {})
    if name == "OutputModel":
        shown += fields.get("outputs", [])
    elif name not in _SKIPPED and fields.get("description"):
        value = _value(fields)
        if value is not None:
            controls.append((fields["description"].rstrip(": "), value))
    for child in fields.get("children", []):
        _walk(_ref(child), state, controls, shown, seen)


def _progress_line(model_id, state):
    """One HTML line for a tqdm-style bar (HBox: HTML, progress, HTML), else None."""
    model = state[model_id]
    if model.get("model_name") != "HBoxModel":
        return None
    children = [state.get(_ref(c), {}) for c in model.get("state", {}).get("children", [])]
    bars = [c for c in children if c.get("model_name") in _PROGRESS]
    if len(bars) != 1:
        return None
    parts = []
    for child in children:
        fields = child.get("state", {})
        if child is bars[0]:
            value, top = float(fields.get("value", 0)), float(fields.get("max", 100) or 1)
            parts.append(f'<progress value="{value:g}" max="{top:g}"></progress>')
        elif child.get("model_name") in ("HTMLModel", "LabelModel"):
            # tqdm writes HTML-escaped text into these (e.g. "[00:05&lt;00:00]")
            text = html.unescape(str(fields.get("value", "")))
            parts.append(f"<span>{html.escape(text)}</span>")
    return f'<div class="lstm-widget-progress">{" ".join(parts)}</div>'


def _value(fields):
    """A control's value as short text, or None when it has no value to show."""
    if "_options_labels" in fields and "index" in fields:
        labels, index = fields["_options_labels"], fields["index"]
        if isinstance(index, int) and 0 <= index < len(labels):
            return str(labels[index])
        if isinstance(index, list):  # multiple selection
            return ", ".join(str(labels[i]) for i in index if 0 <= i < len(labels))
        return None
    value = fields.get("value")
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return " to ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in value)
    return None if value is None else str(value)


def _ref(child):
    return child[len("IPY_MODEL_") :] if child.startswith("IPY_MODEL_") else child


def _html_output(markup):
    return {
        "output_type": "display_data",
        "data": {"text/html": markup, "text/plain": "[widget snapshot]"},
        "metadata": {},
    }
